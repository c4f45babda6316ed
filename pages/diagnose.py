"""Diagnose: upload chest X-rays; read the decision, the probability against its threshold, the heat map.

Each input is diagnosed and recorded once, keyed by what identifies the request: an upload's
``file_id`` (new when the same image is uploaded again on purpose) or a sample's name while it stays
selected. The session keeps only what the page redraws: a display-size copy of each image, the
coarse heat map and the numbers (see :func:`medai.imaging.service.for_display`).
"""

from __future__ import annotations

import threading

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from medai import registry
from medai.errors import MedAIError
from medai.imaging.explain import FIXED_SCALE_PEAK, fixed_scale, heatmap_png, heat_colorscale, overlay
from medai.imaging.lung_focus import LUNG_OUTLINE_RGB, NO_LUNG_FIELDS, low_focus_limit, outline
from medai.imaging.notes import OUT_OF_POPULATION_MESSAGE, member_spread, percent, reading_notes
from medai.imaging.service import DiagnoseOutcome, csv_columns, diagnose, for_display, repeated_images
from medai.spreadsheet import to_spreadsheet_csv
from pages.card_view import render_card
from pages.colours import BLUISH_GREEN, VERMILLION
from pages.common import audit_store, current_user, load_or_stop, logged_export, open_page, plain
from pages.feedback import feedback_control

open_page("pages/diagnose.py")

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data" / "imaging"
RESULTS = "diagnose_results"  # session state: request key → display-size DiagnoseOutcome
RESTORED = "diagnose_restored"  # session state: showing the results of a visit before this one
READING_LOCK = "diagnose_reading"  # session state: held while films are read and recorded
RED, GREEN = VERMILLION, BLUISH_GREEN
CHART_CONFIG = {"displayModeBar": False, "staticPlot": True}


def read_requests(model_name: str) -> list[tuple[str, str, bytes | Path]]:
    """The upload and sample widgets → (request key, display name, bytes or sample path), in page order."""
    uploads = st.file_uploader("Chest X-rays (PNG, JPEG or DICOM; the file type is checked by its content)",
                               accept_multiple_files=True, key="uploads")
    samples = sorted(path.name for path in SAMPLES.glob("*") if path.is_file() and path.suffix != ".md")
    # Chest X-rays first; the others stay, marked, to show what a refusal looks like (as on Segment).
    chosen = st.multiselect("…or try sample images", sorted(samples, key=lambda name: not name.startswith("cxr_")),
                            format_func=lambda name: name if name.startswith("cxr_") else
                            f"{name} (not a chest X-ray: shows a refusal)")
    requests: list[tuple[str, str, bytes | Path]] = [
        (f"{model_name}|upload|{upload.file_id}", upload.name, upload.getvalue()) for upload in uploads or []]
    requests += [(f"{model_name}|sample|{name}", name, SAMPLES / name) for name in chosen]
    return requests


def heat_map_legend(fixed_available: bool) -> tuple[float, bool]:
    """The heat-map explanation, colour bar, opacity slider and scale toggle → (opacity, fixed scale)."""
    st.caption("Heat map (Grad-CAM): where the network looked, not a lesion outline.")
    left, right = st.columns([3, 2])
    opacity = right.slider("Heat-map opacity", 0.0, 1.0, 0.4, 0.05)
    fixed = right.toggle("Same colour scale", disabled=not fixed_available,  # short: a tablet cut a longer one
                         help=f"The same scale on every image: yellow = a cell adding {FIXED_SCALE_PEAK} or more to the model's logit, on "
                              "every image; a weak map then stays dark blue." if fixed_available else
                              "The model does not report the strength of its heat maps.")
    ends = (["none", f"≥ {FIXED_SCALE_PEAK} (fixed)"] if fixed
            else ["none", "this image's strongest"])
    bar = go.Figure(go.Heatmap(z=[np.linspace(0.0, 1.0, 64)], x=np.linspace(0.0, 1.0, 64),
                               colorscale=heat_colorscale(), showscale=False, hoverinfo="skip"))
    # The end labels as annotations anchored inside the bar's edges: tick labels centred on the edges
    # were cut off left, right and below.
    bar.update_layout(height=72, margin=dict(l=8, r=8, t=4, b=26), xaxis=dict(visible=False),
                      yaxis=dict(visible=False),
                      annotations=[dict(x=x, y=0, xref="paper", yref="paper", xanchor=anchor, yanchor="top",
                                        text=text, showarrow=False, yshift=-3)
                                   for x, anchor, text in ((0.0, "left", ends[0]), (1.0, "right", ends[1]))])
    left.plotly_chart(bar, config=CHART_CONFIG, key="colour_bar")
    left.caption("Colour scale of the overlays. " + (
        "Fixed: one scale for all images, so a weak map stays dark blue." if fixed else
        "Rescaled per image: yellow is each image's own strongest area, even when the evidence is weak."))
    return opacity, fixed


