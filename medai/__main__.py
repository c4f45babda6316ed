"""``python -m medai``; see :mod:`medai.cli`."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from medai.cli import main  # noqa: E402  TensorFlow reads the log level at import

TENSORFLOW_COMMANDS = frozenset({"diagnose", "segment", "train"})


def import_keras_quietly() -> None:
    """Import Keras (and TensorFlow) with the process's error stream closed.

    TensorFlow's native code writes lines at import ("oneDNN custom operations are on", absl's "All log
    messages before absl::InitializeLog()") that no setting silences; in a batch job they read as
    warnings among the CLI's own messages. A failed import still raises, after the stream is back.
    """
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import keras  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


# Guarded, so that importing this module (a tool, a worker process) never runs the CLI.
if __name__ == "__main__":
    if TENSORFLOW_COMMANDS.intersection(sys.argv[1:2]):
        import_keras_quietly()
    sys.exit(main())
