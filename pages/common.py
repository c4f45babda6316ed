"""Helpers shared by the pages: cached loaders, the background model warm-up, routing. No model code here."""

from __future__ import annotations

import atexit
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

import pandas as pd
import streamlit as st
from streamlit import runtime
from streamlit.runtime.runtime import RuntimeState
from streamlit.runtime.scriptrunner import get_script_run_ctx

from medai import auth, config, registry
from medai.errors import MedAIError
from medai.imaging.graphs import defer_tracing, wait_until_idle
from medai.imaging.lung_focus import LUNG_MODEL
from medai.imaging.service import diagnose
from medai.store import AuditStore
from pages.card_view import MARKDOWN_SPECIALS, escape

T = TypeVar("T")

RESEARCH_USE = "Research use only. Not a medical device: do not use for diagnosis or treatment decisions."
ROUTER_FLAG, RESUME_KEY = "_router_ran", "_resume_page"
# One shipped film, diagnosed once (not recorded) after an image model loads and traces, so that the
# lung model and the rest of the path are warm before the first clinician's request.
WARM_UP_FILM = Path(__file__).resolve().parent.parent / "sample_data" / "imaging" / "cxr_normal_NORMAL2-IM-1436-0001.jpeg"
log = logging.getLogger(__name__)
PLAIN_SPECIALS = MARKDOWN_SPECIALS + ":@"
WWW_DOT = re.compile(r"\b(www)\.", re.IGNORECASE)
WORD_JOINER = "\u2060"  # invisible, and not part of an address


def plain(text: object) -> str:
    """Text from an input, an upload's name or a user, shown in Streamlit markdown (a subheader, a caption,
    an alert, a widget label) as the characters it is.

    Markdown's special characters, ``:`` (Streamlit's colours and icons) and ``@`` are backslash-escaped
    (CommonMark renders each escaped mark as itself), so the text makes no link, image, emphasis, heading,
    colour, icon, LaTeX or HTML: a DICOM tag, a molecule id or a file name from elsewhere must not put a
    "Sign in again" link, or an image fetched from another server, inside the app. A bare address
    (``https://…``, ``www.…``, ``name@host``) is linked by GitHub-flavoured markdown after the escapes are
    read, so an invisible word joiner is put inside each. Newlines become spaces.
    """
    escaped = WWW_DOT.sub(rf"\1{WORD_JOINER}.", escape(str(text), PLAIN_SPECIALS))
    return escaped.replace("\\://", f"\\:{WORD_JOINER}//").replace("\\@", f"{WORD_JOINER}\\@")


@dataclass
class WarmUp:
    """The background thread that loads every model once per server process, and what went wrong."""

    thread: threading.Thread
    stop: threading.Event
    first_ready: threading.Event  # set once the first Diagnose result's models are loaded (or failed)
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        """Whether models are still being loaded."""
        return self.thread.is_alive()


def _load(name: str, failures: dict[str, str]):
    """The registry's model ``name``, or None with the reason in ``failures``."""
    try:
        return registry.load(name)
    except MedAIError as exc:
        failures[name] = str(exc)
    except Exception as exc:  # a broken model must not kill the thread silently
        log.exception("loading model %s failed", name)
        failures[name] = f"could not be loaded ({type(exc).__name__})"
    return None


def _load_all(failures: dict[str, str], stop: threading.Event, first_ready: threading.Event) -> None:
    # What the first Diagnose result needs comes first: the classifier and the lung outline's model.
    classifiers = registry.names(task="image-classification")
    first = classifiers + ([LUNG_MODEL] if LUNG_MODEL in registry.names() else [])
    try:
        loaded = {name: _load(name, failures) for name in first}
    finally:
        first_ready.set()
    # Tracing (seconds of CPU) waits until no request is running eagerly (medai.imaging.graphs), so
    # it never slows the first clinician's result; so does loading the other pages' models.
    wait_until_idle(stop)
    for name in classifiers:
        if loaded[name] is None or _stopping(stop):
            continue
        try:
            prepare = getattr(loaded[name], "prepare", None)
            if prepare is not None:
                prepare()
            if WARM_UP_FILM.is_file():
                diagnose([("warm-up", WARM_UP_FILM.read_bytes())], name, explain=True)
        except Exception:  # the model still answers, eagerly
            if _stopping(stop):  # the server stopped under the trace: nothing is lost
                return
            log.exception("tracing model %s failed", name)
    for name in registry.names():
        if name not in loaded and not _stopping(stop):
            _load(name, failures)


