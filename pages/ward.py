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
from medai.spreadsheet import to_spreadsheet_csv
from medai.timeline.mortality import NO_VITAL_SIGNS
from medai.timeline.sources import read_upload
from medai.timeline.service import RISK_MODEL
from medai.timeline.ward import ACTING_ON, CHANGE_OVER_H, RESPONSES, WARD_COLUMNS, WardEntry, worklist
from pages.common import (audit_store, current_user, load_or_stop, logged_export, results_area,
                          open_page, plain)

open_page("pages/ward.py")

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "timeline" / "ward_set_a.csv"
ROW_PX, SHOWN_ROWS = 35, 20  # the grid's row height; rows shown before it scrolls
MAX_FILES = 200  # PhysioNet files uploaded at once; a bigger ward comes as one long CSV or the CLI


def ward_input() -> list[tuple[str, bytes]]:
    """[(file name, bytes)] the user chose; empty when nothing yet."""
    # Nothing chosen at first, as on Diagnose: a visit alone ranks (and records) nobody.
    how = st.radio("Patients", ["Sample ward", "Upload files"], horizontal=True, key="ward_how", index=None,
                   persist_state="session")
    if how is None:
        return []
    if how == "Sample ward":
        st.caption("Twelve ICU stays from PhysioNet 2012 set A (ODC-BY 1.0), each seen at a different hour of its "
                   "stay, as a ward is at one moment. They are in the model's training data: an illustration.")
        return [(SAMPLE.name, SAMPLE.read_bytes())]
    uploads = st.file_uploader("A long CSV (patient_id,time,variable,value[,unit]) with many patients, a FHIR R4 "
                               "Bundle of Observations (JSON), or PhysioNet 2012 files (one per patient)",
                               type=["csv", "txt", "json"], accept_multiple_files=True)
    if uploads:
        st.session_state.ward_last_upload = [(u.name, u.getvalue()) for u in uploads]
    elif st.session_state.get("ward_last_upload"):  # back from a patient: the browser forgets uploads, we do not
        names = [name for name, _ in st.session_state.ward_last_upload]
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.caption(f"Showing your last upload ({', '.join(map(plain, names[:3]))}{' …' if len(names) > 3 else ''}). Upload "
                     "files to replace it.")
        if right.button("Forget it", icon=":material/delete:"):
            del st.session_state.ward_last_upload
            st.rerun()
    return st.session_state.get("ward_last_upload", []) if not uploads else st.session_state.ward_last_upload


def read_all(files: list[tuple[str, bytes]]) -> tuple[list, list[tuple[str, bytes, str]]]:
    """Stays of every file, in order (a file that cannot be read becomes one (name, error) item, so that
    it is listed, not lost), and for each item its (file name, file bytes, patient id)."""
    items, sources = [], []
    for name, data in files:
        try:
            stays = read_upload(data, name)
        except MedAIError as exc:
            items.append((name, exc))
            sources.append((name, data, name))
            continue
        items.extend(stays)
        sources.extend((name, data, stay.patient_id) for stay in stays)
    return items, sources


def table(entries: list[WardEntry], sources: list[tuple[str, bytes, str]], several_files: bool) -> pd.DataFrame:
    """The worklist as the page shows it: per cent, percentage points and plain column names."""
    # What a nurse acts on first, left to right: a tablet shows five or six columns before the table scrolls.
    return pd.DataFrame([{
        "rank": e.rank, "patient": e.risk.patient_id,
        "risk of death in hospital": None if e.rank is None else 100 * e.risk.mortality_risk,
        CHANGE: None if e.risk_change is None else 100 * e.risk_change,
        "NEWS2 now": None if e.risk.news2_sparse else e.risk.news2_last,
        "NEWS2 response": RESPONSES.get(e.news2_response, ""),
        "data": ("could not be read" if e.risk.status == "error" else "" if e.risk.status != "flagged"
                 else NO_VITAL_SIGNS if NO_VITAL_SIGNS in e.risk.message else "read with care"),
        "NEWS2 not recorded": ", ".join(e.risk.news2_not_recorded),
        **({"file": sources[e.position][0]} if several_files else {}),
        "died when scored alike": e.scored_alike,
        "NEWS2 max": None if e.risk.news2_sparse else e.risk.news2_max,
        "hours of data": None if e.hours_observed is None else round(e.hours_observed, 1),
        "notes": e.row()["message"]} for e in entries])  # the CSV's words, so page and download agree


