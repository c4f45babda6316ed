"""Readers: a PhysioNet file, the long CSV, malformed rows, clock times across midnight, empty files, caps."""

from __future__ import annotations

import numpy as np
import pytest

from medai.errors import InputError
from medai.timeline import io as tio

PHYSIONET = b"""Time,Parameter,Value
00:00,RecordID,132539
00:00,Age,54
00:00,Gender,0
00:00,Height,-1
00:00,ICUType,4
00:00,Weight,-1
00:07,GCS,15
00:37,HR,88
00:37,NISysABP,-1
01:37,HR,0
02:00,Foo,3
bad line
02:30,HR,abc
03:37,HR,92
05:00,Weight,80
"""


def test_physionet_file():
    stay = tio.read_physionet(PHYSIONET, "132539.txt")
    assert stay.patient_id == "132539"
    assert stay.descriptors["Age"] == 54 and np.isnan(stay.descriptors["Height"])
    times, values = stay.series("HR")
    assert np.allclose(times, [37 / 60, 3 + 37 / 60]) and list(values) == [88, 92]
    assert stay.unknown == {"Foo": 1}
    assert any(o.startswith("HR 0 bpm") for o in stay.out_of_range)
    assert any("line 13" in p for p in stay.problems) and any("'abc'" in p for p in stay.problems)
    assert stay.descriptors["Weight"] == 80 and "Weight" in stay.observed()
    assert set(stay.until(1.0).observed()) == {"HR", "GCS"}


def test_not_physionet_and_empty():
    with pytest.raises(InputError):
        tio.read_physionet(b"a,b\n1,2\n")
    with pytest.raises(InputError, match="The file is empty"):
        tio.read_long_csv(b" \n")
    with pytest.raises(InputError, match="patient_id"):
        tio.read_long_csv(b"id,t\n1,2\n")
    with pytest.raises(InputError, match=r"lacks the column value \(it needs patient_id, time, variable, value\); a unit"):
        tio.read_long_csv(b"patient_id,time,variable\na,1,HR\n")


def test_long_csv_all_time_forms():
    data = (b"patient_id,time,variable,value,unit\n"
            b"p1,0,Age,70,years\n"
            b"p1,1.5,HR,100,bpm\n"
            b"p1,02:30,HR,110,\n"
            b"p1,3,Temp,310,K\n"
            b"p2,2024-05-01T10:00,HR,80,bpm\n"
            b"p2,2024-05-01T12:30,RespRate,20,breaths/min\n"
            b"p2,not-a-time,HR,80,bpm\n")
    first, second = tio.read_long_csv(data)
    assert first.patient_id == "p1" and first.descriptors["Age"] == 70
    assert list(first.series("HR")[0]) == [1.5, 2.5]
    assert "Temperature: 1 row in 'K' skipped, expected °C or °F (first on line 5)" in first.problems
    assert list(second.time) == [0.0, 2.5]
    assert any("line 8" in p for p in second.problems)


def test_caps(monkeypatch):
    monkeypatch.setattr(tio, "MAX_FILE_BYTES", 10)
    with pytest.raises(InputError):
        tio.read_physionet(PHYSIONET)


def test_canonical_bytes_have_no_id():
    stay = tio.read_physionet(PHYSIONET, "x.txt")
    assert b"132539" not in stay.canonical_bytes()


def test_rows_before_admission_are_named_not_dropped_silently():
    (stay,) = tio.read_long_csv(b"patient_id,time,variable,value\n7,-1.5,HR,80\n7,0.5,HR,82\n7,2,HR,85\n")
    assert stay.time.tolist() == [0.5, 2.0]
    assert "1 row before hour 0 (admission) skipped" in stay.problems


def test_other_names_of_the_csv_columns_are_read():
    (stay,) = tio.read_long_csv(b"Subject_ID,Timestamp,Parameter,valuenum\n7,2024-05-01T10:00,HR,80\n"
                                b"7,2024-05-01T11:30,HR,85\n")
    assert stay.patient_id == "7" and stay.time.tolist() == [0.0, 1.5] and not stay.problems


