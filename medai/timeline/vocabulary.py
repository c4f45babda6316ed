"""What the timeline reads: its variables, their units and plausible ranges, and the other units they may come in.

``variables.csv`` and ``descriptors.csv`` (data, not code) list the time-series variables (PhysioNet
2012 names) and the per-stay descriptors; ``reference_ranges.csv`` typical adult reference intervals of
the labs. ``units.csv`` lists per variable each other unit a hospital
may export, with its spellings, and the linear map to the variable's own unit: own = value × factor +
offset. A value given without a unit is in the variable's own unit, except in the few ranges the own
unit cannot reach and another unit does (a temperature of 98.6 is °F: no living patient is at 98.6 °C;
an FiO2 of 40 is %): those values are converted too, and the reading notes say so.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Variable:
    """One row of ``variables.csv`` / ``descriptors.csv``: name, label, unit, plausible range, LOINC."""

    name: str
    label: str
    unit: str
    low: float
    high: float
    group: str
    loinc: str
    ucum: str = ""
    aliases: tuple[str, ...] = ()


def _table(file_name: str) -> dict[str, Variable]:
    with open(HERE / file_name, encoding="utf-8") as handle:
        return {row["name"]: Variable(row["name"], row["label"], row["unit"], float(row["low"]), float(row["high"]),
                                      row.get("group", "descriptor"), row["loinc"], row.get("ucum", ""),
                                      tuple(filter(None, (row.get("aliases") or "").split(";"))))
                for row in csv.DictReader(handle)}


@lru_cache(maxsize=1)
def variables() -> dict[str, Variable]:
    """The 37 time-series variables (PhysioNet 2012 names), in table order."""
    return _table("variables.csv")


@lru_cache(maxsize=1)
def descriptors() -> dict[str, Variable]:
    """The five general descriptors (Age, Gender, Height, ICUType, Weight)."""
    return _table("descriptors.csv")


def _key(name: str) -> str:
    """A name compared without case, spaces or punctuation: "Heart Rate" = "heart_rate" = "heartrate"."""
    return "".join(character for character in name.lower() if character.isalnum())


@lru_cache(maxsize=1)
def _other_names() -> dict[str, str]:
    """Compared key of each other name a hospital export may use → our name: the label, the LOINC code and
    the ``aliases`` of ``variables.csv``, and the descriptors' labels and codes. Raises on an ambiguous one."""
    found: dict[str, str] = {}
    for row in [*variables().values(), *descriptors().values()]:
        for other in (row.label, row.loinc, *row.aliases):
            key = _key(other)
            if key and found.setdefault(key, row.name) != row.name and row.name != "Weight":
                raise ValueError(f"'{other}' names both {found[key]} and {row.name}")
    return found


def our_name(name: str) -> str | None:
    """The variable or descriptor that ``name`` (ours, or another spelling) means; None when none."""
    if name in variables() or name in descriptors():
        return name
    return _other_names().get(_key(name))


def variable_names() -> tuple[str, ...]:
    """Time-series variable names in table order (the models' column order)."""
    return tuple(variables())


# Other names hospital exports give the long CSV's columns (MIMIC's subject_id and charttime, ...).
COLUMN_ALIASES = {"subject_id": "patient_id", "patientid": "patient_id", "patient": "patient_id",
                  "recordid": "patient_id", "timestamp": "time", "charttime": "time", "datetime": "time",
                  "hours": "time", "parameter": "variable", "label": "variable", "valuenum": "value",
                  "valueuom": "unit"}


def column_name(header: str) -> str:
    """A long CSV header cell as our column name: ``"Timestamp"`` → ``"time"``; others lower-cased."""
    name = header.strip().lower()
    return COLUMN_ALIASES.get(name, name)


@lru_cache(maxsize=1)
def reference_ranges() -> dict[str, tuple[float, float]]:
    """Lab name → a typical adult reference interval (low, high) in the variable's own unit, from
    ``reference_ranges.csv`` (data): drawn behind lab charts so that a change reads at its clinical
    scale. Each laboratory's own intervals differ; troponins (assay-specific) and cholesterol have none."""
    with open(HERE / "reference_ranges.csv", encoding="utf-8") as handle:
        return {row["name"]: (float(row["low"]), float(row["high"])) for row in csv.DictReader(handle)}


def table_row(name: str) -> Variable:
    """The row of a time-series variable or a descriptor (Weight is both: the variable's row)."""
    return variables().get(name) or descriptors()[name]