def probability_bar(p: float, threshold: float, positive: str) -> go.Figure:
    """A small horizontal bar of P(positive) on [0, 1] with the threshold marked."""
    figure = go.Figure(go.Bar(x=[p], y=[""], orientation="h", marker_color=RED if p >= threshold else GREEN,
                              text=[percent(p)], textposition="outside", cliponaxis=False))
    # A white halo under a dark dashed line: seen on either theme and across the orange bar (one mid-grey
    # line vanished into the bar, 1.1:1).
    figure.add_vline(x=threshold, line_width=6, line_color="white")
    figure.add_vline(x=threshold, line_width=3, line_dash="dash", line_color="#222222",
                     annotation_text=f"threshold {percent(threshold)}", annotation_position="top")
    # Room below for the tick labels and the axis title, and on the right for a value label near 100 %.
    figure.update_layout(height=130, margin=dict(l=8, r=80, t=26, b=48), showlegend=False,
                         xaxis=dict(range=[0, 1], tickvals=[0, 0.25, 0.5, 0.75, 1.0], tickformat=".0%", title=None),
                         yaxis=dict(visible=False), bargap=0.35)
    figure.update_xaxes(title_text=f"P({positive})", title_standoff=8)
    return figure


def why_line(p: float, threshold: float, label: str, prevalence: float | None, assumed: bool = False) -> str:
    """One sentence saying which side of the threshold the score falls, and why the threshold sits there.

    ``prevalence`` is the share of pneumonia the probabilities are calibrated for: ``assumed`` (a
    stated prior, as from version 2) or, when not, the validation split's own.
    """
    side = "at or above" if p >= threshold else "below"
    if prevalence is None:
        origin = "the threshold was chosen on the validation films"
    elif assumed:
        origin = (f"the line best balances sensitivity and specificity on validation films. The probability "
                  f"assumes {100 * prevalence:.0f} % of the films read show pneumonia, since a new hospital's rate is "
                  "unknown: where pneumonia is rarer, the real chance is lower")
    else:
        origin = (f"the threshold was chosen on validation films, where {prevalence:.0%} show pneumonia, so scores "
                  "run high")
    return f"**{label.capitalize()}** because {percent(p)} is {side} the line at {percent(threshold)}: {origin}."


def _pdf(outcome: DiagnoseOutcome, opacity: float, fixed: bool, user: str) -> bytes:
    """The one-page report, built only when asked for (fpdf2 and the report code load then, not at start-up)."""
    from medai.imaging.report import pdf_report

    return pdf_report(outcome, opacity, fixed, user=user)


