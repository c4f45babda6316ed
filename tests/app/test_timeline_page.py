"""The Timeline page through AppTest: a sample patient drawn and audited once per model, an uploaded
long CSV with two patients, and a bad upload with a message (no new audit record)."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from medai import registry
from medai.store import AuditStore
from tests.app.conftest import shown
from tests.conftest import REPO

TIMEOUT = 240
MODELS = len([n for n in ("icu-mortality", "icu-vitals-forecast", "icu-survival", "icu-similar-stays")
              if n in registry.names()])


@pytest.fixture
def timeline_page() -> AppTest:
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    app.run()
    app.switch_page("pages/timeline.py").run()
    assert not app.exception and _records() == 0
    return _first_sample(app)


def _first_sample(app: AppTest) -> AppTest:
    """A visit alone assesses nobody (nothing recorded); then the first sample patient is chosen."""
    assert not app.get("plotly_chart") and not any(m.label == "Death in hospital" for m in app.metric)
    assert any("Pick a sample patient" in i.value for i in app.info)
    sample = app.selectbox(key="timeline_sample")
    sample.set_value(sample.options[0]).run()
    assert not app.exception
    return app


def _records() -> int:
    return len(AuditStore().recent_predictions(limit=1000))


def test_sample_patient(timeline_page):
    assert timeline_page.title[0].value == "Patient timeline"
    assert len(timeline_page.get("plotly_chart")) >= 2, "timeline + labs (+ survival)"
    assert any(m.label == "Death in hospital" for m in timeline_page.metric)
    # The headline risk says how validation stays scored alike turned out, with an interval.
    assert any(c.value.startswith("How sure: of ") and "validation stays the model scored" in c.value
               and "95 % interval" in c.value for c in timeline_page.caption)
    if "icu-survival" in registry.names():
        assert any(c.value.startswith("How sure: of ") and "to be alive at a year" in c.value
                   for c in timeline_page.caption)
    assert _records() == MODELS
    # What happened to the stays most like this one: counts out of 50, with the validation figure to trust them by.
    assert any(h.value == "Stays like this one" for h in timeline_page.subheader)
    died = next(m for m in timeline_page.metric if m.label == "Died in hospital")
    assert died.value.endswith(" of 50") and 0 <= int(died.value.split()[0]) <= 50
    assert any("most like this patient's at 48 h of their stays" in c.value and "% of the time" in c.value
               for c in timeline_page.caption)
    timeline_page.selectbox[0].set_value("132551.txt").run()
    assert not timeline_page.exception and _records() == 2 * MODELS
    # This stay has no respiratory rate: NEWS2 says it is incomplete rather than scoring it as normal.
    assert any("NEWS2 is incomplete" in w.value and "respiration rate" in w.value for w in timeline_page.warning)
    assert any(m.label == "NEWS2 now / max" and m.delta == "incomplete" for m in timeline_page.metric)
    timeline_page.run()  # a rerun draws again without recording again
    assert _records() == 2 * MODELS


def test_uploaded_long_csv_with_two_patients(timeline_page):
    timeline_page.radio[0].set_value("Upload a file").run()
    rows = ["patient_id,time,variable,value,unit"]
    for pid in ("a", "b"):
        rows += [f"{pid},{h},HR,{80 + h},bpm" for h in range(0, 12)] + [f"{pid},{h},NIMAP,{70 + h},mmHg" for h in range(12)]
    timeline_page.file_uploader[0]._files = [("f1", "two.csv", "\n".join(rows).encode(), "text/csv")]
    timeline_page.run()
    assert not timeline_page.exception
    assert any("only 2 variables" in w.value for w in timeline_page.warning), "thin data flagged"
    # Too little data: the figures stay in a sentence, never in the large headline type.
    assert any(w.value.startswith("Too little data for headline figures") and "mortality risk" in w.value
               for w in timeline_page.warning)
    headline = {m.label: m.value for m in timeline_page.metric}
    assert headline["Death in hospital"] == "—"
    assert headline["NEWS2 now / max"] == "—", "5 of 7 NEWS2 parameters missing"
    assert not any(c.value.startswith("How sure") for c in timeline_page.caption)
    assert any("neither what moved the risk, nor a survival curve, nor the stays like this one are shown" in i.value
               for i in timeline_page.info)
    assert not any(h.value == "Stays like this one" for h in timeline_page.subheader)
    assert any(c.value.startswith("From this little data the forecasts are rough guesses") for c in timeline_page.caption)
    figure = json.loads(timeline_page.get("plotly_chart")[0].proto.spec)
    assert any(a["text"].endswith(": rough guesses, too little data") for a in figure["layout"]["annotations"])
    assert "NEWS2 (points): not scored, most of its parameters not recorded" in [
        a["text"] for a in figure["layout"]["annotations"]], "no flat 0 line where the headline says '—'"
    assert timeline_page.selectbox[0].options == ["a", "b"]


def test_arterial_line_and_cuff_pressures_have_their_own_panels_and_forecasts(timeline_page):
    timeline_page.radio[0].set_value("Upload a file").run()
    pressures = {"SysABP": 120, "DiasABP": 60, "MAP": 80, "NISysABP": 125, "NIDiasABP": 65, "NIMAP": 85}
    rows = ["patient_id,time,variable,value"] + [f"p,{h},HR,{80 + h % 3}" for h in range(12)]
    rows += [f"p,{h},{name},{value + h % 4}" for name, value in pressures.items() for h in range(12)]
    rows += ["p,2,Temp,37.2"]  # 9 h before the last timestamp: forecast, and said to rest on an old value
    timeline_page.file_uploader[0]._files = [("f1", "pressures.csv", "\n".join(rows).encode(), "text/csv")]
    timeline_page.run()
    assert not timeline_page.exception
    figure = json.loads(timeline_page.get("plotly_chart")[0].proto.spec)
    titles = [a["text"] for a in figure["layout"]["annotations"]]
    assert any(t.startswith("Blood pressure, arterial line") for t in titles)
    assert any(t.startswith("Blood pressure, cuff") for t in titles)
    forecast = [t["name"] for t in figure["data"] if t.get("name", "").endswith("forecast (median)")]
    assert len(forecast) == 8, f"HR, temperature and six pressures, diastolic included: {forecast}"
    assert any("Forecast from an older observation" in c.value and "(9 h)" in c.value for c in timeline_page.caption)


@pytest.mark.parametrize(("encoding", "ending"), [("utf-8", "\n"), ("cp1252", "\r\n"), ("mac_roman", "\r")])
def test_a_semicolon_export_in_fahrenheit_is_read_converted_and_noted(timeline_page, encoding, ending):
    timeline_page.radio[0].set_value("Upload a file").run()
    rows = ["patient_id;time;variable;value;unit"] + [f"p;{h};HR;{80 + h % 3};bpm" for h in range(12)]
    rows += [f"p;{h};Temp;{98 + h % 2},6;°F" for h in range(12)]
    timeline_page.file_uploader[0]._files = [("f1", "eu.csv", ending.join(rows).encode(encoding), "text/csv")]
    timeline_page.run()
    assert not timeline_page.exception and not timeline_page.error
    notes = [shown(m.value) for m in timeline_page.markdown]
    assert "- Temperature: 12 values read in °F, converted to °C" in notes
    table = timeline_page.dataframe[-1].value
    assert "Temperature" in set(table["variable"]) and "HR" not in set(table["variable"])
    assert (table["median (p50)"].between(36, 39.5) | (table["variable"] != "Temperature")).all()


def test_a_stay_of_descriptors_only_shows_no_figure_to_judge_and_no_forecast(timeline_page):
    """No headline figure, so no feedback asked on it, no two models said to disagree, and no forecast offered."""
    timeline_page.radio[0].set_value("Upload a file").run()
    data = b"Time,Parameter,Value\n00:00,RecordID,1\n00:00,Age,70\n00:00,Gender,1\n00:00,ICUType,2\n"
    timeline_page.file_uploader[0]._files = [("f1", "descriptors.txt", data, "text/plain")]
    timeline_page.run()
    assert not timeline_page.exception and not timeline_page.error
    assert {m.label: m.value for m in timeline_page.metric}["Death in hospital"] == "—"
    assert not any((r.key or "").startswith("verdict_") for r in timeline_page.radio)
    assert not any("The two models disagree" in w.value for w in timeline_page.warning)
    assert any(c.value.startswith("No forecast: no recent vital sign") for c in timeline_page.caption)
    assert [b.label for b in timeline_page.get("download_button")] == ["Download the risk (CSV)"]


def test_rows_that_name_no_patient_are_said_above_the_patient_not_offered_as_one(timeline_page):
    timeline_page.radio[0].set_value("Upload a file").run()
    rows = ["patient_id,time,variable,value"] + [f"a,{h},HR,{80 + h}" for h in range(12)] + [",13,HR,140"]
    timeline_page.file_uploader[0]._files = [("f1", "unnamed.csv", "\n".join(rows).encode(), "text/csv")]
    timeline_page.run()
    assert not timeline_page.exception
    assert any(shown(w.value).startswith("Rows that name no patient were not read (line 14: no patient_id)")
               for w in timeline_page.warning)
    assert not timeline_page.selectbox or "(rows without a patient_id)" not in timeline_page.selectbox[0].options
    assert any(m.label == "Death in hospital" for m in timeline_page.metric), "patient a is still assessed"


def test_an_empty_upload_is_named_not_ignored(timeline_page):
    timeline_page.radio[0].set_value("Upload a file").run()
    timeline_page.file_uploader[0]._files = [("f1", "empty.csv", b"", "text/csv")]
    timeline_page.run()
    assert any("empty.csv is empty" in e.value for e in timeline_page.error)


def test_bad_upload_gets_a_message(timeline_page):
    timeline_page.radio[0].set_value("Upload a file").run()
    timeline_page.file_uploader[0]._files = [("f1", "bad.csv", b"a,b\n1,2\n", "text/csv")]
    timeline_page.run()
    assert not timeline_page.exception
    assert any("patient_id" in shown(e.value) for e in timeline_page.error)
    assert _records() == MODELS, "only the sample patient shown first was recorded"


def test_override_of_the_mortality_risk_is_kept_with_the_outcome(timeline_page):
    next(r for r in timeline_page.radio if (r.key or "").startswith("verdict_")).set_value(
        "override").run()
    label = next(s for s in timeline_page.selectbox if (s.key or "").startswith("label_"))
    assert label.options == ["died_in_hospital"], "a 0.6 % risk reads 'survived': overriding to it would agree"
    label.set_value("died_in_hospital").run()
    next(b for b in timeline_page.button if b.label == "Save feedback").click().run()
    assert not timeline_page.exception
    store = AuditStore()
    record = next(r for r in store.recent_predictions(10) if r.model_name == "icu-mortality")
    saved = store.latest_feedback(record.id)
    assert saved.verdict == "override" and saved.corrected_label == "died_in_hospital"
    assert record.weights_sha256 and len(record.weights_sha256) == 64  # the model's digest is recorded


def test_the_chosen_patient_survives_a_visit_to_another_page(timeline_page):
    samples = timeline_page.selectbox(key="timeline_sample").options
    timeline_page.selectbox(key="timeline_sample").set_value(samples[2]).run()
    timeline_page.switch_page("pages/home.py").run()
    back = timeline_page.switch_page("pages/timeline.py").run()
    assert not back.exception and back.selectbox(key="timeline_sample").value == samples[2]


def test_a_band_the_model_overestimated_in_validation_is_said_plainly(monkeypatch):
    """Where the validation stays in this stay's band died less often than the model scored them, the page
    says the model overestimated there (evidence made so, as a real band can be)."""
    from medai.timeline import service

    def overestimated(probability, reliability, bins=10):
        return {"low": 0.0, "high": 0.1, "scored": 0.05, "observed": 0.0, "cases": 40, "ci95": (0.0, 0.02)}

    def calibrated(probability, reliability, bins=10):
        return {"low": 0.0, "high": 0.1, "scored": 0.03, "observed": 0.03, "cases": 400, "ci95": (0.015, 0.05)}

    for evidence, said in ((overestimated, True), (calibrated, False)):
        monkeypatch.setattr(service, "outcomes_in_bin", evidence)
        app = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
        app.run()
        app.switch_page("pages/timeline.py").run()
        assert not app.exception
        _first_sample(app)
        bias = [c.value for c in app.caption if "In this band the model overestimated the risk of death in hospital "
                "in validation: read its figure as high." in c.value]
        assert bool(bias) == said


def test_lab_panels_show_the_reference_interval_and_keep_it_in_scale(timeline_page):
    """A sodium of 137 then 136 mmol/L stays inside a visible 135-145 band, not across a zoomed axis."""
    from medai.timeline.vocabulary import reference_ranges

    (labs,) = [chart for chart in timeline_page.get("plotly_chart")
               if "Sodium" in json.dumps(json.loads(chart.proto.spec)["layout"].get("annotations", []))]
    layout = json.loads(labs.proto.spec)["layout"]
    bands = [shape for shape in layout["shapes"] if shape.get("type") == "rect"]
    assert any((band["y0"], band["y1"]) == reference_ranges()["Na"] for band in bands)
    sodium_axes = [key for key, axis in layout.items() if key.startswith("yaxis") and "range" in axis
                   and axis["range"][0] < 135 and axis["range"][1] > 145]
    assert sodium_axes
    assert any("typical adult reference interval" in c.value for c in timeline_page.caption)


def test_the_hourly_risk_change_axis_is_symmetric_with_a_tick_at_zero(timeline_page):
    layouts = [json.loads(chart.proto.spec)["layout"] for chart in timeline_page.get("plotly_chart")]
    (axis,) = [axis for layout in layouts for key, axis in layout.items()
               if key.startswith("yaxis") and axis.get("overlaying")]
    assert axis["range"][0] == -axis["range"][1] and axis["tickmode"] == "linear" and axis["tick0"] == 0


def test_a_flagged_risk_with_several_skipped_rows_says_where_they_are_all_named(timeline_page):
    timeline_page.radio[0].set_value("Upload a file").run()
    good = (REPO / "sample_data" / "timeline" / "long_format_132540.csv").read_text()
    bad = "".join(f"demo-132540,{k},pH,7,4{k % 10},pH\n" for k in range(1, 31))  # decimal commas, unquoted
    timeline_page.file_uploader[0]._files = [("f1", "commas.csv", (good + bad).encode(), "text/csv")]
    timeline_page.run()
    assert not timeline_page.exception
    assert any("(and 29 more)" in w.value and w.value.endswith("listed under 'Reading notes' at the foot of the page.")
               for w in timeline_page.warning)
