"""Serve MedAI Workbench (``make run``): ``python serve.py [streamlit run options]``.

The same as ``streamlit run app.py [options]``, except that the server opens its port (and answers
its health check) once the models of the first Diagnose result are loaded: TensorFlow's import and
the model loads are seconds of Python that, run beside the first page view, slowed both (one
interpreter lock, 2 cores). The remaining work — tracing graphs, the other pages' models — goes on
in the background once no request is running; the sidebar shows it. ``MEDAI_PRELOAD=0`` turns all of
this off (each model then loads when a page first needs it).
"""

import sys
import time
from pathlib import Path

from streamlit.web import cli

from medai import config
from pages.common import warm_up

if __name__ == "__main__":
    began = time.monotonic()
    print("MedAI Workbench: " + ("loading the Diagnose models…" if config.preload()
                                 else "starting (MEDAI_PRELOAD=0: each model loads on first use)…"), flush=True)
    warm = warm_up()
    import pandas  # noqa: F401,E402  the pages' heavier libraries, imported now instead of at the first view
    import plotly.graph_objects  # noqa: F401,E402

    warm.first_ready.wait(timeout=300)
    failed = ", ".join(sorted(warm.failures)) or "none"
    print(f"MedAI Workbench: ready to serve after {time.monotonic() - began:.1f} s (models failed: {failed}).",
          flush=True)
    cli.main(["run", str(Path(__file__).with_name("app.py")), *sys.argv[1:]], prog_name="streamlit")
