"""Ward overview: every patient of a file ranked by the risk of death in hospital, with how the risk moved
over the last 6 hours and NEWS2, so that whom to look at first is one glance; a row opens on the
Patient timeline page."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import streamlit as st

from medai import registry
from medai.errors import MedAIError
from medai.timeline.io import read_upload
from medai.timeline.service import RISK_MODEL
from medai.timeline.ward import CHANGE_OVER_H, WardEntry, worklist
from pages.common import audit_store, current_user, keep_across_pages, load_or_stop, results_area, through_router

through_router("pages/ward.py")
keep_across_pages("ward_how")

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "timeline" / "ward_set_a.csv"
ROW_PX, SHOWN_ROWS = 35, 20  # the grid's row height; rows shown before it scrolls
MAX_FILES = 200  # PhysioNet files uploaded at once; a bigger ward comes as one long CSV or the CLI


def ward_input() -> list[tuple[str, bytes]]:
    """[(file name, bytes)] the user chose; empty when nothing yet."""
    how = st.radio("Patients", ["Sample ward", "Upload files"], horizontal=True, key="ward_how")
    if how == "Sample ward":
        st.caption("Twelve ICU stays from PhysioNet 2012 set A (ODC-BY 1.0), each seen at a different hour of its "
                   "stay, as a ward is at one moment. They are in the model's training data: an illustration.")
        return [(SAMPLE.name, SAMPLE.read_bytes())]
    uploads = st.file_uploader("A long CSV (patient_id,time,variable,value[,unit]) with many patients, a FHIR R4 "
                               "Bundle of Observations (JSON), or PhysioNet 2012 files (one per patient)",
                               type=["csv", "txt", "json"], accept_multiple_files=True)
    return [(u.name, u.getvalue()) for u in uploads or []]


def read_all(files: list[tuple[str, bytes]]) -> tuple[list, dict[str, tuple[str, bytes]]]:
    """Stays of every file, in order (a file that cannot be read becomes one (name, error) item, so that
    it is listed, not lost), and each patient's file, by patient id."""
    items, sources = [], {}
    for name, data in files:
        try:
            stays = read_upload(data, name)
        except MedAIError as exc:
            items.append((name, exc))
            continue
        items.extend(stays)
        sources.update({stay.patient_id: (name, data) for stay in stays})
    return items, sources


def table(entries: list[WardEntry]) -> pd.DataFrame:
    """The worklist as the page shows it: per cent, percentage points and plain column names."""
    return pd.DataFrame([{
        "rank": e.rank, "patient": e.risk.patient_id,
        "risk of death in hospital": None if e.rank is None else 100 * e.risk.mortality_risk,
        f"change over {CHANGE_OVER_H:g} h": None if e.risk_change is None else 100 * e.risk_change,
        "NEWS2 now": None if e.risk.news2_sparse else e.risk.news2_last,
        "NEWS2 response": {"emergency": "emergency (≥ 7)", "urgent": "urgent (5–6)"}.get(e.news2_alert, ""),
        "NEWS2 max": None if e.risk.news2_sparse else e.risk.news2_max,
        "hours of data": round(e.hours_observed, 1),
        "notes": " ".join(filter(None, [e.why_not_ranked or e.risk.message, incomplete_news2(e)]))} for e in entries])


def incomplete_news2(entry: WardEntry) -> str:
    """A note naming the NEWS2 parameters not recorded (each scored 0, as if normal), or ''."""
    missing = entry.risk.news2_not_recorded
    return f"NEWS2 incomplete: no {', '.join(missing)} (scored as normal)." if missing else ""