def _stopping(stop: threading.Event) -> bool:
    """Whether the warm-up should end: told to, or the Streamlit server is shutting down."""
    if stop.is_set():
        return True
    return runtime.exists() and runtime.get_instance().state in (RuntimeState.STOPPING, RuntimeState.STOPPED)


_started: WarmUp | None = None
_start_lock = threading.Lock()


def warm_up() -> WarmUp:
    """Start loading every model in a background thread, once per process; later calls get the same one.

    ``serve.py`` (``make run``) calls it before the server starts; under a bare ``streamlit run app.py``
    the first page view does. With ``MEDAI_PRELOAD=0`` nothing starts (the returned warm-up never runs).
    """
    global _started
    with _start_lock:
        if _started is None:
            failures: dict[str, str] = {}
            stop, first_ready = threading.Event(), threading.Event()
            thread = threading.Thread(target=_load_all, args=(failures, stop, first_ready), name="medai-warm-up",
                                      daemon=True)
            _started = WarmUp(thread, stop, first_ready, failures)
            if config.preload():
                defer_tracing()  # requests never wait for a TensorFlow trace; the warm-up traces when idle
                thread.start()
                atexit.register(stop_warm_up)
            else:  # MEDAI_PRELOAD=0: each model loads, and its graphs trace, when first used
                first_ready.set()
        return _started


def stop_warm_up(timeout_s: float = 120.0) -> None:
    """Let the warm-up finish the step it is in, skip the rest, and wait for it: a thread still
    inside TensorFlow when Python finalizes aborts the process."""
    if _started is not None and _started.running:
        _started.stop.set()
        _started.thread.join(timeout_s)


@st.cache_resource(show_spinner=False)
def cached_model(name: str):
    """The registry's model, loaded once per server process (waits for the warm-up if it is loading it)."""
    return registry.load(name)


def load_or_stop(name: str) -> None:
    """Make sure model ``name`` is loaded, with a spinner the first time; on failure say why and stop the page."""
    if registry.is_loaded(name):
        return
    with st.spinner("Loading the model (once per server start)…"):
        try:
            cached_model(name)
        except MedAIError as exc:
            st.error(str(exc), icon=":material/error:")
            st.stop()


@st.cache_resource
def audit_store() -> AuditStore:
    """The audit store (``MEDAI_DB_URL``, SQLite by default), opened once per server process."""
    return AuditStore()


def open_page(page_file: str) -> None:
    """Start a page: send a run that bypassed ``app.py`` back through it, then say research use.

    Because the repository has a ``pages/`` folder, Streamlit runs a deep link (``/diagnose``) that
    arrives before any session has called ``st.navigation`` as a bare script, without the router's
    sidebar and banner. ``app.py`` sets ``ROUTER_FLAG`` on every run and resumes ``RESUME_KEY``.
    The research-use line is repeated at the top of every page but Home (which shows it in full),
    since a narrow screen (a tablet held upright) folds the sidebar, and its copy, away.
    """
    if not st.session_state.get(ROUTER_FLAG):
        st.session_state[RESUME_KEY] = page_file
        st.switch_page("app.py")
    if page_file != "pages/home.py":
        st.caption(f":material/warning: {RESEARCH_USE}")


