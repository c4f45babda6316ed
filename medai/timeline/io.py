"""Read ICU time series: a PhysioNet 2012 per-stay file and a long CSV (folders, archives and uploads:
:mod:`medai.timeline.sources`).

Long CSV (what a hospital can export), one observation per row, header required::

    patient_id,time,variable,value[,unit]

``time`` is hours since ICU admission (``3.5``), ``HH:MM`` elapsed as PhysioNet writes it (``03:30``; or
``HH:MM:SS``, Excel's ``[h]:mm:ss``),
or a date and time, ISO (``2024-05-01T10:30``) or as a spreadsheet writes it (``01/05/2024 10:30``, ``5/1/24 10:30
AM``; :mod:`medai.timeline.local_dates` settles day and month order per stay); hours are then counted from
the patient's earliest row.
``variable``: a PhysioNet name (``HR``, ``NIMAP``; ``variables.csv``), or its label, LOINC code or an alias
(``Heart rate``, ``8867-4``, ``SpO2``; said in :attr:`Stay.renamed`); descriptors (``Age``, ``Gender``,
``Height``, ``ICUType``, ``Weight``) at any time. A ``unit`` is ours or one ``units.csv`` converts from.

Reading rules, the same for both formats: ``-1`` (PhysioNet's "missing") is skipped, a blank value
named as a malformed row; unknown variables are kept in :attr:`Stay.unknown` and reported; values outside the
variable's plausible range (``variables.csv``) are set aside in :attr:`Stay.out_of_range` and not
used by the models; a value in another unit ``units.csv`` knows (°F, µmol/L, kPa, ...) is converted
and noted in :attr:`Stay.converted`, and values without a unit that look like another unit are noted
in :attr:`Stay.doubts` (:mod:`medai.timeline.vocabulary`), as are ``HH:MM`` times that go back by over
12 h (clock times across midnight); a malformed row gets a message
naming its line and the rest is still read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from medai.csv_input import csv_rows, decode_text, delimiter_of
from medai.errors import InputError, InputTooLargeError
from medai.timeline.local_dates import LocalDate, parse_local, read_dates
from medai.timeline.vocabulary import (column_name, conversion_note, descriptors, label_of, other_units, our_name,
                                       table_row, to_own_unit, unit_doubt, variable_names)

MAX_FILE_BYTES = 20 * 2**20  # one stay file, or one long CSV
MAX_ROWS = 200_000  # observations of one stay
MAX_STAYS = 50_000
NO_PATIENT_ID = "(rows without a patient_id)"
MAX_MESSAGES = 20  # row messages kept per stay (the rest are counted)
MISSING = -1.0


def clipped(text: str, length: int) -> str:
    """``text`` for a message: at most ``length`` characters, an ellipsis marking a cut."""
    return text if len(text) <= length else text[:length - 1] + "…"


@dataclass(frozen=True)
class Stay:
    """One ICU stay as read.

    Attributes
    ----------
    patient_id : str
        RecordID (PhysioNet) or the CSV's ``patient_id``.
    time : ndarray of float, shape (n,)
        Hours since admission of each observation, sorted ascending.
    variable : ndarray of int, shape (n,)
        Index into :func:`variable_names`.
    value : ndarray of float, shape (n,)
        In the variable's unit (``variables.csv``).
    descriptors : dict
        Age (years), Gender (0/1), Height (cm), ICUType (1-4), Weight (kg); NaN when missing.
    unknown : dict
        Unknown variable name → number of rows (kept, not used by the models).
    out_of_range : tuple of str
        One line per implausible value set aside, e.g. ``"HR 0 bpm at 3.5 h"``.
    problems : tuple of str
        One line per skipped row (line number and why), or per variable and unit not understood.
    converted : tuple of str
        One line per variable read in another unit and converted (``"Temperature: 12 values read in °F, …"``).
    doubts : tuple of str
        One line per doubt about how values or times were written, none changed: a variable given without a
        unit whose values look like another unit; ``HH:MM`` times that go back by over 12 h, as clock times
        crossing midnight do (``HH:MM`` is read as hours since admission).
    renamed : tuple of str
        One line per other name read as ours, e.g. ``"'SpO2' read as O2 saturation (SaO2): 24 rows"``.
    date_order : str
        How spreadsheet dates (``03/01/2024``) were read, when the order of day and month changed the hours.
    unlisted_problems : int
        Malformed rows past the first ``MAX_MESSAGES``, not listed one by one (a line of ``problems`` counts them).
    source : str
        The file it was read from, as :func:`medai.timeline.sources.read_stays` names it ('' when unknown).
    """

    patient_id: str
    time: np.ndarray
    variable: np.ndarray
    value: np.ndarray
    descriptors: dict[str, float]
    unknown: dict[str, int] = field(default_factory=dict)
    out_of_range: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    converted: tuple[str, ...] = ()
    doubts: tuple[str, ...] = ()
    renamed: tuple[str, ...] = ()
    date_order: str = ""
    unlisted_problems: int = 0
    source: str = ""

    @property
    def problem_count(self) -> int:
        """How many problems reading the stay met: those listed in ``problems`` and those only counted."""
        return len(self.problems) - (1 if self.unlisted_problems else 0) + self.unlisted_problems

    @property
    def hours(self) -> float:
        """Time of the last observation (h since admission); 0 when there is none."""
        return float(self.time[-1]) if len(self.time) else 0.0

    def observed(self) -> list[str]:
        """Names of the variables with at least one usable observation."""
        names = variable_names()
        return [names[i] for i in np.unique(self.variable)]

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(times in h, values) of one variable, both shape (k,)."""
        chosen = self.variable == variable_names().index(name)
        return self.time[chosen], self.value[chosen]

    def until(self, hours: float) -> "Stay":
        """The same stay with only the observations made up to ``hours`` (inclusive)."""
        keep = self.time <= hours
        return replace(self, time=self.time[keep], variable=self.variable[keep], value=self.value[keep])

    def without(self, name: str) -> "Stay":
        """The same stay without one variable's observations (occlusion)."""
        keep = self.variable != variable_names().index(name)
        return replace(self, time=self.time[keep], variable=self.variable[keep], value=self.value[keep])

    def canonical_bytes(self) -> bytes:
        """A stable serialisation of what the models see (for the audit hash; no identifier in it)."""
        body = np.concatenate([self.time, self.variable.astype(float), self.value]).astype("<f8").tobytes()
        head = ",".join(f"{k}={self.descriptors.get(k, float('nan')):.6g}" for k in descriptors()).encode()
        return head + b"\n" + body