def draw(outcome: DiagnoseOutcome, labels: tuple[str, ...], members: int | None,
         prevalence: tuple[float | None, bool], opacity: float, fixed: bool, low_limit: float | None) -> None:
    """One result: decision first, probability bar, why, notes, overlay, downloads, feedback."""
    st.divider()
    st.subheader(plain(outcome.name))
    if outcome.status == "error":
        st.error(plain(outcome.message), icon=":material/error:")
        return
    picture, numbers = st.columns([3, 2])
    image, diagnosis = outcome.image, outcome.diagnosis
    height, width = outcome.original_shape or image.shape
    if outcome.status == "refused":
        picture.image(image.pixels, caption="Image as the model reads it (in grey, whatever its colours)", clamp=True,
                      width="stretch", alt=f"{outcome.name}, refused, as the model reads it")
        numbers.warning(f"Refused: {plain(outcome.message)}", icon=":material/block:")
        return
    p, threshold, positive = diagnosis.positive_probability, diagnosis.threshold, labels[-1]
    decision = numbers.error if diagnosis.label == positive else numbers.success
    decision(f"**{diagnosis.label.capitalize()}** · decision at threshold {percent(threshold)}")
    if diagnosis.out_of_population:
        numbers.warning(OUT_OF_POPULATION_MESSAGE, icon=":material/person_alert:")
    with numbers:
        st.plotly_chart(probability_bar(p, threshold, positive), config=CHART_CONFIG, key=f"bar_{outcome.record_id}")
    numbers.markdown(why_line(p, threshold, diagnosis.label, *prevalence))
    numbers.caption(f"Uncertainty: {member_spread(diagnosis)}; probabilities calibrated on the validation split "
                    "(Platt scaling).")
    for note in reading_notes(diagnosis, members):
        numbers.info(note, icon=":material/info:")
    peak = getattr(diagnosis, "heatmap_peak", None)
    heatmap = fixed_scale(diagnosis.heatmap, peak) if fixed and peak is not None else diagnosis.heatmap
    drawn = overlay(image.pixels, heatmap, opacity)
    lungs_caption = ""
    if outcome.lung_fields is not None:
        drawn[outline(outcome.lung_fields, image.shape)] = LUNG_OUTLINE_RGB
        lungs_caption = "; white line: lung fields (cxr-lungs)"
    picture.image(drawn, output_format="JPEG", width="stretch",
                  caption=f"Grad-CAM overlay ({'fixed scale' if fixed else 'rescaled per image'}){lungs_caption}; "
                          f"film {width}×{height} px",
                  alt=f"{outcome.name} with the model's heat map over it: read as {diagnosis.label}, "
                      f"P({positive}) {percent(p)}")
    if NO_LUNG_FIELDS in outcome.message:
        numbers.warning(NO_LUNG_FIELDS, icon=":material/visibility_off:")
    if outcome.heat_in_lungs is not None:
        numbers.markdown(f"**{outcome.heat_in_lungs:.0%}** of the heat map lies inside the lung fields.")
        if diagnosis.label == positive and low_limit is not None and outcome.heat_in_lungs < low_limit:
            numbers.warning(f"Less of the heat lies inside the lungs than on 95 % of the validation films with "
                            f"{positive} ({low_limit:.0%}): check whether a marker, border, text or tube drove this "
                            "result.", icon=":material/visibility:")
    if image.pixel_spacing_mm:
        numbers.caption(f"Pixel spacing {image.pixel_spacing_mm[0]:.3f} × {image.pixel_spacing_mm[1]:.3f} mm")
    # Callables: the PDF and PNG are built only when a download is asked for, not on every rerun.
    exported_by = current_user()  # who downloads; the report names whom the audit record names
    record = audit_store().prediction(outcome.record_id) if outcome.record_id is not None else None
    requested_by = record.user if record is not None else exported_by
    numbers.download_button("One-page report (PDF)",
                            logged_export(lambda: _pdf(outcome, opacity, fixed, requested_by), what="pdf report",
                                          prediction_id=outcome.record_id, user=exported_by),
                            f"report_{outcome.record_id}.pdf", "application/pdf", key=f"pdf_{outcome.record_id}",
                            on_click="ignore")  # no rerun: a rerun re-registers the files a quick second click needs
    numbers.download_button("Heat map, full size (16-bit PNG)",
                            logged_export(lambda: heatmap_png(diagnosis.heatmap, (height, width)),
                                          what="heat map png", prediction_id=outcome.record_id, user=exported_by),
                            f"gradcam_{outcome.record_id}.png", "image/png", key=f"png_{outcome.record_id}", on_click="ignore",
                            help="The Grad-CAM values alone (0–65,535), at the film's own size, without the film.")
    with numbers:
        feedback_control(outcome.record_id, labels, given=diagnosis.label, title=f"Feedback on {plain(outcome.name)}")


st.title("Diagnose")
st.caption("Frontal chest X-ray → normal or pneumonia. Research use only; a clinician reads every image.")

model_name = st.selectbox("Model", registry.names(task="image-classification"))
spec = registry.get_spec(model_name)
card = registry.card(model_name)
with st.expander("Model card"):
    render_card(card)

