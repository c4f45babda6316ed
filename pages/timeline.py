"""Patient timeline: vitals and labs over the ICU stay, forecasts of the next hours, NEWS2, the mortality
risk curve with its drivers, and a survival curve — for a shipped sample patient or an uploaded file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from medai import registry
from medai.cards import band_bias
from medai.errors import MedAIError
from medai.spreadsheet import to_spreadsheet_csv
from medai.timeline.forecast import MAX_STALE_H, input_ages, not_forecast
from medai.timeline.io import NO_PATIENT_ID
from medai.timeline.sources import read_upload
from medai.timeline.vocabulary import variables
from medai.timeline.mortality import too_little_data
from medai.timeline.news2 import HIGH, MEDIUM
from medai.timeline.service import (FORECAST_COLUMNS, FORECAST_MODEL, RISK_COLUMNS, RISK_MODEL, SIMILAR_MODEL,
                                    SURVIVAL_MODEL, TimelineView, timeline)
from medai.timeline.similar import ICU_TYPES, UNLIKE_PERCENTILE, SimilarStays
from pages.common import (audit_store, cached_model, current_user, logged_export, results_area,
                          open_page, plain)
from pages.feedback import feedback_control
from pages.timeline_charts import labs_figure, vitals_figure

open_page("pages/timeline.py")

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data" / "timeline"
FROM_WARD = "From the ward overview"
KEPT_VIEWS = 20  # patients whose figures a session keeps, so that going back to one records nothing new
OLD_INPUT_H = 2.0  # a forecast resting on an observation older than this is named under the chart


def patient_input() -> tuple[str, bytes]:
    """(file name, bytes) the user chose; empty bytes when nothing yet. A patient opened from the Ward
    overview comes with its own file, (name, bytes, patient id) in ``timeline_ward``; the patient is then
    preselected in the file's list."""
    handed = st.session_state.pop("timeline_from_ward", None)
    if handed:
        st.session_state.timeline_ward = handed
        st.session_state.timeline_how = FROM_WARD
    options = ["Sample patient", "Upload a file"] + ([FROM_WARD] if "timeline_ward" in st.session_state else [])
    how = st.radio("Patient", options, horizontal=True, key="timeline_how", persist_state="session")
    if how == FROM_WARD:
        name, data, patient = st.session_state.timeline_ward
        st.caption(f"Patient {plain(patient)} of {plain(name)}, opened from the Ward overview.")
        return name, data
    if how == "Upload a file":
        upload = st.file_uploader("A PhysioNet 2012 file (Time,Parameter,Value), a long CSV "
                                  "(patient_id,time,variable,value[,unit]) or a FHIR R4 Bundle of Observations (JSON)",
                                  type=["csv", "txt", "json"])
        return (upload.name, upload.getvalue()) if upload else ("", b"")
    # None until picked, as on Diagnose: a visit alone assesses (and records) nobody.
    name = st.selectbox("Sample patient (PhysioNet 2012 set A, ODC-BY 1.0)", key="timeline_sample", index=None,
                        persist_state="session",
                        options=sorted([p.name for p in SAMPLES.glob("*.txt")]
                                       + [p.name for p in SAMPLES.glob("long_format_*.csv")]),  # not the ward's file
                        placeholder="Choose a sample patient",
                        help="These stays are in the models' training data: their figures illustrate, they are no "
                             "evidence of accuracy (the model cards have that).")
    return (name, (SAMPLES / name).read_bytes()) if name else ("", b"")


def forecast_table(forecasts) -> pd.DataFrame:
    """One row per forecast point, named as the charts name it, hours and values rounded."""
    return pd.DataFrame([{"variable": variables()[f.variable].label, "unit": f.unit, "hours ahead": f.hours_ahead,
                          "time since admission (h)": round(f.time, 1), "low (p10)": round(f.p10, 1),
                          "median (p50)": round(f.p50, 1), "high (p90)": round(f.p90, 1)} for f in forecasts])


def forecast_inputs_note(stay) -> str:
    """Which forecasts rest on an old observation, and which recorded variables get none, and why."""
    ages = input_ages(stay)
    old = [f"{variables()[n].label} ({age:.0f} h)" for n, age in ages.items() if OLD_INPUT_H < age <= MAX_STALE_H]
    missing = not_forecast(stay)
    return ((f"Forecast from an older observation (hours before {stay.hours:.1f} h): {', '.join(old)}. " if old else "")
            + (f"Not forecast: {', '.join(missing)}. " if missing else ""))


st.title("Patient timeline")
st.caption("Vitals and labs of an ICU stay, where the vitals may head in the next 6 hours, NEWS2, the risk of "
           "in-hospital death hour by hour and why, and survival over a year. Research use only.")
name, data = patient_input()
if name and not data.strip():
    st.error(f"{plain(name)} is empty: there is nothing to read.", icon=":material/error:")
    st.stop()
