"""Diagnose: upload chest X-rays, see calibrated probabilities, uncertainty, heat map or refusal."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import streamlit as st

from medai import registry
from medai.imaging.explain import heatmap_png, overlay
from medai.imaging.report import pdf_report
from medai.imaging.service import csv_columns, diagnose
from pages.common import audit_store, cached_model, current_user, render_card, through_router

through_router("pages/diagnose.py")

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data" / "imaging"

st.title("Diagnose")
st.caption("Frontal chest X-ray → normal or pneumonia. Research use only; a clinician reads every image.")

models = registry.names(task="image-classification")
model_name = st.selectbox("Model", models)
spec = registry.get_spec(model_name)
with st.expander("Model card"):
    render_card(registry.card(model_name))

uploads = st.file_uploader("Chest X-rays (PNG, JPEG or DICOM; the file type is checked by its content)",
                           accept_multiple_files=True, key="uploads")
samples = sorted(path.name for path in SAMPLES.glob("*") if path.is_file() and path.suffix != ".md")
chosen_samples = st.multiselect("…or try sample images", samples)
opacity = st.slider("Heat-map opacity", 0.0, 1.0, 0.4, 0.05)

inputs = [(upload.name, upload.getvalue()) for upload in uploads or []]
inputs += [(name, (SAMPLES / name).read_bytes()) for name in chosen_samples]
if not inputs:
    st.info("Upload one or more images, or pick a sample, to begin.")
    st.stop()

# Widgets re-run the page; diagnose (and record) each new set of inputs only once.
request_key = (model_name, tuple((name, hashlib.sha256(data).hexdigest()) for name, data in inputs))
if st.session_state.get("diagnose_key") != request_key:
    cached_model(model_name)
    with st.spinner(f"Reading {len(inputs)} image(s)…"):
        st.session_state.diagnose_outcomes = diagnose(inputs, model_name, user=current_user(), source="ui",
                                                      store=audit_store(), explain=True)
    st.session_state.diagnose_key = request_key
outcomes = st.session_state.diagnose_outcomes

table = pd.DataFrame([outcome.row(spec.labels) for outcome in outcomes], columns=csv_columns(spec.labels))
st.dataframe(table[["file", "status", "label", f"p_{spec.labels[-1]}", "uncertainty", "message"]],
             hide_index=True, width="stretch")
st.download_button("Download results (CSV)", table.to_csv(index=False).encode(), "diagnose_results.csv",
                   "text/csv")

for index, outcome in enumerate(outcomes):
    st.divider()
    st.subheader(outcome.name)
    if outcome.status == "error":
        st.error(outcome.message, icon=":material/error:")
        continue
    picture, numbers = st.columns([3, 2])
    diagnosis = outcome.diagnosis
    image = outcome.image
    if outcome.status == "refused":
        picture.image(image.pixels, caption="Image as read", clamp=True, width="stretch")
        numbers.warning(f"Refused: {outcome.message}", icon=":material/block:")
        continue
    shown = overlay(image.pixels, diagnosis.heatmap, opacity)
    picture.image(shown, caption=f"Grad-CAM overlay at full size ({image.shape[1]}×{image.shape[0]} px)",
                  width="stretch")
    positive = spec.labels[-1]
    numbers.metric(f"P({positive})", f"{diagnosis.positive_probability:.2f}",
                   help="Calibrated on the validation split (Platt scaling).")
    numbers.metric("Uncertainty (ensemble SD)", f"±{diagnosis.uncertainty:.2f}")
    decision = numbers.error if diagnosis.label == positive else numbers.success
    decision(f"Decision at threshold {diagnosis.threshold:.2f}: **{diagnosis.label}**")
    if abs(diagnosis.positive_probability - diagnosis.threshold) < 2 * diagnosis.uncertainty + 0.05:
        numbers.info("Close to the threshold: the members disagree or the score is borderline. Read with care.")
    if image.pixel_spacing_mm:
        numbers.caption(f"Pixel spacing {image.pixel_spacing_mm[0]:.3f} × {image.pixel_spacing_mm[1]:.3f} mm")
    # Callables: the PDF and PNG are built only when a download is asked for, not on every rerun.
    numbers.download_button("One-page report (PDF)", lambda o=outcome: pdf_report(o, opacity),
                            f"report_{index + 1}.pdf", "application/pdf", key=f"pdf_{index}")
    numbers.download_button("Heat map (16-bit PNG)", lambda d=diagnosis, i=image: heatmap_png(d.heatmap, i.shape),
                            f"gradcam_{index + 1}.png", "image/png", key=f"png_{index}")
    with numbers.popover("Feedback"):
        verdict = st.radio("Your reading", ["agree", "override"], key=f"verdict_{index}", horizontal=True)
        corrected = None
        if verdict == "override":
            corrected = st.selectbox("Correct label", spec.labels, key=f"label_{index}")
        comment = st.text_input("Comment (no patient identifiers)", key=f"comment_{index}")
        if st.button("Save feedback", key=f"save_{index}") and outcome.record_id is not None:
            audit_store().record_feedback(outcome.record_id, user=current_user(), verdict=verdict,
                                          corrected_label=corrected, comment=comment or None)
            st.success("Saved.")