CHANGE = f"change over {CHANGE_OVER_H:g} h (% points)"
COLUMNS = {"rank": st.column_config.NumberColumn("rank", width="small"),
           "patient": st.column_config.TextColumn("patient", width=95),  # "small" cut a 6-digit ward id
           "risk of death in hospital": st.column_config.ProgressColumn(
               "risk of death", format="%.1f %%", min_value=0, max_value=100, help="In hospital, from icu-mortality."),
           "died when scored alike": st.column_config.TextColumn(
               "died when scored alike", help="How sure: of the validation stays the model scored in the same tenth, "
                                              "how many died in hospital, with a 95 % interval."),
           CHANGE: st.column_config.NumberColumn(
               f"Δ {CHANGE_OVER_H:g} h (pp)", format="%+.1f", width="small",
               help=f"The risk now minus the risk from the data up to {CHANGE_OVER_H:g} h before the latest "
                    "observation, in percentage points (+2.0: from 10 % to 12 %); blank when those earlier data "
                    "were too thin for a figure."),
           "NEWS2 now": st.column_config.NumberColumn("NEWS2 now", width="small",
                                                      help="Blank when most of its parameters were not recorded "
                                                           "(each would score 0, as if normal)."),
           "NEWS2 response": st.column_config.TextColumn(
               "NEWS2 response", help="The RCP's clinical response to NEWS2 now: a registered nurse's assessment "
                                      "at 1–4, an urgent ward-based review when one parameter scores 3, an urgent "
                                      "response at 5–6, an emergency response at 7 or more; routine monitoring at 0."),
           "NEWS2 not recorded": st.column_config.TextColumn(
               "NEWS2 not recorded", help="Parameters with no observation in the last 24 h: each scored 0, as if "
                                          "normal, so the true score may be higher."),
           "data": st.column_config.TextColumn("data", help="'read with care': thin data, implausible values set "
                                                            "aside, skipped rows or doubts about units or times; the "
                                                            "notes say which."),
           "notes": st.column_config.TextColumn("notes", width="large")}


def how_sure() -> str:
    """The ranking's validation ROC-AUC at the hours of data a ward's patients have, from the model card."""
    validation = registry.card(RISK_MODEL)["metrics"]["validation"]
    cut = validation.get("truncated_histories", {})
    by_hours = [(hours, cut[f"first_{hours}_h"]["roc_auc"]) for hours in (12, 24, 36) if f"first_{hours}_h" in cut]
    figures = ", ".join(f"{100 * auc:.0f} % with {hours} h of data" for hours, auc in by_hours)
    return (f"How sure: in validation, a stay that died was ranked above one that survived {figures}"
            f"{' and ' if figures else ''}{100 * validation['roc_auc']:.0f} % with 48 h (ROC-AUC; the model card has "
            "the rest). NEWS2's response is the RCP's, whatever the rank. Select a row (click it, or Shift+Space "
            "from the keyboard) to open the patient.")


st.title("Ward overview")
st.caption(f"Every patient of a file ranked by the risk of death in hospital ({RISK_MODEL}), with how it moved over the "
           f"last {CHANGE_OVER_H:g} hours and NEWS2 now. Research use only: a ranking to read beside NEWS2 and "
           "clinical judgement, not a triage tool. Each patient's risk is recorded in the audit log; its feedback is "
           "given on the Patient timeline.")
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
        st.session_state.ward_several_files = len(files) > 1
        try:
            st.session_state.ward_entries = worklist(items, user=current_user(), source="ui", store=audit_store())
        except MedAIError as exc:  # the model or the audit store failed: say so, never a traceback
            st.error(plain(exc), icon=":material/error:")
            st.stop()
        st.session_state.ward_request = request  # before any Streamlit call, where a rerun interrupts the script
