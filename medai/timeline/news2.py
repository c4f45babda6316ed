"""NEWS2 (Royal College of Physicians, 2017) computed from ICU time series, hour by hour.

How each NEWS2 parameter is read from the PhysioNet 2012 variables (the data have no SpO2, no AVPU):

==================  =========================================================================
NEWS2 parameter     taken from
==================  =========================================================================
respiration rate    ``RespRate`` (breaths/min)
SpO2 (scale 1)      ``SaO2`` (%), arterial saturation standing in for pulse oximetry
air or oxygen       oxygen when the latest ``FiO2`` > 0.21 or the latest ``MechVent`` is 1
systolic BP         the latest of ``SysABP`` (invasive) and ``NISysABP`` (non-invasive), mmHg
pulse               ``HR`` (bpm)
consciousness       new confusion / not alert when the latest ``GCS`` < 15
temperature         ``Temp`` (°C)
==================  =========================================================================

At each time the latest observation of each input (no older than :data:`MAX_AGE_H`) is scored; a
parameter never observed scores 0 (as if normal) and is counted in ``missing``. Scale 2 (target
SpO2 88–92 % in hypercapnic respiratory failure) is not used: the data do not say who it applies to.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medai.timeline.io import Stay
from medai.timeline.vocabulary import variable_names

MAX_AGE_H = 24.0
PARAMETERS = ("respiration_rate", "spo2", "oxygen", "systolic_bp", "pulse", "consciousness", "temperature")
PARAMETER_LABELS = ("respiration rate", "SpO2 (from SaO2)", "air or oxygen (FiO2, ventilation)", "systolic BP",
                    "pulse", "consciousness (GCS)", "temperature")
MEDIUM, HIGH = 5, 7  # aggregate thresholds: urgent response / emergency response (a single 3: urgent ward review)

# (upper bound inclusive, points) bands of the RCP 2017 chart; values above the last bound score `top`.
_BANDS: dict[str, tuple[tuple[tuple[float, int], ...], int]] = {
    "respiration_rate": (((8, 3), (11, 1), (20, 0), (24, 2)), 3),
    "spo2": (((91, 3), (93, 2), (95, 1)), 0),
    "systolic_bp": (((90, 3), (100, 2), (110, 1), (219, 0)), 3),
    "pulse": (((40, 3), (50, 1), (90, 0), (110, 1), (130, 2)), 3),
    "temperature": (((35.0, 3), (36.0, 1), (38.0, 0), (39.0, 1)), 2),
}


def band_score(parameter: str, values: np.ndarray) -> np.ndarray:
    """Points of one banded parameter, shape of ``values``; NaN values score 0.

    Bounds follow the chart as printed (integers for RR, SpO2, SBP, pulse; one decimal for °C): a value
    between two printed bands (e.g. 35.05 °C) falls into the lower band's upper bound test ``<=``.
    """
    values = np.asarray(values, dtype=float)
    bands, top = _BANDS[parameter]
    points = np.full(values.shape, top, dtype=np.int8)
    for bound, score in reversed(bands):
        points[values <= bound] = score
    points[~np.isfinite(values)] = 0
    return points


@dataclass(frozen=True)
class News2Series:
    """NEWS2 at a series of times.

    Attributes
    ----------
    hours : ndarray, shape (t,)
        Times (h since admission).
    total : ndarray of int, shape (t,)
        Aggregate score 0–20.
    components : ndarray of int, shape (t, 7)
        Points per :data:`PARAMETERS`.
    absent : ndarray of bool, shape (t, 7)
        Parameters with no observation in the last 24 h (scored 0, as if normal).
    """

    hours: np.ndarray
    total: np.ndarray
    components: np.ndarray
    absent: np.ndarray

    @property
    def missing(self) -> np.ndarray:
        """How many parameters had no observation at each time, shape (t,)."""
        return self.absent.sum(axis=1)

    def unrecorded_now(self) -> list[str]:
        """Labels of the parameters the last score had no observation for (they scored 0)."""
        if not len(self.absent):
            return list(PARAMETER_LABELS)
        return [label for label, absent in zip(PARAMETER_LABELS, self.absent[-1]) if absent]

    def single_three_now(self) -> bool:
        """Whether one parameter of the last score scored 3 (the RCP's red score)."""
        return bool(len(self.components) and self.components[-1].max() >= 3)

    @property
    def maximum(self) -> int:
        return int(self.total.max()) if len(self.total) else 0

    @property
    def last(self) -> int:
        return int(self.total[-1]) if len(self.total) else 0


def _latest(stay: Stay, names: tuple[str, ...], hours: np.ndarray) -> np.ndarray:
    """Latest value of any of ``names`` at each of ``hours`` (NaN when none within MAX_AGE_H), shape (t,)."""
    codes = [variable_names().index(n) for n in names]
    chosen = np.isin(stay.variable, codes)
    times, values = stay.time[chosen], stay.value[chosen]
    index = np.searchsorted(times, hours, side="right") - 1
    out = np.where(index >= 0, values[np.clip(index, 0, None)] if len(values) else np.nan, np.nan)
    age = hours - np.where(index >= 0, times[np.clip(index, 0, None)] if len(times) else np.nan, np.nan)
    return np.where(age <= MAX_AGE_H, out, np.nan)


def news2(stay: Stay, hours: np.ndarray | None = None) -> News2Series:
    """NEWS2 of a stay at ``hours`` (default: every whole hour 1..⌈last observation⌉), see the module table."""
    if hours is None:
        hours = np.arange(1.0, max(1.0, np.ceil(stay.hours)) + 1.0)
    hours = np.asarray(hours, dtype=float)
    rr = _latest(stay, ("RespRate",), hours)
    spo2 = _latest(stay, ("SaO2",), hours)
    fio2, vent = _latest(stay, ("FiO2",), hours), _latest(stay, ("MechVent",), hours)
    sbp = _latest(stay, ("SysABP", "NISysABP"), hours)
    hr, gcs, temp = _latest(stay, ("HR",), hours), _latest(stay, ("GCS",), hours), _latest(stay, ("Temp",), hours)
    oxygen = np.where((np.nan_to_num(fio2, nan=0.21) > 0.21) | (np.nan_to_num(vent) >= 1), 2, 0)
    conscious = np.where(np.nan_to_num(gcs, nan=15) < 15, 3, 0)
    components = np.stack([band_score("respiration_rate", rr), band_score("spo2", spo2), oxygen,
                           band_score("systolic_bp", sbp), band_score("pulse", hr), conscious,
                           band_score("temperature", temp)], axis=1).astype(np.int8)
    absent = np.stack([np.isnan(rr), np.isnan(spo2), np.isnan(fio2) & np.isnan(vent), np.isnan(sbp), np.isnan(hr),
                       np.isnan(gcs), np.isnan(temp)], axis=1)
    return News2Series(hours, components.sum(axis=1).astype(int), components, absent)


def score(respiration_rate: float, spo2: float, oxygen: bool, systolic_bp: float, pulse: float,
          alert: bool, temperature: float) -> int:
    """NEWS2 of one set of observations (the chart read by hand; for tests and worked examples)."""
    banded = [band_score(p, np.array([v]))[0] for p, v in (("respiration_rate", respiration_rate), ("spo2", spo2),
                                                          ("systolic_bp", systolic_bp), ("pulse", pulse),
                                                          ("temperature", temperature))]
    return int(sum(banded) + 2 * bool(oxygen) + 3 * (not alert))