def audit_columns(table: pd.DataFrame) -> dict:
    """Column settings of an audit-log table (the Audit log and Admin pages show the same one): the record
    pinned, short columns narrow, so that the label, probability and feedback fit a tablet's width."""
    small = {"width": "small"}
    return {"id": st.column_config.NumberColumn("id", pinned=True, **small),
            "when (UTC)": st.column_config.DatetimeColumn("when (UTC)", format="YYYY-MM-DD HH:mm:ss"),
            **{name: st.column_config.TextColumn(name, **small) for name in ("via", "version", "status")},
            "uncertainty": st.column_config.NumberColumn("SD (0–1)", format="%.3f", **small,
                                                         help="The models' spread on the probability scale (0–1); "
                                                              "Diagnose shows it × 100, in percentage points"),
            "feedback": st.column_config.TextColumn("feedback", help="The latest verdict: agree, or override → the "
                                                                     "label given"),
            **{name: st.column_config.NumberColumn(name, format="%.4f", **small)  # 0.9998 is not 1.000
               for name in table.columns if name.startswith("P(")}}


def free_on_close() -> None:
    """Shut this session down as soon as its tab disconnects, freeing its results and uploads.

    By default Streamlit keeps a disconnected session for a reconnect, and drops it only when some
    other session later connects or disconnects, without shutting it down (its uploaded files stay in
    memory). A clinician whose connection drops gets a fresh page instead.
    """
    context = get_script_run_ctx()
    if context is not None and runtime.exists():
        runtime.get_instance().mark_session_nonresumable(context.session_id)


def results_area(changed: bool):
    """Where a page draws its results: for a new request, an empty slot that blanks the previous results
    at once (Streamlit keeps a run's old elements on screen until they are redrawn, so they could be read
    as the new request's while it is computed); otherwise a plain container. Draw into ``.container()``."""
    return st.empty() if changed else st.container()


DEMO_BANNER = ("Demo mode: sign-in is off, so anyone who can open this app can use it, and the audit trail "
               "records whatever name is typed below. Configure sign-in before hosting it.")
SIGNED_IN_KEY = "_signed_in_as"


def auth_config() -> auth.AuthConfig:
    """Sign-in configuration from ``st.secrets`` (``[auth]``, ``[medai.roles]``) and the environment."""
    try:
        secrets = st.secrets.to_dict()
    except Exception:  # no secrets.toml at all: demo mode unless the environment asks for sign-in
        secrets = {}
    return auth.config_from(secrets, os.environ)


def current_identity() -> auth.Identity:
    """Who is using this session: the demo identity, or the signed-in user (``st.user``) and role."""
    settings = auth_config()
    return auth.identify(st.user.to_dict() if settings.required else None, settings)


def current_user() -> str:
    """The audit trail's user: the signed-in e-mail (hosted), or the name typed in the sidebar (demo)."""
    identity = current_identity()
    if not identity.demo:
        return identity.email or "anonymous"
    return (st.session_state.get("user") or "").strip() or "anonymous"


def workbench_pages(admin: bool) -> list:
    """The app's pages, in sidebar order (the Admin page only for an admin)."""
    return [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/diagnose.py", title="Diagnose", icon=":material/radiology:"),
        st.Page("pages/segment.py", title="Segment", icon=":material/layers:"),
        st.Page("pages/drug.py", title="Drug screening", icon=":material/science:"),
        st.Page("pages/timeline.py", title="Patient timeline", icon=":material/monitor_heart:"),
        st.Page("pages/ward.py", title="Ward overview", icon=":material/format_list_numbered:"),
        st.Page("pages/models.py", title="Model cards", icon=":material/description:"),
        st.Page("pages/audit.py", title="Audit log", icon=":material/fact_check:"),
        *([st.Page("pages/admin.py", title="Admin", icon=":material/shield_person:")] if admin else []),
    ]


def _stop_before_navigation() -> None:
    """End this run listing no page: a run that never calls ``st.navigation`` makes Streamlit list
    every file under ``pages/`` (helper modules too) in the sidebar, each a blank page. Every page is
    known, hidden, so that a bookmarked page's address shows the sign-in, not "page not found"."""
    st.navigation(workbench_pages(admin=True), position="hidden")
    st.stop()