@dataclass(frozen=True)
class Conversion:
    """One other unit of one variable: own-unit value = value × ``factor`` + ``offset``.

    ``unitless_low`` / ``unitless_high`` bound the values read in this unit when no unit is given
    (NaN for units never assumed): values the own unit cannot reach. ``doubt_median_low`` /
    ``doubt_median_high`` bound a median, in the own unit, of a stay's values given without a unit
    that is possible value by value but looks like this unit (a glucose of 12.5 mg/dL) (NaN: never).
    """

    name: str
    unit: str
    factor: float
    offset: float
    unitless_low: float
    unitless_high: float
    doubt_median_low: float
    doubt_median_high: float

    def apply(self, value: float) -> float:
        """``value`` in the variable's own unit."""
        return value * self.factor + self.offset

    @property
    def is_alias(self) -> bool:
        """Another spelling of the own unit (mEq/L for mmol/L of sodium): nothing to convert or note."""
        return self.factor == 1.0 and self.offset == 0.0


def spelling(unit: str) -> str:
    """A unit as compared: case, spaces, brackets and the degree sign ignored (and the two signs keyboards
    type for it: º, the ordinal of Spanish and Italian keyboards, and ˚), µ and "micro" written u."""
    return re.sub(r"[\s\[\]{}°º˚]", "", unit).replace("µ", "u").replace("μ", "u").lower().replace("micro", "u")


@lru_cache(maxsize=1)
def conversions() -> dict[tuple[str, str], Conversion]:
    """Every known (variable, unit spelling) → :class:`Conversion`."""
    table = {}
    with open(HERE / "units.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            bounds = [float(row[k]) if row[k] else float("nan")
                      for k in ("unitless_low", "unitless_high", "doubt_median_low", "doubt_median_high")]
            conversion = Conversion(row["name"], row["unit"], float(row["factor"]), float(row["offset"]), *bounds)
            table.update({(row["name"], spelling(text)): conversion for text in row["spellings"].split("|")})
    return table


def other_units(name: str) -> list[str]:
    """The units besides its own that ``name`` may be given in, for messages."""
    return sorted({c.unit for (variable, _), c in conversions().items() if variable == name and not c.is_alias})


def to_own_unit(name: str, value: float, unit: str) -> tuple[float, str] | None:
    """``value`` of variable (or descriptor) ``name`` given in ``unit``, in the variable's own unit.

    Returns
    -------
    (float, str) or None
        The value in the own unit and the unit it was read in (``""`` when no conversion was made),
        or None when ``unit`` is neither the own unit nor one ``units.csv`` knows for ``name``.
    """
    given = spelling(unit)
    if not given:
        for conversion in {c for (variable, _), c in conversions().items() if variable == name}:
            if conversion.unitless_low <= value <= conversion.unitless_high:
                return conversion.apply(value), f"{conversion.unit} (no unit given)"
        return value, ""
    own = table_row(name)
    if given in {spelling(text) for text in (own.unit, own.ucum) if text}:
        return value, ""
    conversion = conversions().get((name, given))
    if conversion is None:
        return None
    return conversion.apply(value), "" if conversion.is_alias else conversion.unit


def label_of(name: str) -> str:
    """The variable's name as the page's charts and tables show it ("Temperature" for ``Temp``)."""
    return table_row(name).label


def conversion_note(name: str, unit: str, count: int) -> str:
    """One reading note for ``count`` values of ``name`` read in ``unit`` and converted."""
    own = table_row(name).unit
    return f"{label_of(name)}: {count} value{'s' * (count > 1)} read in {unit}, converted to {own}"


def unit_doubt(name: str, unitless_values: list[float]) -> str | None:
    """A warning when the median of a stay's values of ``name`` given without a unit (read in the own
    unit) looks like another unit; None when it does not, or no value came without a unit."""
    if not unitless_values:
        return None
    median = float(np.median(unitless_values))
    own = table_row(name).unit
    for conversion in {c for (variable, _), c in conversions().items() if variable == name}:
        if conversion.doubt_median_low <= median <= conversion.doubt_median_high:
            return (f"{label_of(name)} was given without a unit and its median, {median:g} {own}, looks like "
                    f"{conversion.unit}: give the unit column to be sure")
    return None


def set_aside_values(set_aside: Sequence[str]) -> dict[str, list[float]]:
    """Variable → its implausible values, from ``Stay.out_of_range`` lines (``"Temp 98.6 °C at 2 h"``)."""
    values: dict[str, list[float]] = {}
    for entry in set_aside:
        name, value = entry.split()[:2]
        values.setdefault(name, []).append(float(value))
    return values


def mislabelled_units(set_aside: Sequence[str]) -> list[str]:
    """Warnings for variables whose implausible values (``Stay.out_of_range`` lines) all lie where
    another unit is read when none is given: a unit column that names the wrong unit (°F labelled
    °C). The values stay set aside; the warning says how to get them read."""
    warnings = []
    for name, found in set_aside_values(set_aside).items():
        for conversion in {c for (variable, _), c in conversions().items() if variable == name}:
            if all(conversion.unitless_low <= value <= conversion.unitless_high for value in found):
                warnings.append(f"{label_of(name)}: the {len(found)} value{'s' * (len(found) > 1)} set aside as "
                                f"implausible in {table_row(name).unit} look like {conversion.unit}: check the unit "
                                "column")
                break
    return warnings