if not data:
    st.info("Pick a sample patient or upload a file to begin.")
    st.stop()
try:
    stays = read_upload(data, name)
except MedAIError as exc:
    st.error(plain(exc), icon=":material/error:")
    st.stop()
unnamed = [s for s in stays if s.patient_id == NO_PATIENT_ID]  # rows that name no patient: said here, not a patient
stays = [s for s in stays if s.patient_id != NO_PATIENT_ID]
if unnamed:
    st.warning(f"Rows that name no patient were not read ({plain('; '.join(unnamed[0].problems))}): give each its "
               "patient_id to read them.", icon=":material/warning:")
if not stays:
    st.stop()
stay = stays[0]
if len(stays) > 1:
    ids = [s.patient_id for s in stays]
    handed = st.session_state.timeline_ward[2] if st.session_state.get("timeline_how") == FROM_WARD else None
    chosen = st.selectbox("Patient in this file", ids, index=ids.index(handed) if handed in ids else 0)
    stay = next(s for s in stays if s.patient_id == chosen)

request = hashlib.sha256(data).hexdigest() + stay.patient_id
views = st.session_state.setdefault("timeline_views", {})  # this session's patients, each assessed (and recorded) once
if request in views:
    st.session_state.timeline_view, st.session_state.timeline_request = views[request], request
changed = st.session_state.get("timeline_request") != request
area = results_area(changed)  # another patient blanks the previous patient's figures at once
if changed:
    for model_name in (RISK_MODEL, FORECAST_MODEL, SURVIVAL_MODEL, SIMILAR_MODEL):
        try:
            cached_model(model_name)
        except MedAIError:
            pass
    with st.spinner("Assessing the stay…"):
        try:
            view = timeline(stay, user=current_user(), source="ui", store=audit_store())
        except MedAIError as exc:  # a model or the audit store failed: say so, never a traceback
            st.error(plain(exc), icon=":material/error:")
            st.stop()
        # Kept before any other Streamlit call: a rerun asked for meanwhile interrupts the script at the next
        # one, and must find this patient assessed (and recorded) already.
        st.session_state.timeline_view, st.session_state.timeline_request = view, request
        views[request] = view
    while len(views) > KEPT_VIEWS:
        views.pop(next(iter(views)))


def similar_section(similar: SimilarStays) -> None:
    """What happened to the training stays most like this one, as counts, with how far to trust them."""
    st.subheader("Stays like this one")
    died, alive, stay_days = st.columns(3)
    low, high = similar.died_ci95
    died.metric("Died in hospital", f"{similar.died_in_hospital} of {similar.stays}")
    died.caption(f"{100 * similar.died_in_hospital / similar.stays:.0f} % (95 % interval {100 * low:.0f}–{100 * high:.0f} %)")
    alive.metric("Alive at a year", f"{similar.alive_at_1_year} of {similar.stays}")
    low, high = similar.alive_ci95
    alive.caption(f"{100 * similar.alive_at_1_year / similar.stays:.0f} % (95 % interval {100 * low:.0f}–{100 * high:.0f} %)")
    first, median, third = similar.survivors_stay_days
    stay_days.metric("Survivors' hospital stay", "—" if median != median else f"{median:.0f} days")
    if median == median:
        stay_days.caption(f"median; middle half {first:.0f}–{third:.0f} days")
    card = registry.card(SIMILAR_MODEL)["metrics"]["validation"]["by_cutoff"][f"{similar.cutoff_h:g}_h"]
    model_auc = card.get("icu_mortality_roc_auc_same_hours")
    st.caption(f"The {similar.stays} stays in the training data ({ICU_TYPES[similar.icu_type]}) whose key vitals and "
               f"labs (last, lowest and highest values) and age were most like this patient's at {similar.cutoff_h:g} h "
               "of their stays: what happened to them, a count, not a prediction for this patient, so it may differ "
               "from the models' figures above. In validation, a stay that died had more deaths among such stays than "
               f"one that survived {100 * card['roc_auc']:.0f} % of the time (95 % interval "
               f"{100 * card['roc_auc_95ci'][0]:.0f}–{100 * card['roc_auc_95ci'][1]:.0f} %)"
               + (f"; the risk model ranked them right {100 * model_auc:.0f} % of the time" if model_auc else "")
               + ". Alike in measurements, not in diagnosis or treatment, which the data do not hold. The patient's own "
               "stay is left out when it is among them (the sample patients are training stays). Counts of past "
               "outcomes: no feedback is asked for them.")
    if similar.unlike_most:
        st.warning(f"This stay is unlike most: its nearest stays lie further from it than for "
                   f"{UNLIKE_PERCENTILE:.0f} % of validation stays, so they are less alike than usual.",
                   icon=":material/warning:")


