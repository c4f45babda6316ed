"""Patient timeline: vitals and labs over the ICU stay, forecasts of the next hours, NEWS2, the mortality
risk curve with its drivers, and a survival curve — for a shipped sample patient or an uploaded file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from medai import registry
from medai.cards import band_bias
from medai.errors import MedAIError
from medai.timeline.forecast import MAX_STALE_H, input_ages, not_forecast
from medai.timeline.sources import read_upload
from medai.timeline.vocabulary import reference_ranges, variables
from medai.timeline.mortality import too_little_data
from medai.timeline.news2 import HIGH, MEDIUM, PARAMETERS as NEWS2_PARAMETERS
from medai.timeline.service import (FORECAST_COLUMNS, FORECAST_MODEL, RISK_COLUMNS, RISK_MODEL, SIMILAR_MODEL,
                                    SURVIVAL_MODEL, TimelineView, timeline)
from medai.timeline.similar import ICU_TYPES, UNLIKE_PERCENTILE, SimilarStays
from pages.common import (audit_store, cached_model, current_user, keep_across_pages, logged_export, results_area,
                          open_page)
from pages.feedback import feedback_control

open_page("pages/timeline.py")
keep_across_pages("timeline_how", "timeline_sample")

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data" / "timeline"
# Arterial line and cuff apart: six pressures with their bands in one panel could not be read apart.
PANELS = (("Heart rate", ("HR",)), ("Blood pressure, arterial line", ("SysABP", "DiasABP", "MAP")),
          ("Blood pressure, cuff", ("NISysABP", "NIDiasABP", "NIMAP")),
          ("Respiratory rate", ("RespRate",)), ("Temperature", ("Temp",)), ("O2 saturation", ("SaO2",)))
# One colour per variable, the same role alike in both pressure panels (systolic blue, diastolic red, mean green).
COLOURS = {"HR": "#9467bd", "SysABP": "#1f77b4", "NISysABP": "#1f77b4", "DiasABP": "#d62728", "NIDiasABP": "#d62728",
           "MAP": "#2ca02c", "NIMAP": "#2ca02c", "RespRate": "#ff7f0e", "Temp": "#8c564b", "SaO2": "#17becf"}
FROM_WARD = "From the ward overview"
KEPT_VIEWS = 20  # patients whose figures a session keeps, so that going back to one records nothing new
OLD_INPUT_H = 2.0  # a forecast resting on an observation older than this is named under the chart


def patient_input() -> tuple[str, bytes]:
    """(file name, bytes) the user chose; empty bytes when nothing yet. A patient opened from the Ward
    overview comes with its own file, (name, bytes, patient id) in ``timeline_ward``; the patient is then
    preselected in the file's list."""
    handed = st.session_state.pop("timeline_from_ward", None)
    if handed:  # the kept copy too: coming back through the sidebar keeps the ward's patient
        st.session_state.timeline_ward = handed
        st.session_state.timeline_how = st.session_state["_kept_timeline_how"] = FROM_WARD
    options = ["Sample patient", "Upload a file"] + ([FROM_WARD] if "timeline_ward" in st.session_state else [])
    how = st.radio("Patient", options, horizontal=True, key="timeline_how")
    if how == FROM_WARD:
        name, data, patient = st.session_state.timeline_ward
        st.caption(f"Patient {patient} of {name}, opened from the Ward overview.")
        return name, data
    if how == "Upload a file":
        upload = st.file_uploader("A PhysioNet 2012 file (Time,Parameter,Value), a long CSV "
                                  "(patient_id,time,variable,value[,unit]) or a FHIR R4 Bundle of Observations (JSON)",
                                  type=["csv", "txt", "json"])
        return (upload.name, upload.getvalue()) if upload else ("", b"")
    name = st.selectbox("Sample patient (PhysioNet 2012 set A, ODC-BY 1.0)", key="timeline_sample",
                        options=sorted([p.name for p in SAMPLES.glob("*.txt")]
                                       + [p.name for p in SAMPLES.glob("long_format_*.csv")]),  # not the ward's file
                        help="These stays are in the models' training data: their figures illustrate, they are no "
                             "evidence of accuracy (the model cards have that).")
    return name, (SAMPLES / name).read_bytes()


def unit(name: str) -> str:
    return variables()[name].unit


