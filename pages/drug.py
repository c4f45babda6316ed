"""Drug screening: molecules in → validity, drug-likeness, alerts, predicted properties with uncertainty,
percentiles among approved drugs; for a chosen lead, better analogues on a Pareto front."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from medai import registry
from medai.drug.catalog import DRUG_MODELS
from medai.drug.export import thumbnail_uri, to_sdf, to_svg
from medai.drug.io import read_molecules, read_smiles_lines
from medai.drug.lead import (OBJECTIVE_COLUMNS, OBJECTIVE_LABELS, OBJECTIVES, default_weights, objectives_of, optimize,
                             outside_weighted_domains)
from medai.drug.pipeline import INORGANIC_NOTE
from medai.drug.reference import approved_drug_count
from medai.drug.service import (SCREEN_MODELS, ScreenResult, prediction_units,
                                screen)
from medai.errors import MedAIError, TooManyMoleculesError
from medai.spreadsheet import to_spreadsheet_csv
from pages.colours import MID_GREY, VERMILLION
from pages.common import (audit_store, cached_model, current_user, logged_export, results_area,
                          open_page, plain)
from pages.feedback import feedback_control

open_page("pages/drug.py")

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data" / "drug"
THUMBNAILS = 300
PAGE_MAX_MOLECULES = 5_000  # about 30 s of screening on 2 cores
# 200 characters for each of those molecules; Streamlit cuts a longer value on the server too, so a client
# that ignores the field's cap cannot send 60 MB to be read (which took 2.6 GB)
PASTE_MAX_CHARS = 1_000_000
KEPT_SCREENS = 4  # this session's latest inputs, so switching back to one neither re-screens nor re-records it
RADAR_AXES = {"mw": "MW", "clogp": "cLogP", "tpsa": "TPSA", "hbd": "HBD", "hba": "HBA",
              "rotatable_bonds": "Rot. bonds", "qed": "QED", "logS": "logS", "logD": "logD",
              "clinical_toxicity": "Clin. tox", "bbb_penetration": "BBB"}
SHOWN = {"logS": "logS (log mol/L)", "logD": "logD (pH 7.4)", "bbb_penetration": "P(BBB+)",
         "clinical_toxicity": "P(clin. tox)", "bace1_active": "P(BACE-1)"}
# Probabilities are shown in per cent to one decimal: on a 0-1 scale with two decimals a rare event's
# probability and its SD both read "0.00", as if the model were certain.
UNITS = prediction_units()
PERCENT = {column for column, unit in UNITS.items() if unit == "probability"}
FULL_BAR_PERCENT, FULL_BAR_LOG_UNITS = 50, 2.0  # SDs at which a prediction says next to nothing
PAGE_COLUMNS = ("structure", "models in domain", "max P(Tox21)")  # the table's own names (structure: made here)


def measured_values(key: str, model_name: str) -> dict[str, object] | None:
    """Override inputs: measured values of some screened molecules for ``model_name``'s first property."""
    st.caption(f"Measured values that contradict the model ({registry.get_spec(model_name).labels[0]} or a class 0/1).")
    edited = st.data_editor(pd.DataFrame({"molecule id": pd.Series(dtype=str), "measured value": pd.Series(dtype=float)}),
                            num_rows="dynamic", key=key, hide_index=True)
    rows = [{"id": str(row["molecule id"]), "value": float(row["measured value"])} for _, row in edited.dropna().iterrows()]
    return {"measured": rows} if rows else None


def molecule_input() -> tuple[str, bytes, str]:
    """The molecules the user gave: (name, bytes, kind) with kind ``"file"`` or ``"text"``; empty if none."""
    how = st.radio("Molecules", ["Paste SMILES", "Upload a file", "Sample molecules"], horizontal=True,
                   key="drug_how", persist_state="session")
    if how == "Paste SMILES":
        text = st.text_area("One SMILES per line, optionally followed by a name",
                            placeholder="CC(=O)Oc1ccccc1C(=O)O aspirin", height=140, key="drug_text",
                            max_chars=PASTE_MAX_CHARS, persist_state="session",
                            help=f"Up to {PAGE_MAX_MOLECULES:,} molecules and {PASTE_MAX_CHARS:,} characters; a "
                                 "longer paste is not taken. For more, use `python -m medai screen`.")
        return "pasted", text.encode(), "text"
    if how == "Upload a file":
        upload = st.file_uploader("CSV with a 'smiles' column (and optional id/name), .smi, or SDF (gzipped too)",
                                  type=["csv", "tsv", "smi", "txt", "sdf", "sd", "gz"])
        return (upload.name, upload.getvalue(), "file") if upload else ("", b"", "file")
    name = st.selectbox("Sample file", sorted(p.name for p in SAMPLES.glob("*.csv")), key="drug_sample",
                        persist_state="session")
    return name, (SAMPLES / name).read_bytes(), "file"


