"""CSV text from outside: lone carriage returns end lines, and a damaged file is an input error naming its line."""

import pytest

from medai.csv_input import csv_rows, decode_text, delimiter_of
from medai.errors import InputError


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])  # Unix, Windows, Excel for Mac's "CSV (Macintosh)"
def test_every_line_ending_gives_the_same_rows(ending):
    text = ending.join(["a;b", "1;2", '"x;y";3']) + ending
    assert delimiter_of(text) == ";"
    assert list(csv_rows(text, ";")) == [(1, ["a", "b"]), (2, ["1", "2"]), (3, ["x;y", "3"])]


def test_the_header_alone_decides_the_delimiter():
    assert delimiter_of("a,b\r1;2;3;4;5\r") == ","


def test_an_unclosed_quote_is_an_input_error_naming_its_line():
    text = 'smiles\nCCO\n"' + "C" * 200_000 + "\nCCN\n"
    rows = csv_rows(text, ",")
    assert next(rows) == (1, ["smiles"]) and next(rows) == (2, ["CCO"])
    with pytest.raises(InputError, match="from line 3 on"):
        next(rows)


def test_text_in_the_encodings_excel_writes():
    assert decode_text("°C µmol/L".encode("cp1252"), "a CSV") == "°C µmol/L"
    assert decode_text("°C\rµmol/L\r".encode("mac_roman"), "a CSV") == "°C\rµmol/L\r"  # Excel for Mac
    assert decode_text("°C µmol/L".encode("utf-16"), "a CSV") == "°C µmol/L"
    assert decode_text("\ufeff°C".encode("utf-8"), "a CSV") == "°C"
    with pytest.raises(InputError, match="not a CSV"):
        decode_text(b"PK\x03\x04\x00\x00", "a CSV")


def test_windows_1252_signs_that_latin_1_lacks_are_read():
    """Latin-1 read Excel's curly quotes, dashes, € and Œ as control characters (0x80-0x9F)."""
    text = "Œstradiol;135–145 mmol/L;“normal”;5 €;°C\r\n"
    assert decode_text(text.encode("cp1252"), "a CSV") == text
    assert decode_text(b"caf\xe9 \x81\x8d\x8f\x90\x9d\n", "a CSV") == "café \x81\x8d\x8f\x90\x9d\n"  # undefined in cp1252


def test_big_endian_utf_16_is_read_not_called_binary():
    assert decode_text(b"\xfe\xff" + "°C;µmol/L".encode("utf-16-be"), "a CSV") == "°C;µmol/L"
