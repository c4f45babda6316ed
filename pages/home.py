"""Home: what the workbench is, what it is not, where to start."""

import streamlit as st

from pages.common import RESEARCH_USE, open_page

open_page("pages/home.py")

st.title("MedAI Workbench")
st.error(RESEARCH_USE, icon=":material/warning:")
st.markdown(
    """
An open workbench for medical AI, trained on public data, with the things a clinician should expect:
**calibrated probabilities**, **an uncertainty for every answer**, **a heat map of where the model
looked**, **a refusal when the image is not what the model knows**, and **an audit trail** of every
prediction (who, when, which model version, which input — by its hash, never by name).

- **Diagnose** — upload chest X-rays (PNG, JPEG or DICOM) for a pneumonia assessment.
- **Segment** — lungs, heart and lung lesions on a chest X-ray, polyps on a colonoscopy frame, vessels on a
  retinal photograph: an adjustable overlay, measurements and masks to download.
- **Drug screening** — paste or upload molecules (SMILES, CSV, SDF) for drug-likeness, structural alerts,
  predicted solubility, lipophilicity, toxicity and activity, each against approved drugs; propose analogues of a lead.
- **Patient timeline** — an ICU stay's vitals and labs over time, forecasts with 80 % bands, the
  in-hospital mortality risk hour by hour beside the NEWS2 early-warning score, and a survival curve.
- **Ward overview** — every patient of a file ranked by that risk, with how it moved over the last 6 hours
  and NEWS2's response, to help decide whom to look at first; a row opens on the Patient timeline.
- **Model cards** — what each model was trained on, how, and how well it did on a validation split it
  was not trained on. The public test portions were never used here, neither for training nor for any
  choice: they are left out of the shipped data and scored only by an independent evaluation.
- **Audit log** — every prediction made here, and the feedback clinicians gave.

Every page has a command-line twin: `python -m medai diagnose | segment | screen | optimize | timeline …`
(`python -m medai --help`).
"""
)
