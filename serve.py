"""Serve MedAI Workbench (``make run``): ``python serve.py [streamlit run options]``.

The same as ``streamlit run app.py [options]``, except that the server opens its port (and answers
its health check) once the models of the first Diagnose result are loaded: TensorFlow's import and
the model loads are seconds of Python that, run beside the first page view, slowed both (one
interpreter lock, 2 cores). The remaining work — tracing graphs, the other pages' models — goes on
in the background once no request is running; the sidebar shows it. ``MEDAI_PRELOAD=0`` turns all of
this off (each model then loads when a page first needs it).

Without sign-in (demo mode) it listens on 127.0.0.1 only, so a demo is not open to the whole network;
configure sign-in, or pass ``--server.address`` (or set ``STREAMLIT_SERVER_ADDRESS``), to serve others.
It first checks the settings (a mistyped one stops it, named), then says where it listens and who can
sign in, and sets Streamlit's upload cap to ``MEDAI_MAX_UPLOAD_MB`` unless one is given. It starts itself
again with ``MALLOC_ARENA_MAX=2`` unless that is set (see below).
"""

import os
import sys

if __name__ == "__main__" and "MALLOC_ARENA_MAX" not in os.environ:
    # Each browser session runs in threads of its own, and glibc gives threads their own malloc arenas, which
    # keep freed memory: the server's memory grew by a session's worth with every visitor. glibc reads the
    # cap at start-up only, so start again with it set (before the heavy imports below).
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]],
              {**os.environ, "MALLOC_ARENA_MAX": "2"})

import math  # noqa: E402
import time  # noqa: E402
import tomllib  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Mapping, Sequence  # noqa: E402

from streamlit.web import cli  # noqa: E402

from medai import auth, config  # noqa: E402
from pages.common import warm_up  # noqa: E402

SECRETS = Path(__file__).with_name(".streamlit") / "secrets.toml"


def _auth_config(environ: Mapping[str, str]) -> auth.AuthConfig:
    return auth.config_from(tomllib.loads(SECRETS.read_text()) if SECRETS.is_file() else {}, environ)


def _given(argv: Sequence[str], environ: Mapping[str, str], option: str) -> str | None:
    """The value of ``--<option>`` in ``argv`` (``--x y`` or ``--x=y``), or of its ``STREAMLIT_`` variable."""
    for index, arg in enumerate(argv):
        if arg == f"--{option}" and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(f"--{option}="):
            return arg.partition("=")[2]
    return environ.get("STREAMLIT_" + option.replace(".", "_").upper())


def listen_options(argv: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """``--server.address 127.0.0.1`` in demo mode unless an address is given; nothing otherwise."""
    if _given(argv, environ, "server.address"):
        return []
    return [] if _auth_config(environ).required else ["--server.address", "127.0.0.1"]


def upload_options(argv: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """Streamlit's own upload cap set to ``MEDAI_MAX_UPLOAD_MB``, unless given: the two caps stay equal."""
    if _given(argv, environ, "server.maxUploadSize"):
        return []
    return ["--server.maxUploadSize", str(math.ceil(config.max_upload_mb()))]


def mode_lines(argv: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """What a host should read in the log as the server starts: who can sign in, and where it listens."""
    settings = _auth_config(environ)
    address = _given(argv, environ, "server.address") or ("127.0.0.1" if not settings.required else "every interface")
    port = _given(argv, environ, "server.port") or "8501"
    lines = [f"listening on {address}, port {port}."]
    if settings.provider_problems:
        lines.append("hosted mode, but NOBODY CAN SIGN IN until the [auth] section of .streamlit/secrets.toml is "
                     "fixed: " + "; ".join(settings.provider_problems) + ".")
    elif settings.required and not settings.provider_configured:
        lines.append("hosted mode (MEDAI_REQUIRE_LOGIN), but NOBODY CAN SIGN IN: no [auth] section in "
                     ".streamlit/secrets.toml.")
    elif settings.required:
        lines.append("hosted mode: every page needs a signed-in user with a role.")
    elif _given(argv, environ, "server.address"):
        lines.append(f"demo mode (no sign-in) on {address}: anyone who can reach it can use it, under any name.")
    else:
        lines.append("demo mode (no sign-in), so it listens on this computer only (127.0.0.1). Configure sign-in "
                     "(README, 'Sign-in') or pass --server.address to serve others.")
    return lines

if __name__ == "__main__":
    if problems := config.problems():  # a mistyped setting stops the start, named, not each upload later
        print("MedAI Workbench cannot start: " + " ".join(problems), file=sys.stderr)
        sys.exit(2)
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
    for line in mode_lines(sys.argv[1:], os.environ):
        print(f"MedAI Workbench: {line}", flush=True)
    options = [*listen_options(sys.argv[1:], os.environ), *upload_options(sys.argv[1:], os.environ)]
    cli.main(["run", str(Path(__file__).with_name("app.py")), *options, *sys.argv[1:]], prog_name="streamlit")
