"""Downloads for spreadsheets: formula-like text becomes text; numbers and other text are unchanged."""

import io

import pandas as pd

from medai.spreadsheet import as_text_cell, to_spreadsheet_csv


def test_formula_like_text_gets_an_apostrophe():
    for text in ['=HYPERLINK("http://example.org","x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]:
        assert as_text_cell(text) == "'" + text


def test_numbers_and_ordinary_text_are_unchanged():
    for value in ["-1.5", "+3", "-2e-3", ".5", "aspirin", "CC(=O)O", "", "dr.a", -4.2, 7, None]:
        assert as_text_cell(value) == value


def test_a_table_keeps_its_numbers_and_neutralises_text_and_names():
    table = pd.DataFrame({"id": ["=1+1", "ok"], "logS": [-1.25, 0.5], "assay": ["-3.1", "@x"], "=evil": [1, 2]})
    read = pd.read_csv(io.StringIO(to_spreadsheet_csv(table)))
    assert read["id"].tolist() == ["'=1+1", "ok"]
    assert read["logS"].tolist() == [-1.25, 0.5]
    assert read["assay"].tolist() == ["-3.1", "'@x"]
    assert list(read.columns) == ["id", "logS", "assay", "'=evil"]
    assert table["id"].tolist() == ["=1+1", "ok"]  # the caller's table is untouched


def test_the_download_starts_with_a_byte_order_mark_so_excel_reads_utf_8():
    """Without one, Excel on Windows shows "Acide acÃ©tylsalicylique" and "Â°F"."""
    text = to_spreadsheet_csv(pd.DataFrame({"id": ["Acide acétylsalicylique"], "unit": ["°F"]}))
    assert text.encode().startswith(b"\xef\xbb\xbfid,unit")
    assert text.encode().decode("utf-8-sig") == "id,unit\nAcide acétylsalicylique,°F\n"