def test_a_row_without_a_value_is_named_not_dropped_silently():
    (stay,) = tio.read_long_csv(b"patient_id,time,variable,value\n7,1,HR,80\n7,2,HR,\n7,3,HR,85\n")
    assert stay.series("HR")[1].tolist() == [80.0, 85.0] and stay.problems == ("line 3: HR has no value",)


def test_a_short_row_is_named_on_its_patient_even_as_its_first_row():
    (stay,) = tio.read_long_csv(b"patient_id,time,variable,value\np1,1,HR\np1,2,HR,80\n")
    assert stay.patient_id == "p1" and stay.series("HR")[1].tolist() == [80.0]
    assert stay.problems == ("line 2: expected 4 fields, found 3",)


def test_a_short_row_that_ends_before_the_patient_id_is_named_not_dropped():
    stays = tio.read_long_csv(b"time,variable,value,patient_id\n1,HR,80,p1\n2,HR,p1\n")
    assert [s.patient_id for s in stays] == ["p1", tio.NO_PATIENT_ID]
    assert stays[0].series("HR")[1].tolist() == [80.0] and not stays[0].problems
    assert stays[1].problems == ("line 3: expected 4 fields, found 3",)


def test_rows_without_a_patient_id_are_named_on_a_stay_of_their_own():
    stays = tio.read_long_csv(b"patient_id,time,variable,value\np1,1,HR,80\n,2,HR,90\n,3\n")
    assert [s.patient_id for s in stays] == ["p1", tio.NO_PATIENT_ID]
    assert stays[1].problems == ("line 3: no patient_id", "line 4: expected 4 fields, found 2")
    assert not len(stays[1].time)


def test_other_units_are_converted_and_noted():
    (stay,) = tio.read_long_csv(b"patient_id,time,variable,value,unit\n"
                                b"7,1,Temp,100.4,degF\n7,2,Temp,98.6,\n7,3,Temp,37.5,\n"
                                b"7,1,Creatinine,88.4,umol/L\n7,1,FiO2,40,\n7,1,Na,140,mEq/L\n7,1,PaO2,12,kPa\n")
    assert np.allclose(stay.series("Temp")[1], [38.0, 37.0, 37.5])
    assert np.allclose(stay.series("Creatinine")[1], [1.0], atol=1e-3)
    assert np.allclose(stay.series("FiO2")[1], [0.4]) and np.allclose(stay.series("Na")[1], [140])
    assert np.allclose(stay.series("PaO2")[1], [90.0], atol=0.01)
    assert set(stay.converted) == {"Temperature: 1 value read in °F, converted to °C",
                                   "Temperature: 1 value read in °F (no unit given), converted to °C",
                                   "Creatinine: 1 value read in µmol/L, converted to mg/dL",
                                   "Inspired O2 fraction: 1 value read in % (no unit given), converted to fraction",
                                   "Arterial PaO2: 1 value read in kPa, converted to mmHg"}
    assert not stay.problems and not stay.out_of_range
    assert stay.until(1.5).converted == stay.converted


def test_a_value_without_unit_outside_every_range_is_still_set_aside():
    (stay,) = tio.read_long_csv(b"patient_id,time,variable,value\n7,1,Temp,60\n7,2,Temp,37\n")
    assert stay.series("Temp")[1].tolist() == [37.0] and stay.out_of_range == ("Temp 60 °C at 1.00 h",)
    assert not stay.converted


@pytest.mark.parametrize("separator", [";", "\t"])
def test_semicolon_and_tab_separated_csv_with_decimal_commas(separator):
    rows = ["patient_id|time|variable|value", "7|1|HR|80", "7|2,5|Temp|37,5"]
    (stay,) = tio.read_long_csv("\n".join(row.replace("|", separator) for row in rows).encode())
    assert stay.series("HR")[1].tolist() == [80.0] and stay.series("Temp") == ([2.5], [37.5])
    assert not stay.problems