def sign_in_gate() -> auth.Identity:
    """Hosted mode: stop this run until someone with a role is signed in; record each sign-in once.

    Demo mode passes everyone through (the sidebar shows :data:`DEMO_BANNER`).
    """
    settings = auth_config()
    identity = auth.identify(st.user.to_dict() if settings.required else None, settings)
    if identity.demo:
        return identity
    if not identity.signed_in:
        st.title("MedAI Workbench")
        if settings.provider_problems:
            st.error("Sign-in is switched off until the administrator fixes the [auth] section of "
                     ".streamlit/secrets.toml: " + "; ".join(settings.provider_problems) + ".", icon=":material/lock:")
        elif settings.provider_configured:
            st.info("Sign in with your organisation's account to continue.", icon=":material/lock:")
            st.button("Sign in", on_click=st.login, type="primary", icon=":material/login:")
        else:
            st.error("Sign-in is required (MEDAI_REQUIRE_LOGIN) but no identity provider is configured: add an "
                     "[auth] section to .streamlit/secrets.toml (see .streamlit/secrets.toml.example).")
        _stop_before_navigation()
    if identity.role is None:
        who = plain(identity.email) if identity.email else "This account"
        st.error(f"{who} is signed in but has no role in this workbench; ask an administrator to add you.",
                 icon=":material/block:")
        st.button("Sign out", on_click=st.logout)
        _stop_before_navigation()
    if st.session_state.get(SIGNED_IN_KEY) != identity.email:
        try:
            audit_store().record_event("sign-in", user=identity.email or "anonymous", details={"role": identity.role})
        except MedAIError as exc:  # an unrecorded sign-in must not let anyone in
            st.error(str(exc), icon=":material/error:")
            _stop_before_navigation()
        st.session_state[SIGNED_IN_KEY] = identity.email
    return identity


def recorded_download(label: str, *, kind: str, data: str, file_name: str, details: dict, key: str) -> None:
    """An export that is recorded before it is handed out: a button writes the audit event, then the
    download of exactly what was recorded appears (a failed write is shown and nothing is offered),
    for as long as the data are unchanged.
    """
    if st.button(label, key=f"{key}_prepare", icon=":material/download:"):
        try:
            audit_store().record_event(kind, user=current_user(), details=details)
        except MedAIError as exc:
            st.error(str(exc), icon=":material/error:")
            st.stop()
        st.session_state[key] = (data, file_name)
    if key in st.session_state and st.session_state[key][0] != data:
        del st.session_state[key]  # the table or its filters changed since: never hand out an older export
    if key in st.session_state:
        ready, name = st.session_state[key]
        st.download_button(f"Save {name}", ready, file_name=name, mime="text/csv", on_click="ignore",
                           key=f"{key}_download", icon=":material/save:")
        st.caption("This export is recorded in the audit log when it is prepared, before anything leaves, so a "
                   "prepared export that is never saved still shows there.")


def logged_export(build: Callable[[], T], *, what: str, prediction_id: int | None, user: str,
                  settings: dict | None = None) -> Callable[[], T]:
    """A download button's data callable that records an ``export.report`` audit event (who, what, which
    prediction, and the ``settings`` it was made with, e.g. thresholds) before it builds the file. ``user`` is
    taken when the page is drawn: the callable runs outside the session's script run, where the sidebar's
    name is not seen."""
    def recorded_then_built() -> T:
        about = {"prediction_id": prediction_id} if prediction_id is not None else {}  # a table names its "records"
        audit_store().record_event("export.report", user=user, details={**about, "format": what, **(settings or {})})
        return build()
    return recorded_then_built


def require_role(role: str) -> auth.Identity:
    """Stop the page unless the session's identity holds ``role`` (an admin holds every role)."""
    identity = current_identity()
    if not identity.can(role):
        st.error(f"This page needs the {role} role.", icon=":material/block:")
        st.stop()
    return identity


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
