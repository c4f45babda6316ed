"""Service and CLI: one row per patient in input order, error rows for bad files, audit without ids, exit codes."""

from __future__ import annotations

import csv
import shutil

import pytest

from medai.cli import main
from medai.store import AuditStore
from medai.timeline.sources import read_stays
from medai.timeline.service import assess_risk, forecast_all, stay_hash, timeline
from tests.medai.timeline.conftest import SAMPLES, sample_stay


@pytest.fixture
def folder(tmp_path):
    for path in sorted(SAMPLES.glob("*.txt"))[:3]:
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "000000.txt").write_bytes(b"not a physionet file\n")
    return tmp_path


def test_risk_rows_and_audit(folder):
    store = AuditStore()
    results = list(assess_risk(read_stays(folder), store=store))
    assert [r.status for r in results][0] == "error" and "PhysioNet" in results[0].message
    assert all(0 < r.mortality_risk < 1 for r in results[1:])
    assert all(r.news2_max >= r.news2_last for r in results[1:])
    records = store.recent_predictions(limit=10)
    assert len(records) == 4 and all(r.model_name == "icu-mortality" for r in records)
    ids = {r.patient_id for r in results}
    assert not any(r.input_sha256 in ids for r in records)
    assert {r.input_sha256 for r in records if r.input_sha256} == {r.input_sha256 for r in results[1:]}
    # Each answered stay's record says how long the model took for it; the unreadable file's has no model time.
    assert [r.duration_ms is not None and r.duration_ms > 0 for r in reversed(records)] == [False, True, True, True]
    # The label in per cent, as the pages say it (the audit log showed "risk 0.833" beside the page's 83.3 %)
    assert sorted(r.label for r in records if r.label) == sorted(f"risk {100 * r.mortality_risk:.1f} %"
                                                                  for r in results[1:])


def test_forecast_and_view():
    stay = sample_stay()
    result = next(forecast_all([stay], 3))
    assert result.status == "ok" and {f.hours_ahead for f in result.forecasts} == {1, 2, 3}
    store = AuditStore()
    view = timeline(stay, store=store)
    assert view.risk.input_sha256 == stay_hash(stay) and len(view.risk_hours) == len(view.risk_curve)
    assert all(r.duration_ms > 0 for r in store.recent_predictions(limit=3))  # risk, forecast, survival
    assert view.drivers and view.forecasts


def test_cli_risk_and_forecast(folder, tmp_path, capsys):
    out = tmp_path / "risks.csv"
    assert main(["timeline", "risk", str(folder), "--output", str(out), "--quiet"]) == 1
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["patient_id", "mortality_risk", "news2_max", "news2_last", "news2_not_recorded", "status",
                            "message"]
    assert [r["status"] for r in rows] == ["error", "ok", "ok", "ok"] or rows[0]["status"] == "error"
    good = tmp_path / "good.csv"
    (tmp_path / "good").mkdir()
    shutil.copy(sorted(SAMPLES.glob("*.txt"))[0], tmp_path / "good")
    forecast = tmp_path / "forecast.csv"
    assert main(["timeline", "forecast", str(tmp_path / "good"), "--horizon", "2", "--output", str(forecast),
                 "--quiet"]) == 0
    points = list(csv.DictReader(forecast.open()))
    assert {"patient_id", "variable", "hours_ahead", "time", "p10", "p50", "p90"} <= set(points[0])
    assert {p["hours_ahead"] for p in points} == {"1", "2"}
    assert {(p["variable"], p["unit"]) for p in points} >= {("HR", "bpm")}  # every value says its unit
    assert main(["timeline", "risk", str(SAMPLES / "long_format_132540.csv"), "--output", str(good), "--quiet"]) == 0
    assert main(["timeline", "risk", str(tmp_path / "missing"), "--output", str(good), "--quiet"]) == 2
    assert main(["timeline", "forecast", str(folder), "--horizon", "9", "--output", str(good), "--quiet"]) == 2
    assert "horizon" in capsys.readouterr().err


def test_thin_or_implausible_data_is_flagged_not_silent():
    from medai.timeline.io import read_long_csv

    data = (b"patient_id,time,variable,value\n"
            b"t,0.5,HR,90\nt,1,HR,0\nt,1.5,NIMAP,70\nt,2,Temp,37\n")
    (result,) = assess_risk(read_long_csv(data))
    assert result.status == "flagged" and result.mortality_risk is not None
    assert "h of data" in result.message and "implausible" in result.message and "HR 0 bpm" in result.message