def test_common_spellings_of_our_units_are_read_as_ours():
    (stay,) = tio.read_long_csv(b"patient_id,time,variable,value,unit\n7,1,WBC,11.2,K/uL\n7,1,Platelets,250,x10^9/L\n"
                                b"7,1,Creatinine,1.1,mg%\n7,1,Na,140,mEq/L\n7,1,Height,70,in\n")
    assert stay.series("WBC")[1].tolist() == [11.2] and stay.series("Platelets")[1].tolist() == [250.0]
    assert stay.series("Creatinine")[1].tolist() == [1.1] and stay.descriptors["Height"] == pytest.approx(177.8)
    assert stay.converted == ("Height: 1 value read in inches, converted to cm",) and not stay.problems


def test_a_unit_not_understood_is_one_note_per_variable_naming_the_rows():
    rows = [f"7,{h},HR,{80 + h},furlongs" for h in range(12)] + ["7,1,Temp,37,°C"]
    (stay,) = tio.read_long_csv(("patient_id,time,variable,value,unit\n" + "\n".join(rows)).encode())
    assert stay.problems == ("Heart rate: 12 rows in 'furlongs' skipped, expected bpm (first on line 2)",)
    assert "HR" not in stay.observed()


def test_values_without_a_unit_that_look_like_another_unit_are_doubted_not_converted():
    rows = ["7,1,Glucose,12.5", "7,2,Glucose,14.1", "7,1,PaO2,11.2", "7,1,Creatinine,95", "7,1,HR,80"]
    (stay,) = tio.read_long_csv(("patient_id,time,variable,value\n" + "\n".join(rows)).encode())
    assert stay.series("Glucose")[1].tolist() == [12.5, 14.1], "possible in mg/dL value by value: kept as given"
    assert stay.doubts == (
        "Glucose was given without a unit and its median, 13.3 mg/dL, looks like mmol/L: give the unit column to be sure",
        "Arterial PaO2 was given without a unit and its median, 11.2 mmHg, looks like kPa: give the unit column to be sure")
    assert stay.series("Creatinine")[1] == pytest.approx([95 * 0.0113122]), "95 mg/dL is impossible: µmol/L"


def test_other_names_of_our_variables_are_read_and_said():
    rows = ["patient_id,time,variable,value", "p,0,HeartRate,88", "p,1,Heart Rate,90", "p,1,SpO2,95",
            "p,2,8480-6,120", "p,2,Respiratory rate,18", "p,2,Shoe size,44"]
    (stay,) = tio.read_long_csv("\n".join(rows).encode())
    assert set(stay.observed()) == {"HR", "SaO2", "NISysABP", "RespRate"}
    assert "'SpO2' read as O2 saturation (SaO2): 1 row" in stay.renamed
    assert "'HeartRate' read as Heart rate (HR): 1 row" in stay.renamed and len(stay.renamed) == 5
    assert stay.unknown == {"Shoe size": 1}


def test_no_other_name_means_two_variables():
    from medai.timeline.vocabulary import _other_names

    assert _other_names()["spo2"] == "SaO2"  # building the table raises on an ambiguous name


def test_clock_times_across_midnight_are_doubted_not_reordered_silently():
    rows = ["patient_id,time,variable,value"] + [f"n,{h % 24:02d}:00,HR,{80 + h}" for h in range(20, 31)]
    (stay,) = tio.read_long_csv("\n".join(rows).encode())
    assert stay.doubts == ("Heart rate: time goes back from 23:00 to 00:00 (line 6); HH:MM is read as hours since "
                           "admission, not a clock time: give hours since admission or dates with times",)
    sorted_by_variable = ["patient_id,time,variable,value"] + [f"n,{h:02d}:00,{v},{80 + h}" for v in ("HR", "Temp")
                                                              for h in range(30)]
    (stay,) = tio.read_long_csv("\n".join(sorted_by_variable).encode())
    assert stay.doubts == (), "each variable's times go forward: no doubt"


