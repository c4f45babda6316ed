"""MedAI Workbench: the router. ``streamlit run app.py`` (or ``make run``)."""

import streamlit as st

from pages.common import RESEARCH_USE, RESUME_KEY, ROUTER_FLAG, model_status

st.set_page_config(page_title="MedAI Workbench", page_icon=":material/stethoscope:", layout="wide")

navigation = st.navigation([
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/diagnose.py", title="Diagnose", icon=":material/radiology:"),
    st.Page("pages/models.py", title="Model cards", icon=":material/description:"),
    st.Page("pages/audit.py", title="Audit log", icon=":material/fact_check:"),
])

with st.sidebar:
    st.error(RESEARCH_USE, icon=":material/warning:")
    st.text_input("Your name (for the audit trail)", key="user", placeholder="anonymous")
    st.caption("Models")
    for line in model_status():
        st.caption(line)

st.session_state[ROUTER_FLAG] = True
if RESUME_KEY in st.session_state:
    st.switch_page(st.session_state.pop(RESUME_KEY))
navigation.run()
