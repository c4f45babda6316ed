"""The ward worklist: ranked by risk (highest first), thin or unreadable patients listed apart and never
ranked, the 6-hour change computed from the earlier data only, one audit record per patient, and the CLI."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from medai import registry
from medai.cli import main
from medai.errors import InputError
from medai.store import AuditStore
from medai.timeline.sources import read_upload
from medai.timeline.service import RISK_MODEL
from medai.timeline.ward import CHANGE_OVER_H, RESPONSES, WARD_COLUMNS, worklist
from tests.medai.timeline.conftest import SAMPLES, sample_stay

WARD = SAMPLES / "ward_set_a.csv"


def _thin_csv() -> bytes:
    return "\n".join(["patient_id,time,variable,value"] + [f"thin,{h},HR,{80 + h}" for h in range(3)]).encode()


@pytest.fixture(scope="module")
def ward_items() -> list:
    return read_upload(WARD.read_bytes(), WARD.name) + read_upload(_thin_csv(), "thin.csv") + [
        ("broken.txt", InputError("not a PhysioNet file"))]


def test_ranked_by_risk_and_unknowns_listed_apart(ward_items):
    store = AuditStore()
    entries = worklist(ward_items, store=store)
    ranked = [e for e in entries if e.rank is not None]
    assert [e.rank for e in ranked] == list(range(1, len(ranked) + 1)) and len(ranked) == 12
    risks = [e.risk.mortality_risk for e in ranked]
    assert risks == sorted(risks, reverse=True)
    for entry in ranked:  # each figure with how validation stays scored alike fared, as the timeline's "How sure"
        assert entry.evidence["low"] <= entry.risk.mortality_risk <= entry.evidence["high"]
        assert entry.scored_alike.endswith(" %)") and entry.row()["scored_alike_died"] == entry.scored_alike
    apart = entries[len(ranked):]
    assert [e.risk.patient_id for e in apart] == ["thin", "broken.txt"], "not ranked, in input order, at the end"
    assert apart[0].why_not_ranked.startswith("only 2.0 h of data")
    assert apart[1].why_not_ranked == "not a PhysioNet file" and apart[1].risk.status == "error"
    assert len(store.recent_predictions(limit=100)) == len(ward_items), "one record per patient, as risk makes"


def test_change_is_risk_now_minus_risk_from_the_earlier_data():
    stay = sample_stay()
    (entry,) = worklist([stay])
    earlier = registry.load(RISK_MODEL).predict([stay.until(stay.hours - CHANGE_OVER_H)])[0]
    assert entry.risk_change == pytest.approx(entry.risk.mortality_risk - earlier, abs=1e-6)
    (short,) = worklist([stay.until(10.0)])  # 4 h before: too little data for a figure, so no change claimed
    assert short.rank == 1 and short.risk_change is None


def test_news2_response_follows_the_rcp_chart(ward_items):
    for entry in worklist(ward_items):
        last, risk = entry.risk.news2_last, entry.risk
        expected = "" if last is None or risk.news2_sparse else (
            "emergency" if last >= 7 else "urgent" if last >= 5 else "ward" if risk.news2_single_three
            else "nurse" if last else "routine")
        assert entry.news2_response == expected
    red = "\n".join(["patient_id,time,variable,value"] + [f"red,{h},{v},{x}" for h in range(8) for v, x in
                     (("HR", 80), ("RespRate", 16), ("SaO2", 88), ("NISysABP", 125), ("Temp", 37), ("GCS", 15),
                      ("FiO2", 0.21))])
    (entry,) = worklist(read_upload(red.encode(), "red.csv"))
    assert entry.risk.news2_last == 3 and entry.news2_response == "ward", "SpO2 88 % alone scores 3: a red score"


def test_a_news2_of_7_calls_for_an_emergency_response():
    from medai.timeline.service import RiskResult
    from medai.timeline.ward import WardEntry

    assert WardEntry(RiskResult("p", "ok", "", 0.2, news2_max=7, news2_last=7), None, 24.0, 0).news2_response == (
        "emergency")
    assert WardEntry(RiskResult("p", "ok", "", 0.2, news2_max=6, news2_last=6), None, 24.0, 0).news2_response != (
        "emergency")


def test_a_patient_id_twice_is_said_on_both_lines(ward_items):
    twice = read_upload(_thin_csv(), "a.csv") + read_upload(_thin_csv(), "b.csv")
    entries = worklist(twice + ward_items[:1])
    assert [e.duplicate for e in entries if e.risk.patient_id == "thin"] == [
        "Patient id thin comes 2 times in the input (the same data each time)."] * 2
    assert not entries[0].duplicate
    assert sorted(e.position for e in entries) == [0, 1, 2]
    renamed = _thin_csv().replace(b"thin,", b"bed7,")  # the same stay exported under another id
    entries = worklist(read_upload(_thin_csv(), "a.csv") + read_upload(renamed, "b.csv"))
    assert [e.duplicate for e in entries] == ["The same data as patient bed7: one stay under 2 ids.",
                                              "The same data as patient thin: one stay under 2 ids."]


def test_cli_ward_writes_the_ranked_rows(tmp_path):
    thin = tmp_path / "thin.csv"
    thin.write_bytes(_thin_csv())
    out = tmp_path / "worklist.csv"
    assert main(["timeline", "ward", str(WARD), str(thin), "--output", str(out), "--quiet"]) == 0
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == [*WARD_COLUMNS, "file"] and len(rows) == 13
    assert [r["file"] for r in rows] == [WARD.name] * 12 + ["thin.csv"], "each line names its file"
    assert [r["rank"] for r in rows] == [str(k) for k in range(1, 13)] + [""]
    risks = np.array([float(r["mortality_risk"]) for r in rows[:12]])
    assert (np.diff(risks) <= 0).all()
    assert rows[-1]["mortality_risk"] == "" and rows[-1]["message"].startswith(
        "Not ranked (too little data). NEWS2 not given: most of its parameters were not recorded. Read with care: "
        "only 2.0 h of data")
    assert rows[-1]["news2_last"] == "" and "respiration rate" in rows[-1]["news2_not_recorded"]
    assert {r["news2_response"] for r in rows} <= {"", *RESPONSES.values()}


def test_cli_ward_exits_1_when_a_file_could_not_be_read(tmp_path):
    out = tmp_path / "worklist.csv"
    code = main(["timeline", "ward", str(WARD), str(tmp_path / "missing.csv"), "--output", str(out), "--quiet",
                 "--no-audit"])
    assert code == 1 and len(list(csv.DictReader(out.open()))) == 13  # the readable patients are still listed