def vitals_figure(view) -> go.Figure:
    """Vitals panels with observed points and forecast medians and 80 % bands, then NEWS2 and the risk curve."""
    stay = view.stay
    rows = [(title, [n for n in names if n in stay.observed()]) for title, names in PANELS]
    rows = [(title, names) for title, names in rows if names]
    risk_title = "Mortality risk (%, line) and its hourly change (pp, bars)" + (
        ": rough guesses, too little data" if too_little_data(stay) else "")  # as the headline's "—" says
    unscored = bool(len(view.news2.missing)) and bool((view.news2.missing > len(NEWS2_PARAMETERS) / 2).all())
    news2_title = "NEWS2 (points)" + (": not scored, most of its parameters not recorded" if unscored else "")
    titles = [f"{t} ({unit(n[0])})" for t, n in rows] + [news2_title, risk_title]
    # The risk panel's bars get their own axis on the right: a change in percentage points is not a risk.
    specs = [[{}]] * (len(titles) - 1) + [[{"secondary_y": True}]]
    figure = make_subplots(rows=len(titles), cols=1, shared_xaxes=True, subplot_titles=titles, vertical_spacing=0.03,
                           specs=specs)
    for row, (_, names) in enumerate(rows, start=1):
        for name in names:
            colour, (times, values) = COLOURS[name], stay.series(name)
            shown_name = variables()[name].label
            # One legend entry per variable: hiding it hides its forecast and band too.
            figure.add_trace(go.Scatter(x=times, y=values, mode="markers+lines", name=f"{shown_name} ({unit(name)})",
                                        legendgroup=name, marker={"size": 4, "color": colour},
                                        line={"width": 1, "color": colour}), row=row, col=1)
            points = [f for f in view.forecasts if f.variable == name]
            if points:
                # From the last observation, not from "now": an old value must not look like a new reading.
                x, last = [float(times[-1])] + [f.time for f in points], values[-1]
                figure.add_trace(go.Scatter(x=x + x[::-1], y=[last] + [f.p90 for f in points]
                                            + [f.p10 for f in points][::-1] + [last], mode="lines", fill="toself",
                                            opacity=0.2, line={"width": 0, "color": colour}, legendgroup=name,
                                            name=f"{shown_name} 80 % interval", showlegend=False, hoverinfo="skip"),
                                 row=row, col=1)
                figure.add_trace(go.Scatter(x=x, y=[last] + [f.p50 for f in points], mode="lines", legendgroup=name,
                                            line={"dash": "dash", "color": colour}, showlegend=False,
                                            name=f"{shown_name} forecast (median)"), row=row, col=1)
    news_row, risk_row = len(rows) + 1, len(rows) + 2
    # Fixed colours: the same line looks the same for every patient, and never like the red / green bars.
    # An hour when most parameters were unrecorded is no score (each would count 0, as if normal): a gap, as "—".
    scored = np.where(view.news2.missing > len(NEWS2_PARAMETERS) / 2, np.nan, view.news2.total)
    figure.add_trace(go.Scatter(x=view.news2.hours, y=scored, mode="lines",
                                line={"shape": "hv", "color": "#444444"}, name="NEWS2"), row=news_row, col=1)
    # Labels on the right, over the forecast hours, where the NEWS2 line has ended.
    for level, colour, meaning in ((MEDIUM, "orange", "urgent response"), (HIGH, "red", "emergency")):
        figure.add_hline(y=level, line={"dash": "dot", "color": colour}, row=news_row, col=1,
                         annotation_text=f"{level}: {meaning}", annotation_position="top right",
                         annotation_bgcolor="rgba(255, 255, 255, 0.8)")  # legible where the NEWS2 line crosses
    figure.add_trace(go.Scatter(x=view.risk_hours, y=100 * view.risk_curve, mode="lines+markers",
                                marker={"size": 4, "color": "#6a3d9a"}, line={"color": "#6a3d9a"},
                                name="mortality risk (%)"), row=risk_row, col=1)
    change = np.diff(100 * view.risk_curve, prepend=100 * view.risk_curve[:1])
    for rose, colour, what in ((True, "crimson", "rose"), (False, "seagreen", "fell")):  # a legend swatch each
        hours = (change > 0) == rose
        figure.add_trace(go.Bar(x=view.risk_hours[hours], y=change[hours], marker={"color": colour}, opacity=0.5,
                                name=f"risk {what} that hour (percentage points)"), row=risk_row, col=1,
                         secondary_y=True)
    # Symmetric about 0, with 0 a tick (an overlaying axis otherwise syncs its ticks to the risk axis's).
    reach = 1.15 * max(1.0, float(np.max(np.abs(change))))
    step = next(s for s in (0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100) if 3 * s >= reach)
    figure.update_yaxes(title_text="pp", row=risk_row, col=1, secondary_y=True, showgrid=False, zeroline=True,
                        range=[-reach, reach], tickmode="linear", tick0=0, dtick=step)
    figure.update_xaxes(title_text="hours since ICU admission", row=risk_row, col=1)
    plot_height = 190 * len(titles) - 80
    # The legend hangs a fixed 70 px below the plot area (clear of the axis title), however many panels.
    figure.update_layout(height=plot_height + 40 + 190, margin={"l": 50, "r": 30, "t": 40, "b": 190},
                         legend={"orientation": "h", "y": -70 / plot_height, "yanchor": "top"})
    return figure


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