def filters() -> dict[str, bool]:
    """Which rows to show."""
    columns = st.columns(2) + st.columns(2)  # two rows: four in one cut the labels on a tablet
    in_domain_help = ("Only molecules inside every model's applicability domain. drug-bace's domain is BACE-1 "
                      "inhibitor chemotypes, so most ordinary drugs fall outside it; 'models in domain' says how "
                      "many models' domains hold each molecule.")
    return {"valid": columns[0].toggle("Valid only", True),
            "in_domain": columns[1].toggle("In domain only", help=in_domain_help),
            "no_alerts": columns[2].toggle("No alerts"), "lipinski": columns[3].toggle("Lipinski pass")}


st.title("Drug screening and optimisation")
st.caption("Predicted properties, toxicity and drug-likeness of small molecules, with uncertainty and the "
           "percentile among approved drugs. Research use only: predictions guide experiments, never replace them.")

name, data, kind = molecule_input()
if kind == "file" and name and not data.strip():
    st.error(f"{plain(name)} is empty: there are no molecules to read.", icon=":material/error:")
    st.stop()
if not data.strip():
    st.info("Paste SMILES, upload a file or pick the sample molecules to begin.")
    st.stop()

request = hashlib.sha256(data).hexdigest()
screens = st.session_state.setdefault("drug_screens", {})  # request → its screen, each screened (and recorded) once
if request in screens:
    st.session_state.drug_result, st.session_state.drug_request = screens[request], request
changed = st.session_state.get("drug_request") != request
area = results_area(changed)  # new molecules blank the previous screen's table at once
if changed:
    too_many = (f"the page screens up to {PAGE_MAX_MOLECULES:,} molecules at a time. For larger files use "
                "`python -m medai screen FILE --output results.csv`.")
    try:
        molecules = (read_smiles_lines(data.decode("utf-8", "replace"), limit=PAGE_MAX_MOLECULES) if kind == "text"
                     else read_molecules(data, name, limit=PAGE_MAX_MOLECULES))
    except TooManyMoleculesError:
        st.error(f"More than {PAGE_MAX_MOLECULES:,} molecules: {too_many}", icon=":material/error:")
        st.stop()
    except MedAIError as exc:
        st.error(plain(exc), icon=":material/error:")
        st.stop()
    if not molecules:
        st.warning("No molecules found in the input.")
        st.stop()
    for model_name in SCREEN_MODELS:
        cached_model(model_name)
    bar, done = st.progress(0.0, text=f"Screening {len(molecules):,} molecule(s)…"), [0]

    def advance(count: int) -> None:
        done[0] += count
        bar.progress(done[0] / len(molecules), text=f"Screened {done[0]:,} of {len(molecules):,} molecules…")

    with st.spinner(f"Screening {len(molecules)} molecule(s)…"):
        try:
            # One process: worker processes are for the CLI, not inside the web server.
            st.session_state.drug_result = screen(molecules, user=current_user(), source="ui", store=audit_store(),
                                                  workers=1, progress=advance)
        except MedAIError as exc:  # e.g. a model or the audit store failed: say so
            st.error(plain(exc), icon=":material/error:")
            st.stop()
        # Before any Streamlit call, where a rerun interrupts the script: it must find this screen recorded.
        st.session_state.drug_request = request
        screens[request] = st.session_state.drug_result
        st.session_state.pop("drug_optimized", None)
    while len(screens) > KEPT_SCREENS:
        screens.pop(next(iter(screens)))
    bar.empty()


