"""Text files from outside (an upload, a hospital's export): any encoding Excel writes, any line ending,
and damage told, not raised raw.

Excel on Windows saves "CSV (Comma delimited)" in Windows-1252 ("°C", "µmol/L" are then not UTF-8) and
"Unicode text" in UTF-16; Excel for Mac saves "Comma Separated Values" in Mac Roman, with lines ended by
a lone carriage return; an unclosed quote runs the rest of a file into one field past the ``csv``
module's field limit.
"""

from __future__ import annotations

import codecs
import csv
import io
from typing import Iterator

from medai.errors import InputError

DELIMITERS = ",;\t"


def _as_latin_1(error: UnicodeError) -> tuple[str, int]:
    """The five bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) read as Latin-1 does."""
    return error.object[error.start:error.end].decode("latin-1"), error.end


codecs.register_error("medai-latin-1", _as_latin_1)


def decode_text(data: bytes, kinds: str) -> str:
    """The text of a file: UTF-16 after its byte-order mark, else UTF-8; else Mac Roman when its lines end
    in a lone carriage return (Excel for Mac), or Windows-1252 (its five undefined bytes read as Latin-1:
    Latin-1 alone would lose Windows-1252's Œ, €, curly quotes and dashes). Neither of the last two ever
    fails.

    Raises
    ------
    InputError
        A binary file (a NUL byte in its first 8 KB; ``kinds`` names what was expected, e.g. "a CSV"),
        or one that says it is UTF-16 and is not.
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text" export
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError("The file says it is UTF-16 text but cannot be read as such.") from exc
    if b"\x00" in data[:8192]:
        raise InputError(f"This is a binary file, not {kinds}.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if b"\r" in data and b"\n" not in data:
            return data.decode("mac_roman")
        return data.decode("cp1252", errors="medai-latin-1")


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