def draw(view: TimelineView) -> None:
    """Everything about the assessed stay: figures, charts, tables, feedback."""
    stay, risk = view.stay, view.risk

    if risk.status == "error":
        st.error(f"Patient {plain(risk.patient_id)}: {plain(risk.message)}", icon=":material/error:")
        st.stop()
    if risk.status == "flagged":  # the notes sit at the foot of the page: say where each skipped row is named
        st.warning(plain(risk.message) + (" Every note is listed under 'Reading notes' at the foot of the page."
                                          if stay.problem_count > 1 else ""), icon=":material/warning:")
    # With too little data the headline figures are not shown as plain numbers: they stay in a sentence.
    thin = too_little_data(stay)
    alive_at_year = f"{100 * view.survival[-1]:.0f} %" if len(view.survival) else None
    if thin:
        st.warning(f"Too little data for headline figures ({'; '.join(thin)}). The models' rough guesses: "
                   f"mortality risk about {100 * risk.mortality_risk:.0f} %" + (
                       f", alive at 1 year about {alive_at_year}" if alive_at_year else "") + ".",
                   icon=":material/block:")
    figures = st.columns(4)
    # Short labels and values: a tile cuts what does not fit (a tablet's quarter width), qualifiers go below.
    figures[0].metric("Death in hospital", "—" if thin else f"{100 * risk.mortality_risk:.1f} %",
                      help="The model's risk of in-hospital death from the data so far.")
    # Each missing NEWS2 parameter scores 0, as if normal: with most of them missing the total means little.
    sparse_news2 = risk.news2_sparse
    figures[1].metric("NEWS2 now / max", "—" if sparse_news2 else f"{risk.news2_last} / {risk.news2_max}",
                      delta="incomplete" if risk.news2_not_recorded else None, delta_color="off", delta_arrow="off",
                      help="Points (RCP NEWS2). Incomplete: a parameter was not recorded in the last 24 h and "
                           "scores 0, as if normal.")
    if alive_at_year:
        figures[2].metric("Alive at 1 year", "—" if thin else alive_at_year, help="From icu-survival.")
    figures[3].metric("Hours of data", f"{stay.hours:.1f} h", delta=f"{len(stay.observed())} variables seen",
                      delta_color="off", delta_arrow="off")
    if view.risk_evidence and not thin:
        evidence = view.risk_evidence
        st.caption(f"How sure: of {evidence['cases']} validation stays the model scored "
                   f"{100 * evidence['low']:.0f}–{100 * evidence['high']:.0f} % (on average "
                   f"{100 * evidence['scored']:.0f} %), {100 * evidence['observed']:.0f} % died in hospital (95 % "
                   f"interval {100 * evidence['ci95'][0]:.0f}–{100 * evidence['ci95'][1]:.0f} %; the model card's "
                   "reliability curve)." + band_bias(evidence, "death in hospital"))
    if risk.news2_sparse:
        st.warning(f"NEWS2 is not scored: no {', '.join(risk.news2_not_recorded)} in the last 24 h, most of its "
                   "parameters.", icon=":material/warning:")
    elif risk.news2_not_recorded:
        st.warning(f"NEWS2 is incomplete: no {', '.join(risk.news2_not_recorded)} in the last 24 h. Each missing "
                   "parameter scores 0, as if normal, so the true score may be higher.", icon=":material/warning:")
    if view.disagreement and not thin:  # with no figure shown there is nothing to compare
        st.warning(view.disagreement, icon=":material/compare_arrows:")
    age = stay.descriptors.get("Age", float("nan"))
    st.markdown(f"**Patient {plain(risk.patient_id)}** · " + (f"age {age:.0f} years" if age == age else "age not given")
                + f" · {len(stay.time)} observation{'s' * (len(stay.time) != 1)}")
    more_likely = "died_in_hospital" if (risk.mortality_risk or 0) >= 0.5 else "survived"  # the model's own reading
    if not thin:  # no verdict is asked on a figure that is not shown
        feedback_control(view.record_ids.get(RISK_MODEL), registry.get_spec(RISK_MODEL).labels, given=more_likely,
                         title="Feedback on the mortality risk")

    st.plotly_chart(vitals_figure(view, dark=st.context.theme.type == "dark"), width="stretch")
    forecasts_said = (("From this little data the forecasts are rough guesses. " if thin else "")
                      + f"Dashed: forecast median for the hours after {stay.hours:.1f} h (the stay's last timestamp), "
                      "drawn from each variable's last observation; shaded: 80 % interval. ")
    st.caption((forecasts_said if view.forecasts else "No forecast: no recent vital sign to start from. ")
               + forecast_inputs_note(stay) + f"NEWS2 lines at {MEDIUM} (dotted: urgent response) and {HIGH} (dashed: "
               "emergency response). Risk: recomputed from the data up to each hour; bars show which hours pushed it "
               "up (orange, above 0) or down (blue, below 0).")

    drivers, survival = st.columns(2)
    if thin:  # what moved a guess, and a year's curve from it, would read as findings
        drivers.info("With this little data, neither what moved the risk, nor a survival curve, nor the stays like "
                     "this one are shown.", icon=":material/block:")
    with drivers:
        if not thin:
            st.subheader("What moved the risk")
            table = pd.DataFrame([{"variable": variables()[n].label,
                                   "change (pp)": round(100 * d, 2),
                                   "direction": "raises" if d > 0 else "lowers"} for n, d in view.drivers[:10]])
            # Narrow columns for the numbers: at a tablet's half width the names took it all, values hidden.
            st.dataframe(table, placeholder="—", hide_index=True, width="stretch",
                         column_config={"change (pp)": st.column_config.NumberColumn(
                                            width="small", help="Change in risk, percentage points"),
                                        "direction": st.column_config.TextColumn(width="small")})
            st.caption("Occlusion: the risk with all data minus the risk with that variable's observations removed, "
                       "as if never measured. Whether a variable was measured carries meaning too (in ICU data, "
                       "no respiratory rate is often a ventilated patient), so read a driver with that in mind.")
    with survival:
        if len(view.survival) and not thin:
            st.subheader("Survival curve")
            curve = go.Figure(go.Scatter(x=view.survival_days, y=100 * view.survival, mode="lines",
                                         line={"shape": "hv"}))
            curve.update_layout(xaxis_title="days since ICU admission", yaxis_title="probability alive (%)",
                                yaxis_range=[0, 100], height=320, margin={"l": 40, "r": 20, "t": 20, "b": 40})
            st.plotly_chart(curve, width="stretch")
            if view.survival_evidence:
                died = view.survival_evidence
                st.caption(f"How sure: of {died['cases']} validation stays given "
                           f"{100 * (1 - died['high']):.0f}–{100 * (1 - died['low']):.0f} % to be alive at a year "
                           f"(on average {100 * (1 - died['scored']):.0f} %), {100 * (1 - died['observed']):.0f} % "
                           f"were (95 % interval {100 * (1 - died['ci95'][1]):.0f}–{100 * (1 - died['ci95'][0]):.0f} "
                           "%)." + band_bias(died, "death within a year", shown="survival"))

    if view.similar is not None and not thin:
        similar_section(view.similar)
    for name, why in view.unavailable.items():
        st.info(f"{name} could not be used, so its panel is missing: {why} The Admin page lists each model's state.",
                icon=":material/info:")
    labs = labs_figure(stay)
    if labs is not None:
        st.subheader("Labs")
        st.plotly_chart(labs, width="stretch")
        st.caption("Green band: a typical adult reference interval (your laboratory's may differ); none is drawn for "
                   "troponins, whose limits depend on the assay.")
    if view.forecasts:
        with st.expander("Forecast table"):
            one_decimal = st.column_config.NumberColumn(format="%.1f")  # "83.0" beside "85.5", not "83"
            st.dataframe(forecast_table(view.forecasts), placeholder="—", hide_index=True, width="stretch",
                         column_config={name: one_decimal for name in ("time since admission (h)", "low (p10)",
                                                                       "median (p50)", "high (p90)")})
    # Both as `timeline risk` and `timeline forecast` write them, with their status and message.
    risk_csv = to_spreadsheet_csv(pd.DataFrame([risk.row()], columns=RISK_COLUMNS))
    forecast_csv = to_spreadsheet_csv(pd.DataFrame(view.forecast_rows, columns=FORECAST_COLUMNS))
    downloads = [("Download the risk (CSV)", risk_csv, "risk.csv", RISK_MODEL)] + (
        [("Download the forecast (CSV)", forecast_csv, "forecast.csv", FORECAST_MODEL)] if view.forecasts else [])
    for column, (label, data, name, model) in zip(st.columns(2), downloads):
        record = view.record_ids.get(model)
        column.download_button(label, logged_export(lambda data=data: data, what=name, prediction_id=record,
                                                    user=current_user()),
                               name, "text/csv", on_click="ignore", icon=":material/download:")
    if (stay.unknown or stay.out_of_range or stay.problems or stay.converted or stay.doubts or stay.renamed
            or stay.date_order):
        with st.expander("Reading notes"):
            for line in [*stay.doubts, *stay.problems,
                         *(f"unknown variable kept but not used: {k} ({v} rows)" for k, v in stay.unknown.items()),
                         *(f"set aside as implausible: {o}" for o in stay.out_of_range), *stay.converted,
                         *stay.renamed, *filter(None, [stay.date_order])]:
                st.markdown(f"- {plain(line)}")


with area.container():
    draw(st.session_state.timeline_view)
