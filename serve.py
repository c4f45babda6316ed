"""Serve MedAI Workbench (``make run``): ``python serve.py [streamlit run options]``.

The same as ``streamlit run app.py [options]``, except that the server opens its port (and answers
its health check) once the models of the first Diagnose result are loaded: TensorFlow's import and
the model loads are seconds of Python that, run beside the first page view, slowed both (one
interpreter lock, 2 cores). The remaining work — tracing graphs, the other pages' models — goes on
in the background once no request is running; the sidebar shows it. ``MEDAI_PRELOAD=0`` turns all of
this off (each model then loads when a page first needs it).

Without sign-in (demo mode) it listens on 127.0.0.1 only, so a demo is not open to the whole network;
configure sign-in, or pass ``--server.address`` (or set ``STREAMLIT_SERVER_ADDRESS``), to serve others.
"""

import os
import sys
import time
import tomllib
from pathlib import Path
from typing import Mapping, Sequence

from streamlit.web import cli

from medai import auth, config
from pages.common import warm_up

SECRETS = Path(__file__).with_name(".streamlit") / "secrets.toml"


def listen_options(argv: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """``--server.address 127.0.0.1`` in demo mode unless an address is given; nothing otherwise."""
    if any(arg.startswith("--server.address") for arg in argv) or environ.get("STREAMLIT_SERVER_ADDRESS"):
        return []
    secrets = tomllib.loads(SECRETS.read_text()) if SECRETS.is_file() else {}
    return [] if auth.config_from(secrets, environ).required else ["--server.address", "127.0.0.1"]

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
    listen = listen_options(sys.argv[1:], os.environ)
    if listen:
        print("MedAI Workbench: demo mode (no sign-in), so it listens on this computer only (127.0.0.1). "
              "Configure sign-in (README, 'Sign-in') or pass --server.address to serve others.", flush=True)
    cli.main(["run", str(Path(__file__).with_name("app.py")), *listen, *sys.argv[1:]], prog_name="streamlit")