def test_a_laboratory_export_without_vital_signs_is_flagged_and_its_news2_left_blank():
    from medai.timeline.io import read_long_csv

    labs = ["Na", "K", "HCO3", "BUN", "Creatinine", "Glucose", "HCT", "WBC", "Platelets", "Mg"]
    rows = [f"lab,{h},{name},{value}" for h in (1, 12, 24) for name, value in
            zip(labs, (140, 4.1, 24, 18, 1.0, 110, 35, 9.0, 250, 2.0))]
    rows += [f"lab,30,Unknown {k},1" for k in range(7)]
    (result,) = assess_risk(read_long_csv(("patient_id,time,variable,value\n" + "\n".join(rows)).encode()))
    assert result.status == "flagged" and result.mortality_risk is not None
    assert "no vital sign recorded" in result.message
    assert "unknown variables ignored: 'Unknown 0', 'Unknown 1', 'Unknown 2', 'Unknown 3', 'Unknown 4' (and 2 more)" \
        in result.message
    row = result.row()
    assert row["news2_last"] == row["news2_max"] == "", "a NEWS2 of 0 from seven unrecorded parameters is not a score"
    assert row["message"].startswith("NEWS2 not given: most of its parameters were not recorded.")
    (with_vitals,) = assess_risk([sample_stay()])
    assert "no vital sign" not in with_vitals.message


def test_converted_units_are_said_in_the_risk_message():
    from medai.timeline.io import read_long_csv

    data = b"patient_id,time,variable,value,unit\nt,0.5,HR,90,bpm\nt,1,Temp,100.4,degF\n"
    (result,) = assess_risk(read_long_csv(data))
    assert result.message.endswith("Units converted: Temperature: 1 value read in °F, converted to °C.")


def test_the_order_chosen_for_spreadsheet_dates_is_said_in_the_risk_message():
    from medai.timeline.io import read_long_csv

    data = b"patient_id,time,variable,value\nt,3/1/2024 22:00,HR,90\nt,3/2/2024 06:00,HR,95\n"
    (result,) = assess_risk(read_long_csv(data))
    assert result.message.endswith("Dates read month first: '3/1/2024 22:00' is 1 March 2024 (the stay spans 8 h; "
                                   "read the other way it would span 30 days).")


@pytest.mark.parametrize(("risk", "alive_at_year", "warned"), [(0.794, 0.43, True), (0.20, 0.70, False),
                                                                (0.30, 0.74, False)])
def test_a_survival_curve_that_contradicts_the_mortality_risk_is_called_out(risk, alive_at_year, warned):
    import dataclasses

    import numpy as np

    view = timeline(sample_stay())
    view = dataclasses.replace(view, risk=dataclasses.replace(view.risk, mortality_risk=risk),
                               survival_days=np.array([0.0, 365.0]), survival=np.array([1.0, alive_at_year]))
    assert bool(view.disagreement) == warned
    if warned:
        assert "21 %" in view.disagreement and "43 %" in view.disagreement


def test_a_forecast_from_too_little_data_is_flagged_not_ok():
    from medai.timeline.io import read_long_csv

    (stay,) = read_long_csv(b"patient_id,time,variable,value\nx,0,HR,88\nx,1,HR,90\n")
    result = next(forecast_all([stay], 2))
    assert result.status == "flagged" and result.forecasts
    assert result.message.startswith("Too little data to forecast from: only 1.0 h of data")


def test_a_recorded_variable_left_out_of_the_forecast_is_named():
    """Temperatures labelled °C but in °F are all set aside as implausible: the forecast says Temp is not
    forecast, and why, instead of leaving its rows out unsaid."""
    from medai.timeline.io import read_long_csv

    rows = "".join(f"x,{h},HR,{80 + h},\nx,{h},Temp,98.{h % 10},°C\nx,{h},NIMAP,{75 + h % 3},\nx,{h},RespRate,18,\n"
                   f"x,{h},GCS,15,\nx,{h},NISysABP,120,\nx,{h},NIDiasABP,70,\nx,{h},SaO2,97,\n" for h in range(12))
    (stay,) = read_long_csv(("patient_id,time,variable,value,unit\n" + rows).encode())
    result = next(forecast_all([stay], 2))
    forecast = {f.variable for f in result.forecasts}
    assert forecast >= {"HR", "NIMAP"} and "Temp" not in forecast
    assert result.status == "flagged"
    assert "Not forecast: Temperature (every value implausible and set aside)" in result.message
    assert "Temperature: the 12 values set aside as implausible in °C look like °F: check the unit column" in \
        next(assess_risk([stay])).message


def test_risk_takes_several_inputs_in_order(tmp_path):
    out = tmp_path / "r.csv"
    first, second = str(SAMPLES / "132539.txt"), str(SAMPLES / "long_format_132540.csv")
    assert main(["timeline", "risk", first, second, "--output", str(out), "--quiet", "--no-audit"]) == 0
    with open(out, newline="") as handle:
        assert [row["patient_id"] for row in csv.DictReader(handle)] == ["132539", "demo-132540"]
    # One of several INPUTs that cannot be used is an error row named by its argument, as the page lists it.
    missing = str(tmp_path / "missing.csv")
    assert main(["timeline", "risk", first, missing, "--output", str(out), "--quiet", "--no-audit"]) == 1
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["patient_id"], r["status"], r["message"]) for r in rows][1] == (missing, "error", f"No such file or folder: {missing}.")
    assert main(["timeline", "risk", missing, "--output", str(out), "--quiet"]) == 2, "a lone INPUT: could not run"


