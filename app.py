"""MedAI Workbench: the router. ``make run`` (``python serve.py``), or ``streamlit run app.py``."""

from pathlib import Path

import streamlit as st

from medai.store.models import USER_CHARS
from pages.common import (DEMO_BANNER, RESEARCH_USE, RESUME_KEY, ROUTER_FLAG, WarmUp, free_on_close,
                          model_status, plain, sign_in_gate, warm_up, workbench_pages)

# A local icon: a Material or emoji page icon is fetched from a font or image CDN, which hospitals block.
st.set_page_config(page_title="MedAI Workbench", page_icon=str(Path(__file__).with_name("pages") / "icon.png"),
                   layout="wide")
warm = warm_up()  # started by serve.py as the server starts (or here, by the first page view)
identity = sign_in_gate()  # hosted mode: nothing below runs until someone with a role is signed in

navigation = st.navigation(workbench_pages(admin=identity.can("admin")))


def _model_lines(warm: WarmUp) -> None:
    st.caption("Models")
    for line in model_status(warm):
        st.caption(line)


def models_panel(warm: WarmUp) -> None:
    """The sidebar's model status; while the warm-up runs, it redraws itself once a second (a fragment)."""
    if warm.running:
        st.fragment(run_every=1.0)(_model_lines)(warm)
    else:
        _model_lines(warm)


with st.sidebar:
    st.error(RESEARCH_USE, icon=":material/warning:")
    if identity.demo:
        st.warning(DEMO_BANNER, icon=":material/lock_open:")
        st.text_input("Your name (for the audit trail)", key="user", placeholder="anonymous", max_chars=USER_CHARS,
                      persist_state="session")  # st.switch_page (Ward → Patient timeline) would otherwise drop it
    else:
        st.caption(f"Signed in as **{plain(identity.email)}** ({identity.role})")
        st.button("Sign out", on_click=st.logout, icon=":material/logout:")
    models_panel(warm)

if not st.session_state.get(ROUTER_FLAG):
    free_on_close()
st.session_state[ROUTER_FLAG] = True
if RESUME_KEY in st.session_state:
    st.switch_page(st.session_state.pop(RESUME_KEY))
navigation.run()
