"""Dates as spreadsheets write them: ``3/1/2024 22:15``, ``01.03.2024 22:15:00``, ``3/1/24 10:15 PM``.

Excel saves a date-time cell to CSV in the computer's locale, so ``03/01/2024`` is 3 January in London
and 1 March in New York, and the file does not say which. A stay's dates are read both ways; a reading
that gives an impossible date (a 13th month) is out, and of two possible readings the one whose stay is
shorter wins: an ICU stay's observations span hours or days, and the wrong reading scatters them over
months. When every row falls on dates that read the same both ways, the hours do not depend on it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Sequence

_LOCAL = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})"
                    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?\s*([AaPp][Mm])?)?")
_YEAR_FIRST = re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?)?")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


@dataclass(frozen=True)
class LocalDate:
    """A spreadsheet's date and time whose order of day and month is not known yet.

    Attributes
    ----------
    first, second : int
        The first two numbers of the date as written (day and month, in an unknown order).
    year : int
    seconds : float
        Time of day, seconds since midnight.
    text : str
        As written.
    """

    first: int
    second: int
    year: int
    seconds: float
    text: str

    def read(self, day_first: bool) -> dt.datetime | None:
        """The date-time read day first or month first; None when that reading is no date."""
        day, month = (self.first, self.second) if day_first else (self.second, self.first)
        try:
            return dt.datetime(self.year, month, day) + dt.timedelta(seconds=self.seconds)
        except ValueError:
            return None


def _seconds(hours: str | None, minutes: str | None, seconds: str | None, half: str | None = None) -> float | None:
    """Seconds since midnight of a written time; None when it is no time of day."""
    hour, minute, second = int(hours or 0), int(minutes or 0), float(seconds or 0)
    if half:  # 12:30 AM is 00:30, 12:30 PM is 12:30
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if half.lower() == "pm" else 0)
    if hour > 23 or minute > 59 or second >= 60:
        return None
    return hour * 3600 + minute * 60 + second


def parse_local(text: str) -> LocalDate | dt.datetime | None:
    """A spreadsheet date-time: :class:`LocalDate` when day and month may be either way round, a datetime
    when the year comes first (``2024/03/01 10:30``); None when ``text`` is neither, or no date either way."""
    text = text.strip()
    if match := _YEAR_FIRST.fullmatch(text):
        year, month, day, hours, minutes, seconds = match.groups()
        clock = _seconds(hours, minutes, seconds)
        try:
            return None if clock is None else dt.datetime(int(year), int(month), int(day)) + dt.timedelta(seconds=clock)
        except ValueError:
            return None
    if not (match := _LOCAL.fullmatch(text)):
        return None
    first, second, year, hours, minutes, seconds, half = match.groups()
    clock = _seconds(hours, minutes, seconds, half)
    if clock is None:
        return None
    if len(year) == 2:  # as strptime's %y: 69-99 are 1900s, 00-68 2000s
        year = str(int(year) + (1900 if int(year) >= 69 else 2000))
    date = LocalDate(int(first), int(second), int(year), clock, text)
    return None if date.read(True) is None and date.read(False) is None else date


def _span(stamps: Sequence[dt.datetime | None]) -> float:
    """Hours from the earliest to the latest of the ``stamps`` that are dates (inf when none is)."""
    present = [s for s in stamps if s is not None]
    return (max(present) - min(present)).total_seconds() / 3600.0 if present else float("inf")


def _duration(hours: float) -> str:
    return f"{hours:.0f} h" if hours < 72 else f"{hours / 24:.0f} days"


def read_dates(dates: Sequence[LocalDate]) -> tuple[list[dt.datetime | None], str, str]:
    """Read a stay's spreadsheet dates, all in one order of day and month.

    The order that gives a date for more of them wins; of two that give every one a date, the one
    whose stay is shorter.

    Returns
    -------
    stamps : list of datetime or None
        One per date, in order; None where that order gives no date (such rows are skipped).
    order_note : str
        How the dates were read, when both orders were possible and gave different hours; else ''.
    skipped_note : str
        Which rows were skipped for a date impossible in that order; else ''.
    """
    readings = {order: [d.read(order) for d in dates] for order in (True, False)}
    counts = {order: sum(s is not None for s in stamps) for order, stamps in readings.items()}
    day_first = (counts[True] > counts[False] if counts[True] != counts[False]
                 else _span(readings[True]) <= _span(readings[False]))
    chosen, other = readings[day_first], readings[not day_first]
    order = "day first" if day_first else "month first"
    order_note = skipped_note = ""
    if counts[True] == counts[False] == len(dates) and _hours(chosen) != _hours(other):
        example, when = next((d, stamp) for d, stamp, elsewise in zip(dates, chosen, other) if stamp != elsewise)
        order_note = (f"dates read {order}: '{example.text}' is {when.day} {MONTHS[when.month - 1]} {when.year} "
                      f"(the stay spans {_duration(_span(chosen))}; read the other way it would span "
                      f"{_duration(_span(other))})")
    skipped = [d.text for d, stamp in zip(dates, chosen) if stamp is None]
    if skipped:
        skipped_note = (f"{len(skipped)} row{'s' * (len(skipped) > 1)} skipped: '{skipped[0]}' is no date read "
                        f"{order}, as the stay's other dates are")
    return chosen, order_note, skipped_note


def _hours(stamps: list[dt.datetime | None]) -> list[float | None]:
    """Hours of each stamp after the earliest (None where there is no date)."""
    origin = min(s for s in stamps if s is not None)
    return [None if s is None else (s - origin).total_seconds() / 3600.0 for s in stamps]