COLUMNS = {"risk of death in hospital": st.column_config.ProgressColumn(
               "risk of death in hospital", format="%.1f %%", min_value=0, max_value=100),
           f"change over {CHANGE_OVER_H:g} h": st.column_config.NumberColumn(
               f"change over {CHANGE_OVER_H:g} h", format="%+.1f points",
               help="The risk now minus the risk from the data up to 6 h before the latest observation "
                    "(percentage points); blank when those earlier data were too thin for a figure."),
           "NEWS2 now": st.column_config.NumberColumn("NEWS2 now", help="Blank when most of its parameters "
                                                      "were not recorded (each would score 0, as if normal)."),
           "notes": st.column_config.TextColumn("notes", width="large")}


st.title("Ward overview")
st.caption(f"Every patient of a file ranked by the risk of death in hospital ({RISK_MODEL}), with how it moved over the "
           f"last {CHANGE_OVER_H:g} hours and NEWS2 now. A ranking to help decide whom to look at first: research use "
           "only, not triage, and no substitute for NEWS2 or clinical judgement.")
files = ward_input()
if not files:
    st.info("Pick the sample ward or upload files to begin.")
    st.stop()
if len(files) > MAX_FILES:
    st.error(f"{len(files)} files: at most {MAX_FILES} at once here. For a bigger ward upload one long CSV, or run "
             "python -m medai timeline ward.", icon=":material/error:")
    st.stop()

request = hashlib.sha256(b"".join(hashlib.sha256(data).digest() for _, data in files)).hexdigest()
changed = st.session_state.get("ward_request") != request
area = results_area(changed)
if changed:
    load_or_stop(RISK_MODEL)
    with st.spinner("Assessing every patient…"):
        items, st.session_state.ward_sources = read_all(files)
        try:
            st.session_state.ward_entries = worklist(items, user=current_user(), source="ui", store=audit_store())
        except MedAIError as exc:  # the model or the audit store failed: say so, never a traceback
            st.error(str(exc), icon=":material/error:")
            st.stop()
    st.session_state.ward_request = request
entries: list[WardEntry] = st.session_state.ward_entries

with area.container():
    ranked = [e for e in entries if e.rank is not None]
    apart = [e for e in entries if e.rank is None]
    alerts = sum(bool(e.news2_alert) for e in entries)
    validation = registry.card(RISK_MODEL)["metrics"]["validation"]
    st.markdown(f"**{len(ranked)} patient{'s' * (len(ranked) != 1)} ranked**"
                + (f", **{len(apart)} not ranked** (below)" if apart else "")
                + (f"; NEWS2 calls for an urgent or emergency response for **{alerts}**" if alerts else "") + ".")
    event = None
    if ranked:
        event = st.dataframe(table(ranked), hide_index=True, width="stretch", placeholder="—", key="ward_table",
                             height=ROW_PX * (min(len(ranked), SHOWN_ROWS) + 1) + 3,  # a small ward whole, unscrolled
                             on_select="rerun", selection_mode="single-row", column_config=COLUMNS)
        st.caption(f"How sure: in validation, a stay that died was ranked above one that survived "
                   f"{100 * validation['roc_auc']:.0f} % of the time (ROC-AUC {validation['roc_auc']:.3f}; the model card "
                   f"has the rest). NEWS2's response is the RCP's, whatever the rank. Select a row to open the patient.")
    if apart:
        st.warning("Not ranked: too little data for a figure, or the file could not be read. An unknown is not a "
                   "low risk: look at these patients too.", icon=":material/warning:")
        st.dataframe(table(apart).drop(columns=["rank", "risk of death in hospital"]), hide_index=True,
                     width="stretch", placeholder="—", key="ward_apart", column_config=COLUMNS)
    selected = event.selection.rows if event is not None else []
    if selected:
        patient = ranked[selected[0]].risk.patient_id
        if st.button(f"Open patient {patient} on the Patient timeline", icon=":material/monitor_heart:"):
            st.session_state.timeline_from_ward = (*st.session_state.ward_sources[patient], patient)
            st.switch_page("pages/timeline.py")
    st.download_button("Download the worklist (CSV)", pd.DataFrame([e.row() for e in entries]).to_csv(index=False),
                       "worklist.csv", "text/csv", on_click="ignore", icon=":material/download:")
