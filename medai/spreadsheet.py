"""CSV for people, who open it in a spreadsheet: text that a spreadsheet would run as a formula
is written as text.

Excel, LibreOffice and Google Sheets read a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a
tab or carriage return) as a formula (OWASP's "CSV injection"). A file name, a user name, a comment,
a molecule id or an input column chosen by someone else could then run, or leak the sheet, when a
colleague opens the download. Such a text cell gets a leading apostrophe, OWASP's remedy; numbers,
and text that is only a number (``-1.5`` from an input file), are left as they are. The text starts with
a byte-order mark: without one, Excel on Windows reads UTF-8 as its own code page ("acÃ©tyl", "Â°C").

The prediction CLIs (``screen``, ``diagnose``, …) write machine-readable CSV with values exactly as
given; the page downloads and the exports meant for reviewers go through :func:`to_spreadsheet_csv`.
"""

from __future__ import annotations

import re

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def as_text_cell(value: object) -> object:
    """``value`` with a leading apostrophe when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


BYTE_ORDER_MARK = "\ufeff"


def to_spreadsheet_csv(table: pd.DataFrame) -> str:
    """``table`` as CSV text (no index) after a byte-order mark, every text cell and column name through
    :func:`as_text_cell`."""
    safe = table.copy()
    for column in safe.columns:
        if pd.api.types.is_object_dtype(safe[column]) or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(as_text_cell)
    safe.columns = [as_text_cell(str(column)) for column in safe.columns]
    return BYTE_ORDER_MARK + safe.to_csv(index=False)