def labs_figure(stay) -> go.Figure | None:
    """Up to nine of the most measured labs, one small panel each, over a green band of the typical adult
    reference interval where there is one."""
    counts = {n: len(stay.series(n)[0]) for n in stay.observed() if variables()[n].group == "lab"}
    shown = sorted(counts, key=lambda n: -counts[n])[:9]
    if not shown:
        return None
    columns = 3
    figure = make_subplots(rows=int(np.ceil(len(shown) / columns)), cols=columns, shared_xaxes=True,
                           subplot_titles=[f"{variables()[n].label} ({unit(n)})" for n in shown])
    for k, name in enumerate(shown):
        times, values = stay.series(name)
        row, col = k // columns + 1, k % columns + 1
        figure.add_trace(go.Scatter(x=times, y=values, mode="markers+lines", name=name, showlegend=False),
                         row=row, col=col)
        if name in reference_ranges():  # the band sets the scale: 137 → 136 mmol/L must not look dramatic
            low, high = reference_ranges()[name]
            figure.add_hrect(y0=low, y1=high, fillcolor="seagreen", opacity=0.12, line_width=0, row=row, col=col)
            bottom, top = min(low, float(np.min(values))), max(high, float(np.max(values)))
            margin = 0.25 * (top - bottom)  # the band's edges stay in sight
            figure.update_yaxes(range=[bottom - margin, top + margin], row=row, col=col)
    figure.update_xaxes(showticklabels=True)  # every panel keeps its time axis, not only the bottom row
    figure.update_xaxes(title_text="hours since ICU admission", row=int(np.ceil(len(shown) / columns)))
    # A taller top margin keeps the first row's titles clear of the chart's toolbar.
    figure.update_layout(height=230 * int(np.ceil(len(shown) / columns)) + 30,
                         margin={"l": 40, "r": 20, "t": 70, "b": 40})
    return figure


st.title("Patient timeline")
st.caption("Vitals and labs of an ICU stay, where the vitals may head in the next 6 hours, NEWS2, the risk of "
           "in-hospital death hour by hour and why, and survival over a year. Research use only.")
name, data = patient_input()
if name and not data.strip():
    st.error(f"{name} is empty: there is nothing to read.", icon=":material/error:")
    st.stop()
if not data:
    st.info("Pick a sample patient or upload a file to begin.")
    st.stop()
try:
    stays = read_upload(data, name)
except MedAIError as exc:
    st.error(str(exc), icon=":material/error:")
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
            st.session_state.timeline_view = timeline(stay, user=current_user(), source="ui", store=audit_store())
        except MedAIError as exc:  # a model or the audit store failed: say so, never a traceback
            st.error(str(exc), icon=":material/error:")
            st.stop()
    st.session_state.timeline_request = request
    views[request] = st.session_state.timeline_view
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
        st.error(f"Patient {risk.patient_id}: {risk.message}", icon=":material/error:")
        st.stop()
    if risk.status == "flagged":
        st.warning(risk.message, icon=":material/warning:")
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
    st.markdown(f"**Patient {risk.patient_id}** · " + (f"age {age:.0f} years" if age == age else "age not given")
                + f" · {len(stay.time)} observation{'s' * (len(stay.time) != 1)}")
    more_likely = "died_in_hospital" if (risk.mortality_risk or 0) >= 0.5 else "survived"  # the model's own reading
    if not thin:  # no verdict is asked on a figure that is not shown
        feedback_control(view.record_ids.get(RISK_MODEL), registry.get_spec(RISK_MODEL).labels, given=more_likely,
                         title="Feedback on the mortality risk")

    st.plotly_chart(vitals_figure(view), width="stretch")
    forecasts_said = (("From this little data the forecasts are rough guesses. " if thin else "")
                      + f"Dashed: forecast median for the hours after {stay.hours:.1f} h (the stay's last timestamp), "
                      "drawn from each variable's last observation; shaded: 80 % interval. ")
    st.caption((forecasts_said if view.forecasts else "No forecast: no recent vital sign to start from. ")
               + forecast_inputs_note(stay) + f"NEWS2 dotted lines at {MEDIUM} (urgent response) and {HIGH} (emergency response). Risk: recomputed from "
               "the data up to each hour; bars show which hours pushed it up (red) or down (green).")

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
    risk_csv = pd.DataFrame([risk.row()], columns=RISK_COLUMNS).to_csv(index=False)
    forecast_csv = pd.DataFrame(view.forecast_rows, columns=FORECAST_COLUMNS).to_csv(index=False)
    downloads = [("Download the risk (CSV)", risk_csv, "risk.csv", RISK_MODEL)] + (
        [("Download the forecast (CSV)", forecast_csv, "forecast.csv", FORECAST_MODEL)] if view.forecasts else [])
    for column, (label, data, name, model) in zip(st.columns(2), downloads):
        record = view.record_ids.get(model)
        column.download_button(label, logged_export(lambda data=data: data, what=name, prediction_id=record,
                                                    user=current_user()),
                               name, "text/csv", on_click="ignore", icon=":material/download:")
    if stay.unknown or stay.out_of_range or stay.problems or stay.converted or stay.doubts or stay.renamed:
        with st.expander("Reading notes"):
            for line in [*stay.doubts, *stay.problems,
                         *(f"unknown variable kept but not used: {k} ({v} rows)" for k, v in stay.unknown.items()),
                         *(f"set aside as implausible: {o}" for o in stay.out_of_range), *stay.converted,
                         *stay.renamed]:
                st.markdown(f"- {line}")


with area.container():
    draw(st.session_state.timeline_view)