def parse_time(text: str) -> float | dt.datetime | LocalDate:
    """``"03:30"`` → 3.5 h; ``"3.5"`` → 3.5 h; an ISO timestamp → a datetime; a spreadsheet's date and time
    → a :class:`LocalDate` (both made relative later).

    Raises
    ------
    ValueError
        None of these forms.
    """
    text = text.strip()
    if ":" in text and text.replace(":", "").isdigit():  # HH:MM, or Excel's [h]:mm:ss
        hours, minutes, *seconds = text.split(":")
        if (not all((hours, minutes, *seconds)) or int(minutes) >= 60 or len(seconds) > 1
                or (seconds and int(seconds[0]) >= 60)):
            raise ValueError(text)
        return int(hours) + int(minutes) / 60.0 + (int(seconds[0]) / 3600.0 if seconds else 0.0)
    try:
        return float(text)
    except ValueError:
        pass
    if (local := parse_local(text)) is not None:  # after the plain forms: most rows never reach the patterns
        return local
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class _Builder:
    """Collects one stay's rows, applying the reading rules."""

    def __init__(self, patient_id: str):
        self.patient_id = patient_id
        self.rows: list[tuple[float | dt.datetime | LocalDate, int, float]] = []
        self.desc: dict[str, float] = {}
        self.unknown: dict[str, int] = {}
        self.out_of_range: list[str] = []
        self.problems: list[str] = []
        self.extra_problems = 0
        self.converted: dict[tuple[str, str], int] = {}
        self.unknown_units: dict[tuple[str, str], list[int]] = {}  # (variable, unit) → [rows, first line]
        self.unitless: dict[str, list[float]] = {}
        self.renamed: dict[tuple[str, str], int] = {}
        self.last_clock: dict[str, tuple[float, str]] = {}  # variable → its last HH:MM time (h, as written)
        self.clock_doubt = ""

    def problem(self, line: int, why: str) -> None:
        if len(self.problems) < MAX_MESSAGES:
            self.problems.append(f"line {line}: {why}")
        else:
            self.extra_problems += 1

    def check_clock(self, line: int, name: str, hours: float, written: str) -> None:
        """Note once when a variable's ``HH:MM`` time goes back by over 12 h in file order (23:00 then
        00:30): clock times crossing midnight, which would be read as hours since admission."""
        last = self.last_clock.get(name)
        if last is not None and hours < last[0] - 12 and not self.clock_doubt:
            self.clock_doubt = (f"{label_of(name)}: time goes back from {last[1]} to {written} (line {line}); HH:MM is "
                                "read as hours since admission, not a clock time: give hours since admission or "
                                "dates with times")
        self.last_clock[name] = hours, written

    def add(self, line: int, time_text: str, given: str, value_text: str, unit: str = "") -> None:
        given, desc = given.strip(), descriptors()
        if (name := our_name(given)) is None:
            if given != "RecordID":  # PhysioNet's stay id, not an observation
                self.unknown[given] = self.unknown.get(given, 0) + 1
            return
        if name != given:  # another spelling (label, LOINC code, alias): said once per name
            self.renamed[given, name] = self.renamed.get((given, name), 0) + 1
        try:
            when = parse_time(time_text)
        except ValueError:
            self.problem(line, f"time '{clipped(time_text.strip(), 20)}' is not hours, HH:MM or a date and time")
            return
        if ":" in time_text and isinstance(when, float):
            self.check_clock(line, name, when, time_text.strip())
        if not value_text.strip():
            return self.problem(line, f"{name} has no value")
        try:
            value = float(value_text)
        except ValueError:
            self.problem(line, f"{name} value '{clipped(value_text.strip(), 20)}' is not a number")
            return
        if value == MISSING or not np.isfinite(value):
            return
        known = table_row(name)
        read = to_own_unit(name, value, unit)
        if read is None:  # counted per variable and unit: one note, not one per row
            self.unknown_units.setdefault((name, clipped(unit.strip(), 12)), [0, line])[0] += 1
            return
        value, read_in = read
        if read_in:
            self.converted[name, read_in] = self.converted.get((name, read_in), 0) + 1
        elif not unit.strip():
            self.unitless.setdefault(name, []).append(value)
        if name in desc:
            if known.low <= value <= known.high:
                self.desc.setdefault(name, value)
            elif name != "Weight":
                self.out_of_range.append(f"{name} {value:g} {known.unit}")
            if name != "Weight" or when == 0.0:  # PhysioNet's admission weight is a descriptor row
                return
        if not known.low <= value <= known.high:
            at = f" at {when:.2f} h" if isinstance(when, float) else (
                f" at {when.text}" if isinstance(when, LocalDate) else f" at {when.isoformat()}")
            self.out_of_range.append(f"{name} {value:g} {known.unit}{at}")
            return
        if len(self.rows) >= MAX_ROWS:
            raise InputTooLargeError(f"A stay has more than {MAX_ROWS:,} observations.")
        self.rows.append((when, variable_names().index(name), value))

    def build(self) -> Stay:
        if self.extra_problems:
            self.problems.append(f"... and {self.extra_problems} more malformed rows")
        rows, date_order = self._dated(self.rows)
        stamps = [r[0] for r in rows if isinstance(r[0], dt.datetime)]
        if stamps and len(stamps) != len(rows):
            self.problems.append("times mix timestamps and hours; hour-valued rows skipped")
            rows = [r for r in rows if isinstance(r[0], dt.datetime)]
        if stamps:
            origin = min(stamps)
            try:
                rows = [((r[0] - origin).total_seconds() / 3600.0, r[1], r[2]) for r in rows]
                weight = variable_names().index("Weight")  # at admission a descriptor, as PhysioNet's 00:00 row
                rows = [r for r in rows if r[1] != weight or r[0] > 0.0]
            except TypeError:  # naive and aware timestamps mixed
                self.problems.append("timestamps mix time zones; stay not read")
                rows = []
        before, rows = sum(r[0] < 0 for r in rows), [r for r in rows if r[0] >= 0]  # hours count from admission
        if before:  # a negative hour is a typo or another clock: said, never dropped silently
            self.problems.append(f"{before} row{'s' if before > 1 else ''} before hour 0 (admission) skipped")
        order = sorted(range(len(rows)), key=lambda i: rows[i][0])
        time = np.array([rows[i][0] for i in order], dtype=float)
        variable = np.array([rows[i][1] for i in order], dtype=np.int16)
        value = np.array([rows[i][2] for i in order], dtype=float)
        desc = {name: float(self.desc.get(name, np.nan)) for name in descriptors()}
        self.problems[:0] = [  # first: a whole variable lost to its unit matters more than one bad row
            f"{label_of(name)}: {count} row{'s' * (count > 1)} in '{unit}' skipped, expected "
            f"{' or '.join([table_row(name).unit, *other_units(name)])} "
            f"(first on line {line})" + (" — a number where the unit goes: a decimal comma in a comma-separated "
                                         "file? Write 7.45, or quote the value" if unit.isdigit() else "")
            for (name, unit), (count, line) in self.unknown_units.items()]
        converted = tuple(conversion_note(name, unit, count) for (name, unit), count in self.converted.items())
        doubts = tuple(filter(None, [*(unit_doubt(name, values) for name, values in self.unitless.items()),
                                     self.clock_doubt]))
        renamed = tuple(f"'{clipped(given, 40)}' read as {label_of(name)} ({name}): {count} row{'s' * (count > 1)}"
                        for (given, name), count in self.renamed.items())
        return Stay(self.patient_id, time, variable, value, desc, dict(self.unknown), tuple(self.out_of_range),
                    tuple(self.problems), converted, doubts, renamed, date_order, self.extra_problems)

    def _dated(self, rows: list) -> tuple[list, str]:
        """``rows`` with their spreadsheet dates read in one order of day and month (rows whose date is
        impossible in that order skipped, and said), and how the order was chosen."""
        local = [i for i, row in enumerate(rows) if isinstance(row[0], LocalDate)]
        if not local:
            return rows, ""
        stamps, order_note, skipped_note = read_dates([rows[i][0] for i in local])
        if skipped_note:
            self.problems.append(skipped_note)
        read = list(rows)
        for i, stamp in zip(local, stamps):
            read[i] = None if stamp is None else (stamp, *rows[i][1:])
        return [row for row in read if row is not None], order_note


