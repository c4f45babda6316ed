"""``python -m medai``; see :mod:`medai.cli`."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from medai.cli import main  # noqa: E402  TensorFlow reads the log level at import

# Guarded, so that importing this module (a tool, a worker process) never runs the CLI.
if __name__ == "__main__":
    sys.exit(main())