def test_a_mimic_lab_export_is_read_with_its_own_names_and_units():
    # MIMIC-IV's labevents joined to d_labitems: its `label` column, its names, pH in "units".
    rows = ["subject_id,charttime,label,valuenum,valueuom", "9,2154-04-26 08:01:00,pH,7.31,units",
            "9,2154-04-26 08:01:00,pO2,84,mm Hg", "9,2154-04-26 08:01:00,pCO2,41,mm Hg",
            "9,2154-04-26 09:00:00,Asparate Aminotransferase (AST),40,IU/L",
            "9,2154-04-26 09:00:00,Alanine Aminotransferase (ALT),35,IU/L",
            "9,2154-04-26 09:00:00,\"Bilirubin, Total\",0.8,mg/dL", "9,2154-04-26 09:00:00,\"Calcium, Total\",8.4,mg/dL"]
    (stay,) = tio.read_long_csv("\n".join(rows).encode())
    assert set(stay.observed()) == {"pH", "PaO2", "PaCO2", "AST", "ALT", "Bilirubin"}, stay.problems
    assert stay.unknown == {"Calcium, Total": 1}
    assert "'Asparate Aminotransferase (AST)' read as Aspartate aminotransferase (AST): 1 row" in stay.renamed


def test_a_long_name_is_cut_visibly_in_messages():
    assert tio.clipped("Alanine Aminotransferase (ALT)", 40) == "Alanine Aminotransferase (ALT)"
    assert tio.clipped("x" * 50, 10) == "x" * 9 + "…"


def test_an_empty_physionet_file_is_called_empty():
    for data in (b"", b"\n \n"):
        with pytest.raises(InputError, match="empty"):
            tio.read_physionet(data, "132539.txt")


# Reference conversions worked out here from molar masses and definitions, not read from units.csv.
@pytest.mark.parametrize(("name", "value", "unit", "expected"), [
    ("Temp", 104.0, "degF", 40.0),
    ("FiO2", 40.0, "%", 0.40),
    ("PaCO2", 5.333, "kPa", 40.0),                   # 1 kPa = 7.50062 mmHg
    ("PaO2", 13.332, "kPa", 100.0),
    ("Mg", 1.0, "mmol/L", 2.4305),                   # Mg 24.305 g/mol
    ("Mg", 2.0, "mEq/L", 2.4305),                    # divalent: 2 mEq = 1 mmol
    ("Glucose", 5.55, "mmol/L", 5.55 * 18.016),      # glucose 180.16 g/mol
    ("BUN", 7.14, "mmol/L", 7.14 * 2.8014),          # urea's two nitrogens, 28.014 g/mol
    ("Creatinine", 88.4, "umol/L", 1.0),             # creatinine 113.12 g/mol
    ("Lactate", 18.0, "mg/dL", 18.0 * 10 / 90.08),   # lactate 90.08 g/mol, to mmol/L
    ("HCT", 0.42, "L/L", 42.0),
    ("Albumin", 35.0, "g/L", 3.5),
    ("Bilirubin", 17.1, "umol/L", 17.1 * 584.66 / 10_000),  # bilirubin 584.66 g/mol
    ("Cholesterol", 5.17, "mmol/L", 5.17 * 38.665),  # cholesterol 386.65 g/mol
    ("TroponinI", 14.0, "ng/L", 0.014),
    ("TroponinT", 14.0, "ng/L", 0.014),
    ("Urine", 0.5, "L", 500.0),
    ("Weight", 154.0, "lb", 154.0 * 0.45359237),
    ("Height", 70.0, "in", 177.8),
    ("Platelets", 250.0, "10^9/L", 250.0),           # the same number in both units
])
def test_each_unit_conversion_against_a_worked_value(name, value, unit, expected):
    (stay,) = tio.read_long_csv(f"patient_id,time,variable,value,unit\n7,1,{name},{value},{unit}\n".encode())
    read = stay.descriptors[name] if name in ("Weight", "Height") else stay.series(name)[1][0]
    assert read == pytest.approx(expected, rel=2e-3)
    assert (len(stay.converted) == 1) == (value != expected) and not stay.problems and not stay.out_of_range