returning = "uploads" not in st.session_state  # Streamlit drops a widget's state when its page is left
requests = read_requests(model_name)
results: dict[str, DiagnoseOutcome] = st.session_state.setdefault(RESULTS, {})
if not requests and results and (returning or st.session_state.get(RESTORED)):
    # Back from another page: the uploader is empty again, but the results are still worth showing.
    st.session_state[RESTORED] = True
    st.info("Results from before you left this page (the files themselves are not kept). Add files or samples to "
            "start again.", icon=":material/history:")
    requests = [(key, outcome.name, b"") for key, outcome in results.items()]
else:
    st.session_state.pop(RESTORED, None)
    for stale in set(results) - {key for key, _, _ in requests}:
        del results[stale]  # a removed file or sample: forget it (it was recorded when it was asked about)
if not requests:
    st.info("Upload one or more images, or pick a sample, to begin.")
    st.stop()

# One reading at a time per session: Streamlit starts a newer run while an older one still reads a film
# (fast reruns), and both read, and recorded, it. The newer one waits here until the older one stops, at its
# next Streamlit call, with that film kept in ``results``.
with st.session_state.setdefault(READING_LOCK, threading.Lock()):
    new = [(key, name, source) for key, name, source in requests if key not in results]
    if new:
        load_or_stop(model_name)
        progress = st.progress(0.0, text=f"Reading {len(new)} image(s)…")
        for done, (key, name, source) in enumerate(new):
            data = source.read_bytes() if isinstance(source, Path) else source
            # One input per call: one full-resolution film in memory at a time, recorded once, then shrunk.
            try:
                outcome = diagnose([(name, data)], model_name, user=current_user(), source="ui",
                                   store=audit_store(), explain=True)[0]
            except MedAIError as exc:  # e.g. the audit store cannot be written: say so, record nothing silently
                st.error(f"{plain(name)}: {plain(exc)}", icon=":material/error:")
                st.stop()
            results[key] = for_display(outcome)
            progress.progress((done + 1) / len(new), text=f"Read {done + 1} of {len(new)}")
        progress.empty()
outcomes = [results[key] for key, _, _ in requests]
for names in repeated_images(outcomes):
    st.info(f"The same image was added {len(names)} times ({', '.join(map(plain, names))}): each is diagnosed and "
            "recorded as its own request. Remove the extra copies if that was not meant.", icon=":material/content_copy:")

table = pd.DataFrame([outcome.row(spec.labels) for outcome in outcomes], columns=csv_columns(spec.labels))
positive_column = f"p_{spec.labels[-1]}"
shown_table = table[["file", "status", "label", positive_column, "uncertainty", "message"]].replace({"": None})
for column in (positive_column, "uncertainty"):  # per cent and percentage points, as the results below say them
    shown_table[column] = pd.to_numeric(shown_table[column], errors="coerce") * 100
# Narrow number columns and short headers, so that the message still shows at a tablet's width.
st.dataframe(shown_table, placeholder="—", hide_index=True, width="stretch",  # blank → "—"
             column_config={"status": st.column_config.TextColumn(width="small"),
                            "label": st.column_config.TextColumn(width="small"),
                            positive_column: st.column_config.NumberColumn(f"P({spec.labels[-1]})", format="%.2f %%",
                                                                           width="small"),
                            "uncertainty": st.column_config.NumberColumn(
                                "SD (pp)", format="%.1f", width="small",
                                help="Spread of the ensemble's models, in percentage points")})
results_csv = to_spreadsheet_csv(table).encode()
st.download_button("Download results (CSV)", logged_export(lambda: results_csv, what="results csv", prediction_id=None,
                                                           user=current_user(), settings={"records": [
                                                               o.record_id for o in outcomes if o.record_id is not None]}),
                   "diagnose_results.csv", "text/csv", on_click="ignore")

shown = [o.diagnosis for o in outcomes if o.status == "ok" and o.diagnosis is not None]
opacity, fixed = 0.4, False
if shown:
    opacity, fixed = heat_map_legend(all(getattr(d, "heatmap_peak", None) is not None for d in shown))
assumed_prevalence = card.get("metrics", {}).get("validation", {}).get("calibrated_for_prevalence")
prevalence = ((assumed_prevalence, True) if assumed_prevalence is not None
              else (card.get("data", {}).get("validation_pneumonia_fraction"), False))
members = len(spec.parameters.get("members", [])) or None
for outcome in outcomes:
    draw(outcome, spec.labels, members, prevalence, opacity, fixed, low_focus_limit(card, spec.labels[-1]))