def draw(result: ScreenResult) -> None:
    """The screen's table, the selected molecule's details and feedback, and the optimisation panel."""
    columns = result.columns
    rows = pd.DataFrame([m.row(columns) for m in result.molecules], columns=columns)
    valid_count = int(rows["valid"].astype(bool).sum())
    st.write(f"**{valid_count} of {len(rows)}** molecules valid · models: "
             + ", ".join(f"{n} {v}" for n, v in result.models.items()))

    invalid = [m for m in result.molecules if not m.valid]
    if invalid:
        listed = "; ".join(f"{plain(m.id)} ({plain(m.smiles[:40]) or 'empty'}): {plain(m.message.rstrip('.'))}"
                           for m in invalid[:8])
        st.warning(f"{len(invalid)} input row{'s' * (len(invalid) != 1)} could not be screened — {listed}"
                   + (" …" if len(invalid) > 8 else "") + ". All rows, with reasons, are in the CSV download.",
                   icon=":material/error:")
    inorganic = [m.id for m in result.molecules if m.valid and INORGANIC_NOTE in m.message]
    if inorganic:  # said here too: the row's message sits at the far right of the table
        st.warning(f"{len(inorganic)} inorganic species (no carbon) screened — {'; '.join(map(plain, inorganic[:8]))}"
                   + (" …" if len(inorganic) > 8 else "") + ". The models learnt from organic molecules: treat "
                   "their figures as guesses.", icon=":material/science:")
    shown = filters()
    mask = pd.Series(True, index=rows.index)
    if shown["valid"]:
        mask &= rows["valid"] == True  # noqa: E712  (a pandas mask, not a truth test)
    if shown["in_domain"]:
        mask &= rows["in_domain"] == True  # noqa: E712
    if shown["no_alerts"]:
        mask &= rows["alerts"].fillna("") == ""
    if shown["lipinski"]:
        mask &= pd.to_numeric(rows["lipinski_violations"], errors="coerce").fillna(9) <= 1
    # The input's own columns keep their names unless the table shows one of that name itself.
    reserved = {*SHOWN.values(), *PAGE_COLUMNS}  # the screen's own names are kept from it already (input_<name>)
    carried = {c: f"input: {c}" if c in reserved else c for c in result.carried_columns}
    table = rows[mask].rename(columns=carried)
    if table.empty and not rows.empty:
        st.info("No molecule passes the chosen filters. 'In domain only' keeps a molecule only when it is in the "
                "domain of every model (see 'models in domain'); switch a filter off to see the rest.")
    # Invalid rows leave these blank: typed columns keep the table drawable (no mixed text and numbers).
    for column in ("nearest_train_similarity", "qed", "mw", "clogp", "tpsa", "lipinski_violations",
                   "logS_approved_pct", "qed_approved_pct"):
        if column in table:
            table[column] = pd.to_numeric(table[column], errors="coerce")
    table["in_domain"] = table["in_domain"].map({True: True, False: False}).astype("boolean")
    table = table.rename(columns={"models_in_domain": "models in domain"})
    table.insert(0, "structure", [thumbnail_uri(s) if i < THUMBNAILS else "" for i, s in
                                  enumerate(table["canonical_smiles"])])
    predicted = [c for c in SHOWN if c in table]
    for column in predicted:  # numbers, not "0.97 ± 0.04" strings, so that sorting a column sorts by value
        scale = 100 if column in PERCENT else 1
        table[column] = pd.to_numeric(table[column], errors="coerce") * scale
        table[f"{column}_std"] = pd.to_numeric(table[f"{column}_std"], errors="coerce") * scale
    if "tox21_max" in table:
        table["max P(Tox21)"] = pd.to_numeric(table.pop("tox21_max"), errors="coerce") * 100
    # The message (often the same long domain note) goes last, so that it never hides the numbers.
    visible = ["structure", "id", "valid", *[name for c in predicted for name in (c, f"{c}_std")],
               "max P(Tox21)", "in_domain", "models in domain", "nearest_train_similarity", "qed", "mw", "clogp",
               "tpsa", "lipinski_violations", "alerts", "logS_approved_pct", "qed_approved_pct",
               *carried.values(), "message"]
    event = st.dataframe(
        table[[c for c in visible if c in table]].rename(columns=SHOWN), placeholder="—", hide_index=True,
        width="stretch",
        on_select="rerun", selection_mode="single-row", key="drug_table",
        column_config={**{SHOWN[c]: st.column_config.NumberColumn(SHOWN[c], format="%.1f %%" if c in PERCENT
                                                                  else "%.2f") for c in SHOWN},
                       # A bar, so that an uncertain prediction stands out in a long column of numbers.
                       **{f"{c}_std": st.column_config.ProgressColumn(
                           "± SD", format="± %.1f %%" if c in PERCENT else "± %.2f", min_value=0,
                           max_value=FULL_BAR_PERCENT if c in PERCENT else FULL_BAR_LOG_UNITS, width="small",
                           help=f"Calibrated SD of {SHOWN[c]}")
                          for c in predicted},
                       "max P(Tox21)": st.column_config.NumberColumn("max P(Tox21)", format="%.1f %%"),
                       # Pinned: the molecule stays in sight while a tablet scrolls the predictions sideways.
                       "structure": st.column_config.ImageColumn("structure", width="small", pinned=True),
                       "id": st.column_config.TextColumn("id", width="medium", pinned=True),
                       "nearest_train_similarity": st.column_config.NumberColumn("nearest train sim.", format="%.2f"),
                       "in_domain": st.column_config.CheckboxColumn("in domain (strictest)"),
                       "alerts": st.column_config.TextColumn("alerts", width="large"),
                       "logS_approved_pct": st.column_config.NumberColumn("logS pct (approved)", format="%.0f"),
                       "qed_approved_pct": st.column_config.NumberColumn("QED pct (approved)", format="%.0f")})
    st.caption(f"'± SD' is the calibrated SD of the column before it (its bar is full at {FULL_BAR_PERCENT} points "
               f"or {FULL_BAR_LOG_UNITS:g} log units); probabilities are in per cent. 'pct' is the percentile among "
               f"{approved_drug_count():,} approved drugs (ClinTox). 'Lipinski pass' allows one violation. "
               "'nearest train sim.' and 'in domain' are those of the strictest model (the one whose training "
               "set the molecule is furthest from, for its cut-off); each model's figures are under 'All predictions' below. Structures are drawn for the "
               f"first {THUMBNAILS} rows. Scroll the table sideways for descriptors, percentiles and messages.")
    download_csv, download_sdf = st.columns(2)
    screened_csv, screen_records = to_spreadsheet_csv(rows).encode(), {"records": result.record_ids}
    download_csv.download_button("Download results (CSV)", logged_export(
        lambda: screened_csv, what="screen csv", prediction_id=None, user=current_user(), settings=screen_records),
        "screen_results.csv", "text/csv", on_click="ignore")  # no rerun: the other button stays valid
    download_sdf.download_button("Download valid molecules (SDF with properties)", logged_export(
        lambda: to_sdf(result.molecules, columns).encode(), what="screen sdf", prediction_id=None,
        user=current_user(), settings=screen_records), "screen_results.sdf", "chemical/x-mdl-sdfile", on_click="ignore")

    st.divider()
    valid_rows = [i for i, m in enumerate(result.molecules) if m.valid]
    if not valid_rows:
        st.stop()
    selected = event.selection.rows if event and event.selection else []
    picked = int(table.index[selected[0]]) if selected else None
    choice = st.selectbox("Molecule for details and optimisation (or select a row above)", valid_rows,
                          index=valid_rows.index(picked) if picked in valid_rows else 0,
                          format_func=lambda i: f"{result.molecules[i].id} — {result.molecules[i].canonical_smiles}")
    molecule = result.molecules[choice]
    st.subheader(plain(molecule.id))
    picture, radar = st.columns(2)
    alert_atoms = sorted({a for alert in molecule.alerts for a in alert.atoms})
    picture.image(to_svg(molecule.canonical_smiles, alert_atoms, 420, 300), width="stretch",
                  alt=f"Structure of {molecule.id}" + (", alert atoms shaded" if alert_atoms else ""))
    picture.code(molecule.canonical_smiles, language=None)
    for alert in molecule.alerts:
        note = f" — {alert.note}" if alert.note else ""
        picture.warning(f"{alert.catalog} alert: {alert.name}{note} (shaded)", icon=":material/report:")
    if molecule.message:
        picture.info(plain(molecule.message))
    axes = [key for key in RADAR_AXES if key in molecule.percentiles]
    figure = go.Figure()
    figure.add_trace(go.Scatterpolar(r=[50] * (len(axes) + 1), theta=[RADAR_AXES[k] for k in axes + axes[:1]],
                                     name="approved-drug median", line={"dash": "dot", "color": "grey"}))
    figure.add_trace(go.Scatterpolar(r=[molecule.percentiles[k] for k in axes + axes[:1]],
                                     theta=[RADAR_AXES[k] for k in axes + axes[:1]], fill="toself", name=molecule.id))
    figure.update_layout(polar={"radialaxis": {"range": [0, 100], "ticksuffix": " pct", "tickvals": [25, 50, 75],
                                               "tickfont": {"size": 9, "color": "grey"}},
                                "bgcolor": "rgba(128, 128, 128, 0.08)"}, height=380,  # no white disc on a dark page
                         margin={"l": 80, "r": 80, "t": 30, "b": 30}, legend={"orientation": "h"})  # room for labels
    radar.plotly_chart(figure, width="stretch")
    radar.caption("Percentile of each value among approved drugs (50 = the median approved drug). A percentile "
                  "says where a value sits, not whether it is good: a high clinical-toxicity percentile is worse, "
                  "a high QED or logS (solubility) percentile better.")
    details = pd.DataFrame([{"property": k, **({"value": round(100 * v, 1), "± SD": round(100 * s, 1), "unit": "%"}
                                               if k in PERCENT else
                                               {"value": round(v, 3), "± SD": round(s, 3), "unit": UNITS.get(k, "")}),
                             "approved pct": round(molecule.percentiles.get(k, float("nan")), 0)}
                            for k, (v, s) in molecule.predictions.items()])
    with st.expander("All predictions"):
        # Fixed decimals: a trimmed "8" beside "0.6", or "1" beside "0.281", read as different precisions.
        st.dataframe(details, placeholder="—", hide_index=True, width="stretch",
                     column_config={"value": st.column_config.NumberColumn(format="%.2f"),
                                    "± SD": st.column_config.NumberColumn(format="%.2f"),
                                    "approved pct": st.column_config.NumberColumn(format="%.0f")})
        st.dataframe(pd.DataFrame([{"model": n, "nearest train similarity": s, "cut-off": c,
                                    "in domain": s >= c} for n, (s, c) in molecule.domain_by_model.items()]),
                     placeholder="—", hide_index=True, width="stretch",
                     column_config={"nearest train similarity": st.column_config.NumberColumn(format="%.3f"),
                                    "cut-off": st.column_config.NumberColumn(format="%.3f")})

    feedback_model = st.selectbox("Feedback on this screen's predictions of", list(result.models),
                                  key="drug_feedback_model")
    feedback_control(dict(zip(result.models, result.record_ids)).get(feedback_model),
                     title=f"Feedback on {feedback_model}", label_prompt=None,
                     correction=lambda key: measured_values(key, feedback_model))

    st.subheader("Optimise this lead")
    defaults = default_weights(molecule)
    if not defaults["activity"]:
        similarity, cutoff = molecule.domain_by_model["drug-bace"]
        st.caption(f"{OBJECTIVE_LABELS['activity']} starts at weight 0: this lead is outside the BACE-1 model's "
                   f"domain (nearest BACE training molecule {similarity:.2f} < {cutoff:.2f}), so its activity "
                   "figure would be a guess. Raise it only for a BACE-1 programme.")
    else:
        st.caption(f"{OBJECTIVE_LABELS['activity']} is drug-bace's P(BACE-1), validated on BACE-1 series it was not "
                   f"trained on. From its card: {DRUG_MODELS['drug-bace'].limitations[-1]} Lower its weight if the "
                   "lead's series is new.")
    with st.form("optimise"):
        weight_columns = st.columns(len(OBJECTIVES))
        # Keyed per lead for activity: its default depends on the lead.
        weights = {k: column.slider(f"Weight of {OBJECTIVE_LABELS[k]}", 0.0, 2.0, defaults[k], 0.25,
                                    key=f"weight_{k}" + (f"_{molecule.canonical_smiles}" if k == "activity" else ""))
                   for k, column in zip(OBJECTIVES, weight_columns)}
        bound, count, seed = st.columns(3)
        min_similarity = bound.slider("Min. similarity to the lead (Tanimoto)", 0.1, 0.9, 0.4, 0.05)
        n = count.number_input("Analogues to keep", 5, 100, 20)
        seed_value = seed.number_input("Seed", 0, 10_000, 0)
        submitted = st.form_submit_button("Propose analogues")
    key = (molecule.canonical_smiles, tuple(weights.values()), min_similarity, n, seed_value)
    if submitted and st.session_state.get("drug_optimized", (None,))[0] != key:
        with st.spinner("Proposing and screening analogues…"):
            try:
                lead, ranked = optimize(molecule.canonical_smiles, int(n), weights, min_similarity, int(seed_value),
                                        user=current_user(), source="ui", store=audit_store())
            except MedAIError as exc:
                st.error(plain(exc), icon=":material/error:")
                st.stop()
            st.session_state.drug_optimized = (key, ranked, objectives_of(lead))  # kept before a rerun can interrupt
    if st.session_state.get("drug_optimized", (None,))[0] == key:
        _, ranked, lead_objectives = st.session_state.drug_optimized
        if not ranked:
            st.info("No analogue passed the similarity and alert filters; lower the similarity bound.")
            st.stop()
        analogues = pd.DataFrame([item.row() for item in ranked])
        analogues.insert(0, "structure", [thumbnail_uri(s) for s in analogues["smiles"]])
        lead_score, better = ranked[0].lead_score, int(analogues["better_than_lead"].sum())
        outside = sum(bool(outside_weighted_domains(item.result, weights)) for item in ranked)
        own = ", ".join(f"{OBJECTIVE_LABELS[k]} {lead_objectives[k]:.2f}" for k in OBJECTIVES)
        st.markdown(f"The lead itself scores **{lead_score:.2f}** on the weighted objectives ({own}; each 0–1, "
                    f"higher is better; the score is their weighted mean), so each column below can be read against "
                    f"it. **{better} of {len(analogues)}** analogues score higher. **{outside} of {len(analogues)}** "
                    "are outside the domain of a model behind a weighted objective: that objective is a guess for "
                    "them (`in_domain` in the table is the strictest of all six models).")
        st.dataframe(analogues.drop(columns="lead_smiles"), placeholder="—", hide_index=True,  # the lead: said above
                     width="stretch",
                     column_config={"structure": st.column_config.ImageColumn("structure", width="small"),
                                    "similarity_to_lead": "similarity to lead", "pareto_front": "Pareto front",
                                    "better_than_lead": "better than lead", "lead_score": "lead's score",
                                    **{OBJECTIVE_COLUMNS[k]: OBJECTIVE_LABELS[k] for k in OBJECTIVES}})
        front = go.Figure()
        for on_front, name, marker in ((False, "other analogues", {"color": MID_GREY, "symbol": "circle", "size": 9}),
                                       (True, "Pareto front", {"color": VERMILLION, "symbol": "diamond", "size": 12})):
            shown = analogues[analogues["pareto_front"] == on_front]  # shape and colour: apart without colour vision
            front.add_trace(go.Scatter(x=shown["similarity_to_lead"], y=shown["score"], mode="markers", name=name,
                                       marker=marker, text=shown["edit"]))
        front.add_hline(y=lead_score, line_dash="dot", line_color=MID_GREY, annotation_text="lead")
        front.update_layout(xaxis_title="similarity to lead", yaxis_title="weighted score (0-1)", height=340,
                            margin={"l": 40, "r": 20, "t": 20, "b": 40}, legend={"orientation": "h", "y": -0.25})
        st.plotly_chart(front, width="stretch")
        # Said below, not as the chart's title: a title this long was cut at both ends and hidden by the toolbar.
        st.caption("Diamonds: the Pareto front, analogues that no other analogue, nor the lead, beats on every "
                   "weighted objective. Dotted: the lead's score.")
        analogues_csv = to_spreadsheet_csv(analogues.drop(columns="structure")).encode()
        st.download_button("Download analogues (CSV)", logged_export(lambda: analogues_csv, what="analogues csv",
                                                                     prediction_id=None, user=current_user()),
                           "analogues.csv", "text/csv", on_click="ignore")


with area.container():
    draw(st.session_state.drug_result)
