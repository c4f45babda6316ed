"""Audit log: the newest predictions and the feedback on them (no patient identifiers are stored)."""

import pandas as pd
import streamlit as st

from pages.common import audit_store, through_router

through_router("pages/audit.py")

st.title("Audit log")
st.caption("Inputs are identified by their SHA-256 only; file names and images are never stored.")
store = audit_store()
records = store.recent_predictions(200)
if not records:
    st.info("No predictions yet.")
    st.stop()
feedback = store.feedback_counts()
rows = [{
    "id": r.id, "when (UTC)": r.created_at, "user": r.user, "via": r.source, "model": r.model_name,
    "version": r.model_version, "status": r.status, "label": r.label, "uncertainty": r.uncertainty,
    "input SHA-256": r.input_sha256, "feedback": feedback.get(r.id, 0),
} for r in records]
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
