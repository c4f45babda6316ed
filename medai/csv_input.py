"""CSV text from outside (an upload, a hospital's export): any line ending, and damage told, not raised raw.

Excel for Mac writes lines ended by a lone carriage return, and an unclosed quote runs the rest of a
file into one field past the ``csv`` module's field limit; both made the readers fail with ``csv.Error``.
"""

from __future__ import annotations

import csv
import io
from typing import Iterator

from medai.errors import InputError

DELIMITERS = ",;\t"


def delimiter_of(text: str) -> str:
    """The commonest of comma, semicolon and tab in the first line (the header decides)."""
    first_line = next(iter(text.splitlines()), "")
    return max(DELIMITERS, key=first_line.count)


def csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each row of ``text``, the header included; lines may end in CR, LF or both.

    Raises
    ------
    InputError
        At the first row the ``csv`` module cannot read, naming its line.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"The CSV cannot be read from line {reader.line_num} on ({exc}); an unclosed "
                             "quotation mark is the usual cause.") from exc
        yield reader.line_num, cells