def test_physionet_minus_one_means_missing_not_an_implausible_value():
    data = b"Time,Parameter,Value\n00:00,RecordID,1\n00:00,Height,-1\n00:37,NISysABP,-1\n00:37,HR,88\n"
    stay = tio.read_physionet(data, "1.txt")
    assert stay.out_of_range == () and list(stay.series("HR")[1]) == [88] and not len(stay.series("NISysABP")[1])


def test_timestamps_out_of_order_count_from_the_earliest():
    (stay,) = tio.read_long_csv(b"patient_id,time,variable,value\np,2024-05-01T12:00,HR,80\np,2024-05-01T10:00,HR,90\n")
    assert stay.time.tolist() == [0.0, 2.0] and stay.series("HR")[1].tolist() == [90, 80] and not stay.problems


def test_more_patients_than_the_cap_are_refused():
    from medai.errors import InputTooLargeError

    rows = "patient_id,time,variable,value\n" + "".join(f"p{k},1,HR,80\n" for k in range(tio.MAX_STAYS + 1))
    assert tio.MAX_STAYS == 50_000
    with pytest.raises(InputTooLargeError):
        tio.read_long_csv(rows.encode())


def test_a_csv_from_excel_for_mac_and_a_damaged_one():
    stays = tio.read_long_csv(b"patient_id,time,variable,value\r7,1,HR,80\r7,2,HR,90\r8,1,Temp,37\r")
    assert [(s.patient_id, s.series("HR")[1].tolist()) for s in stays] == [("7", [80, 90]), ("8", [])]
    with pytest.raises(InputError, match="from line 3 on"):
        tio.read_long_csv(b'patient_id,time,variable,value\n7,1,HR,80\n7,2,HR,"' + b"8" * 200_000 + b"\n")


def test_what_excel_saves_is_read():
    rows = "patient_id,time,variable,value,unit\n7,1,Temp,100.4,°F\n7,1,Creatinine,88.4,µmol/L\n"
    for data in (rows.encode("cp1252"), rows.encode("utf-16"),  # "CSV (Comma delimited)", "Unicode text"
                 rows.replace("\n", "\r").encode("mac_roman")):  # Excel for Mac's "Comma Separated Values"
        (stay,) = tio.read_long_csv(data)
        assert stay.series("Temp")[1].tolist() == pytest.approx([38.0]) and not stay.problems
        assert stay.series("Creatinine")[1].tolist() == pytest.approx([1.0], abs=1e-3)
    with pytest.raises(InputError, match="binary file"):
        tio.read_long_csv(b"patient_id,time\x00\x01\x02")


def test_excel_date_times_are_read_in_the_order_that_keeps_the_stay_short():
    """Excel saves date-time cells in the computer's locale (US: month first, UK: day first)."""
    us = b"patient_id,time,variable,value\np,3/1/2024 10:15 PM,HR,80\np,3/2/2024 6:15 AM,HR,90\np,3/2/2024 8:15 AM,HR,500\n"
    uk = b"patient_id;time;variable;value\np;01/03/2024 22:15;HR;80\np;02/03/2024 06:15;HR;90\np;02/03/2024 08:15;HR;500\n"
    for data, order in ((us, "month first"), (uk, "day first")):
        (stay,) = tio.read_long_csv(data)
        assert stay.time.tolist() == [0.0, 8.0] and stay.value.tolist() == [80.0, 90.0] and not stay.problems
        assert stay.date_order.startswith(f"dates read {order}:") and "1 March 2024" in stay.date_order
        assert stay.out_of_range == (f"HR 500 bpm at {'3/2/2024 8:15 AM' if order == 'month first' else '02/03/2024 08:15'}",)


def test_a_spreadsheet_date_impossible_in_the_stays_order_is_a_skipped_row_said():
    (stay,) = tio.read_long_csv(b"patient_id,time,variable,value\np,13/03/2024 06:00,HR,80\np,14/03/2024 06:00,HR,90\n"
                                b"p,3/15/2024 06:00,HR,85\np,31/31/2024 06:00,HR,85\n")
    assert stay.time.tolist() == [0.0, 24.0] and stay.date_order == ""
    assert stay.problems == ("line 5: time '31/31/2024 06:00' is not hours, HH:MM or a date and time",
                             "1 row skipped: '3/15/2024 06:00' is no date read day first, as the stay's other dates are")


