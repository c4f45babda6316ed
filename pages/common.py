"""Helpers shared by the pages: cached loaders, the background model warm-up, routing. No model code here."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st
from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from medai import registry
from medai.errors import MedAIError
from medai.imaging.service import diagnose
from medai.store import AuditStore

RESEARCH_USE = "Research use only. Not a medical device: do not use for diagnosis or treatment decisions."
ROUTER_FLAG, RESUME_KEY = "_router_ran", "_resume_page"
# One shipped film, diagnosed once (not recorded) after an image model loads, so that TensorFlow traces
# its functions in the background instead of during the first clinician's request.
WARM_UP_FILM = Path(__file__).resolve().parent.parent / "sample_data" / "imaging" / "cxr_normal_NORMAL2-IM-1436-0001.jpeg"
log = logging.getLogger(__name__)


@dataclass
class WarmUp:
    """The background thread that loads every model once per server process, and what went wrong."""

    thread: threading.Thread
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        """Whether models are still being loaded."""
        return self.thread.is_alive()


def _load_all(failures: dict[str, str]) -> None:
    for name in registry.names():
        try:
            registry.load(name)
            if registry.get_spec(name).task == "image-classification" and WARM_UP_FILM.is_file():
                diagnose([("warm-up", WARM_UP_FILM.read_bytes())], name, explain=True)
        except MedAIError as exc:
            failures[name] = str(exc)
        except Exception as exc:  # a broken model must not kill the thread silently
            log.exception("loading model %s failed", name)
            failures[name] = f"could not be loaded ({type(exc).__name__})"


@st.cache_resource
def warm_up() -> WarmUp:
    """Start loading every model in a background thread, once per server process (the first page view)."""
    failures: dict[str, str] = {}
    thread = threading.Thread(target=_load_all, args=(failures,), name="medai-warm-up", daemon=True)
    thread.start()
    return WarmUp(thread, failures)


@st.cache_resource(show_spinner=False)
def cached_model(name: str):
    """The registry's model, loaded once per server process (waits for the warm-up if it is loading it)."""
    return registry.load(name)


@st.cache_resource
def audit_store() -> AuditStore:
    """The audit store (``MEDAI_DB_URL``, SQLite by default), opened once per server process."""
    return AuditStore()


def through_router(page_file: str) -> None:
    """Send a page run that bypassed ``app.py`` back through it, then on to ``page_file``.

    Because the repository has a ``pages/`` folder, Streamlit runs a deep link (``/diagnose``) that
    arrives before any session has called ``st.navigation`` as a bare script, without the router's
    sidebar and banner. ``app.py`` sets ``ROUTER_FLAG`` on every run and resumes ``RESUME_KEY``.
    """
    if not st.session_state.get(ROUTER_FLAG):
        st.session_state[RESUME_KEY] = page_file
        st.switch_page("app.py")


def free_on_close() -> None:
    """Shut this session down as soon as its tab disconnects, freeing its results and uploads.

    By default Streamlit keeps a disconnected session for a reconnect, and drops it only when some
    other session later connects or disconnects, without shutting it down (its uploaded files stay in
    memory). A clinician whose connection drops gets a fresh page instead.
    """
    context = get_script_run_ctx()
    if context is not None and runtime.exists():
        runtime.get_instance().mark_session_nonresumable(context.session_id)


def current_user() -> str:
    """The name typed in the sidebar, or ``anonymous``."""
    return (st.session_state.get("user") or "").strip() or "anonymous"


def model_status(warm: WarmUp) -> list[str]:
    """One line per registered model: name, version, and whether it is loaded, loading or failed."""
    lines = []
    for name in registry.names():
        spec = registry.get_spec(name)
        if registry.is_loaded(name):
            state = "loaded"
        elif name in warm.failures:
            state = f"failed: {warm.failures[name]}"
        else:
            state = "loading…" if warm.running else "loads on first use"
        lines.append(f"{spec.name} {spec.version} · {state}")
    return lines or ["no models installed"]