entries: list[WardEntry] = st.session_state.ward_entries

with area.container():
    sources, several_files = st.session_state.ward_sources, st.session_state.ward_several_files
    ranked = [e for e in entries if e.rank is not None]
    apart = [e for e in entries if e.rank is None]
    responses = [RESPONSES[key].split(" (")[0] + f" **{count}**" for key in ACTING_ON
                 if (count := sum(e.news2_response == key for e in entries))]
    st.markdown(f"**{len(ranked)} patient{'s' * (len(ranked) != 1)} ranked**"
                + (f", **{len(apart)} not ranked** (below)" if apart else "")
                + (f". NEWS2 calls for a response: {', '.join(responses)}" if responses else "") + ".")
    twice = sorted({e.risk.patient_id for e in entries if e.duplicate})
    if twice:
        st.warning(f"Given more than once (an id twice, or the same data under two ids): {', '.join(map(plain, twice))}. The "
                   "same patient in two files, or two patients with one id; each line is kept, and its notes say "
                   "which. Check before acting on either.", icon=":material/content_copy:")
    event = None
    if ranked:
        event = st.dataframe(table(ranked, sources, several_files), hide_index=True, width="stretch",
                             placeholder="—", key="ward_table", on_select="rerun", selection_mode="single-row",
                             height=ROW_PX * (min(len(ranked), SHOWN_ROWS) + 1) + 3,  # a small ward whole, unscrolled
                             column_config=COLUMNS)
        st.caption(how_sure())
    missed = None
    if apart:
        st.warning("Not ranked: too little data for a figure, or the file could not be read. An unknown is not a "
                   "low risk: look at these patients too.", icon=":material/warning:")
        unranked = table(apart, sources, several_files).drop(
            columns=["rank", "risk of death in hospital", "died when scored alike"])
        # Why a patient is not ranked is what this table is for: its notes come next to the name, in sight.
        unranked = unranked[["patient", "notes", *(c for c in unranked.columns if c not in ("patient", "notes"))]]
        missed = st.dataframe(unranked, hide_index=True, width="stretch", placeholder="—", key="ward_apart", on_select="rerun",
                              selection_mode="single-row", column_config=COLUMNS)
    picked = [group[selected[0]] for group, chart in ((ranked, event), (apart, missed))  # a stale selection: none
              if chart is not None and (selected := chart.selection.rows) and selected[0] < len(group)]
    for chosen in picked:
        from_file = f" ({sources[chosen.position][0]})" if chosen.duplicate and several_files else ""
        if chosen.risk.status == "error":
            st.info(f"{plain(chosen.risk.patient_id)} could not be read: there is no patient to open.", icon=":material/info:")
        elif st.button(f"Open patient {plain(chosen.risk.patient_id)}{plain(from_file)} on the Patient timeline",
                       icon=":material/monitor_heart:", key=f"open_{chosen.position}"):
            st.session_state.timeline_from_ward = sources[chosen.position]  # that line's own file, not its id's
            st.switch_page("pages/timeline.py")
    rows = pd.DataFrame([e.row() for e in entries], columns=WARD_COLUMNS)
    rows["file"] = [sources[e.position][0] for e in entries]  # as the CLI's CSV
    worklist_csv = to_spreadsheet_csv(rows)
    st.download_button("Download the worklist (CSV)", logged_export(
        lambda: worklist_csv, what="worklist csv", prediction_id=None, user=current_user(),
        settings={"records": [e.risk.record_id for e in entries if e.risk.record_id is not None]}),
        "worklist.csv", "text/csv", on_click="ignore", icon=":material/download:")