def _text(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise InputTooLargeError(f"The file is larger than {MAX_FILE_BYTES // 2**20} MB.")
    return decode_text(data, "a text file")


def read_physionet(data: bytes, name: str = "") -> Stay:
    """One PhysioNet 2012 stay file (``Time,Parameter,Value``).

    Raises
    ------
    InputError
        Empty, not text, or not that header.
    """
    lines = _text(data).splitlines()
    if not any(line.strip() for line in lines):
        raise InputError("The file is empty: there is nothing to read.")
    if [c.strip() for c in lines[0].split(",")] != ["Time", "Parameter", "Value"]:
        raise InputError("Not a PhysioNet 2012 file: the first line must be 'Time,Parameter,Value'.")
    record_id = Path(name).stem
    for line in lines[1:3]:
        parts = line.split(",")
        if len(parts) == 3 and parts[1] == "RecordID":
            record_id = parts[2].strip().removesuffix(".0") or record_id
    builder = _Builder(record_id or "unknown")
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        parts = line.split(",")
        if len(parts) != 3:
            builder.problem(number, f"expected 3 fields, found {len(parts)}")
            continue
        builder.add(number, parts[0], parts[1], parts[2])
    return builder.build()


def read_long_csv(data: bytes) -> list[Stay]:
    """Every stay of a long CSV (``patient_id,time,variable,value[,unit]``), in order of first appearance.

    The separator is the header's commonest of comma, semicolon and tab; with a semicolon or tab, a
    decimal comma in ``time`` or ``value`` is read as a point.

    Raises
    ------
    InputError
        Empty, not text, or the header lacks a required column.
    """
    text = _text(data)
    if not text.strip():
        raise InputError("The file is empty.")
    delimiter = delimiter_of(text)  # European exports use ';' (and decimal commas)
    reader = csv_rows(text, delimiter)
    header = [column_name(c) for c in next(reader, (1, []))[1]]  # also MIMIC's subject_id, charttime, valuenum, ...
    required = ["patient_id", "time", "variable", "value"]
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(f"The CSV lacks the column{'s' * (len(missing) > 1)} {', '.join(missing)}" + (
            "" if len(missing) == len(required) else " (it needs patient_id, time, variable, value)") + "; a unit "
            "column is optional.")
    at = {c: header.index(c) for c in [*required, "unit"] if c in header}
    builders: dict[str, _Builder] = {}
    for number, row in reader:
        if not any(cell.strip() for cell in row):
            continue
        patient = row[at["patient_id"]].strip() if at["patient_id"] < len(row) else ""
        # A row that names no patient still gets its message, on a stay of its own, never dropped unsaid.
        builder = builders.get(patient or NO_PATIENT_ID)
        if builder is None:
            if len(builders) >= MAX_STAYS:
                raise InputTooLargeError(f"The CSV holds more than {MAX_STAYS:,} patients.")
            builder = builders[patient or NO_PATIENT_ID] = _Builder(patient or NO_PATIENT_ID)
        if len(row) < len(header):
            builder.problem(number, f"expected {len(header)} fields, found {len(row)}")
        elif any(cell.strip() for cell in row[len(header):]):  # never cut short: 7,45 would be read as pH 7
            builder.problem(number, f"expected {len(header)} fields, found {len(row)}" + (
                " (a decimal comma? write 7.45, or quote the value)" if delimiter == "," else ""))
        elif not patient:
            builder.problem(number, "no patient_id")
        else:
            time, value = (row[at["time"]], row[at["value"]]) if delimiter == "," else (
                row[at["time"]].replace(",", "."), row[at["value"]].replace(",", "."))
            builder.add(number, time, row[at["variable"]], value, row[at["unit"]] if "unit" in at else "")
    return [builder.build() for builder in builders.values()]