def test_a_damaged_optional_model_leaves_the_rest_of_the_view(monkeypatch):
    """A similar-stays install missing its arrays: the view keeps risk, forecast and survival and says why."""
    from medai import registry
    from medai.errors import MedAIError
    from medai.timeline.service import SIMILAR_MODEL

    load = registry.load

    def damaged(name):
        if name == SIMILAR_MODEL:
            raise MedAIError(f"Model '{name}' is missing its file similar.npz.")
        return load(name)

    monkeypatch.setattr(registry, "load", damaged)
    view = timeline(sample_stay())
    assert view.similar is None and view.risk.mortality_risk is not None and view.forecasts
    assert view.unavailable == {SIMILAR_MODEL: "Model 'icu-similar-stays' is missing its file similar.npz."}


def test_a_stay_with_descriptors_only_gets_a_flagged_risk_and_no_forecast(tmp_path):
    """10 of the 8,000 training stays had nothing but descriptors: a rough, flagged risk, not an error; with
    no vital sign there is nothing to forecast (``refused``), and neither makes the CLI fail."""
    descriptors_only = b"Time,Parameter,Value\n00:00,RecordID,140501\n00:00,Age,31\n00:00,Gender,1\n00:00,ICUType,3\n"
    (tmp_path / "140501.txt").write_bytes(descriptors_only)
    stay = next(read_stays(tmp_path / "140501.txt"))
    (risk,) = assess_risk([stay])
    assert risk.status == "flagged" and 0 < risk.mortality_risk < 1 and "0.0 h of data" in risk.message
    (forecast,) = forecast_all([stay])
    assert forecast.status == "refused" and forecast.message.startswith("Nothing to forecast")
    out = tmp_path / "out.csv"
    for command in ("risk", "forecast"):
        assert main(["timeline", command, str(tmp_path / "140501.txt"), "-o", str(out), "--quiet", "--no-audit"]) == 0
    nothing = next(read_stays(tmp_path / "140501.txt"))
    from dataclasses import replace

    (empty,) = assess_risk([replace(nothing, descriptors={})])
    assert empty.status == "error" and empty.mortality_risk is None


def test_the_survival_evidence_is_looked_up_at_the_chance_of_death():
    from medai import registry
    from medai.cards import outcomes_in_bin

    view = timeline(sample_stay())
    reliability = registry.card("icu-survival")["curves"]["reliability"]
    assert view.survival_evidence == outcomes_in_bin(1.0 - float(view.survival[-1]), reliability)
    assert view.survival_evidence != outcomes_in_bin(float(view.survival[-1]), reliability)


def test_a_variable_too_old_to_forecast_flags_the_forecast():
    from medai.timeline.io import read_long_csv

    recent = {"HR": 80, "RespRate": 18, "NIMAP": 80, "NISysABP": 120, "NIDiasABP": 70, "SaO2": 97, "GCS": 15,
              "FiO2": 0.3}
    rows = [f"p,{h},{name},{value}" for h in range(41) for name, value in recent.items()] + ["p,10,Temp,37"]
    stay = read_long_csv("\n".join(["patient_id,time,variable,value", *rows]).encode())[0]
    result = next(forecast_all([stay], 1))
    assert result.status == "flagged" and "Temperature" in result.message


def test_the_risk_message_counts_every_skipped_row_not_only_the_listed_ones():
    """55 rows were skipped and the message said '(and 20 more)'."""
    from medai.timeline.io import read_long_csv

    bad = "".join(f"t,{k},pH,7,{k % 10}\n" for k in range(1, 31))
    (result,) = assess_risk(read_long_csv(("patient_id,time,variable,value\n" + bad).encode()))
    assert result.status == "error" and result.message == (
        "No usable observation in this stay (line 2: expected 4 fields, found 5 (a decimal comma? write 7.45, or quote "
        "the value); and 29 more).")
    good = (SAMPLES / "long_format_132540.csv").read_text()
    header, rows = good.split("\n", 1)
    bad = "".join(f"demo-132540,{k},pH,7,4{k % 10},pH\n" for k in range(1, 31))
    (result,) = assess_risk(read_long_csv((header + "\n" + rows + bad).encode()))
    assert result.status == "flagged" and "expected 5 fields, found 6 (a decimal comma? write 7.45, or quote the " \
        "value) (and 29 more)" in result.message


def test_two_different_unreadable_stays_do_not_share_an_audit_hash():
    from medai.timeline.io import read_long_csv

    (first,) = read_long_csv(b"patient_id,time,variable,value\nt,3/1/2024 22:15 XM,HR,90\n")
    (second,) = read_long_csv(b"patient_id,time,variable,value\nt,00:00:00:00,HR,90\n")
    (unknown,) = read_long_csv(b"patient_id,time,variable,value\nt,1,Shoe size,44\n")
    hashes = {stay_hash(stay) for stay in (first, second, unknown)}
    assert len(hashes) == 3
    import hashlib

    readable = sample_stay()  # its hash is of what the models see alone, as in earlier versions' records
    assert stay_hash(readable) == hashlib.sha256(readable.canonical_bytes()).hexdigest()
