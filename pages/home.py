"""Home: what the workbench is, what it is not, where to start."""

import streamlit as st

from pages.common import RESEARCH_USE, through_router

through_router("pages/home.py")

st.title("MedAI Workbench")
st.error(RESEARCH_USE, icon=":material/warning:")
st.markdown(
    """
An open workbench for medical AI, trained on public data, with the things a clinician should expect:
**calibrated probabilities**, **an uncertainty for every answer**, **a heat map of where the model
looked**, **a refusal when the image is not what the model knows**, and **an audit trail** of every
prediction (who, when, which model version, which input — by its hash, never by name).

- **Diagnose** — upload chest X-rays (PNG, JPEG or DICOM) for a pneumonia assessment.
- **Model cards** — what each model was trained on, how, and how well it did on held-out data.
- **Audit log** — every prediction made here, and the feedback clinicians gave.

The same functions run from the command line: `python -m medai diagnose FILES… --output results.csv`.
"""
)