def test_a_row_with_more_fields_than_the_header_is_named_not_cut_short():
    """A decimal comma in a comma-separated file (pH 7,45) was read as pH 7 without a word."""
    (stay,) = tio.read_long_csv(b"patient_id,time,variable,value\np,1,pH,7,45\np,2,pH,7.41\np,3,HR,80,\n")
    assert stay.series("pH")[1].tolist() == [7.41] and stay.series("HR")[1].tolist() == [80]
    assert stay.problems == ("line 2: expected 4 fields, found 5 (a decimal comma? write 7.45, or quote the value)",)
    (stay,) = tio.read_long_csv(b"patient_id;time;variable;value\np;1;pH;7,45;x\n")
    assert stay.problems == ("line 2: expected 4 fields, found 5",) and not len(stay.time)


def test_excel_elapsed_hours_minutes_seconds_are_read():
    (stay,) = tio.read_long_csv(b"patient_id,time,variable,value\np,00:00:00,HR,80\np,25:30:36,HR,90\np,1:60:00,HR,1\n")
    assert stay.time.tolist() == [0.0, 25.51] and stay.problems == (
        "line 4: time '1:60:00' is not hours, HH:MM or a date and time",)


@pytest.mark.parametrize("unit", ["ºC", "˚C", "° C"])  # the ordinal of Spanish and Italian keyboards, a ring
def test_the_signs_keyboards_type_for_degrees_are_read_as_degrees(unit):
    (stay,) = tio.read_long_csv(f"patient_id,time,variable,value,unit\np,1,Temp,37.2,{unit}\n".encode())
    assert stay.series("Temp")[1].tolist() == [37.2] and not stay.problems and not stay.converted


def test_micromol_spelt_out_is_read_as_micromoles():
    (stay,) = tio.read_long_csv(b"patient_id,time,variable,value,unit\np,1,Creatinine,88.4,micromol/L\n")
    assert stay.series("Creatinine")[1].round(3).tolist() == [1.0] and not stay.problems


def test_the_admission_weight_is_a_descriptor_whether_times_are_hours_or_timestamps():
    hours = b"patient_id,time,variable,value\np,0,Weight,80\np,0.5,HR,90\np,5,Weight,79\n"
    stamps = (b"patient_id,time,variable,value\np,2024-05-01T10:00,Weight,80\np,2024-05-01T10:30,HR,90\n"
              b"p,2024-05-01T15:00,Weight,79\n")
    for data in (hours, stamps):
        (stay,) = tio.read_long_csv(data)
        assert stay.descriptors["Weight"] == 80 and stay.series("Weight")[0].tolist() == [5.0]
        assert stay.series("HR")[0].tolist() == [0.5]


def test_problems_past_the_listed_ones_are_counted_not_lost():
    rows = "".join(f"p,{k},HR,8{k % 10},{k}\n" for k in range(30))  # every row one field too many
    (stay,) = tio.read_long_csv(("patient_id,time,variable,value\np,40,HR,80\n" + rows).encode())
    assert len(stay.problems) == tio.MAX_MESSAGES + 1 and stay.problems[-1] == "... and 10 more malformed rows"
    assert stay.unlisted_problems == 10 and stay.problem_count == 30


def test_a_number_in_the_unit_column_is_said_to_look_like_a_decimal_comma():
    (stay,) = tio.read_long_csv(b"patient_id,time,variable,value,unit\np,1,pH,7,45\np,2,pH,7.41,\n")
    assert stay.series("pH")[1].tolist() == [7.41]
    assert stay.problems == ("Arterial pH: 1 row in '45' skipped, expected pH (first on line 2) — a number where the "
                             "unit goes: a decimal comma in a comma-separated file? Write 7.45, or quote the value",)
