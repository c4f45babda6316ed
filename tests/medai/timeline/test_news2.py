"""NEWS2 against the RCP 2017 chart: every band edge, worked examples, and the hourly series of a stay."""

from __future__ import annotations

import numpy as np
import pytest

from medai.timeline.io import read_long_csv
from medai.timeline.news2 import PARAMETERS, band_score, news2, score


@pytest.mark.parametrize("parameter, values, points", [
    ("respiration_rate", [8, 9, 11, 12, 20, 21, 24, 25], [3, 1, 1, 0, 0, 2, 2, 3]),
    ("spo2", [91, 92, 93, 94, 95, 96, 100], [3, 2, 2, 1, 1, 0, 0]),
    ("systolic_bp", [90, 91, 100, 101, 110, 111, 219, 220], [3, 2, 2, 1, 1, 0, 0, 3]),
    ("pulse", [40, 41, 50, 51, 90, 91, 110, 111, 130, 131], [3, 1, 1, 0, 0, 1, 1, 2, 2, 3]),
    ("temperature", [35.0, 35.1, 36.0, 36.1, 38.0, 38.1, 39.0, 39.1], [3, 1, 1, 0, 0, 1, 1, 2]),
])
def test_chart_band_edges(parameter, values, points):
    assert list(band_score(parameter, np.array(values, dtype=float))) == points


def test_worked_examples():
    # all normal, on air, alert: 0 (low risk)
    assert score(16, 97, False, 120, 70, True, 37.0) == 0
    # RR 22 (2), SpO2 94 (1), oxygen (2), SBP 105 (1), pulse 115 (2), alert (0), 38.5 °C (1): 9 → high
    assert score(22, 94, True, 105, 115, True, 38.5) == 9
    # a single red score: new confusion alone is 3 (urgent review by the single-parameter rule)
    assert score(16, 97, False, 120, 70, False, 37.0) == 3
    # maximum: 3+3+2+3+3+3+3 = 20
    assert score(30, 85, True, 80, 150, False, 34.0) == 20


def test_series_from_data_and_mappings():
    data = (b"patient_id,time,variable,value\n"
            b"a,0.5,HR,115\na,0.5,RespRate,22\na,0.5,SaO2,94\na,0.5,NISysABP,105\na,0.5,Temp,38.5\n"
            b"a,0.5,GCS,15\na,0.5,FiO2,0.21\n"
            b"a,2.5,FiO2,0.5\na,3.5,GCS,10\na,3.5,SysABP,130\n")
    stay = read_long_csv(data)[0]
    series = news2(stay)
    assert list(series.hours) == [1, 2, 3, 4]
    assert list(series.total) == [7, 7, 9, 11]  # + oxygen at 3 h; GCS 10 (+3) and invasive SBP 130 (-1) at 4 h
    assert series.maximum == 11 and series.last == 11 and series.missing[0] == 0
    empty = news2(read_long_csv(b"patient_id,time,variable,value\nb,1,Urine,100\n")[0])
    assert empty.maximum == 0 and empty.missing[0] == 7
    assert series.unrecorded_now() == []
    no_rate = news2(read_long_csv(b"patient_id,time,variable,value\nc,1,HR,80\nc,1,Temp,37\nc,1,GCS,15\n"
                                  b"c,1,SaO2,97\nc,1,MechVent,0\nc,1,NISysABP,120\n")[0])
    assert no_rate.unrecorded_now() == ["respiration rate"]


def _one_stay(rows: bytes):
    (stay,) = read_long_csv(b"patient_id,time,variable,value\n" + rows)
    return stay


def test_a_value_older_than_24_h_is_not_scored():
    series = news2(_one_stay(b"a,1,HR,150\na,30,Temp,37\n"), hours=np.array([30.0]))
    pulse = PARAMETERS.index("pulse")
    assert series.components[0, pulse] == 0 and series.absent[0, pulse]


def test_a_ventilated_patient_without_an_fio2_row_scores_for_oxygen():
    series = news2(_one_stay(b"a,1,MechVent,1\na,1,HR,80\n"), hours=np.array([2.0]))
    assert series.components[0, PARAMETERS.index("oxygen")] == 2
