"""``icu-vitals-forecast``: the next 1–6 h of HR, RespRate, Temp and systolic, diastolic and mean blood
pressure (invasive or non-invasive, whichever the patient has).

One pooled model per quantile (10 %, 50 %, 90 %; scikit-learn boosted trees with the quantile loss)
predicts the change from the last observed value in units of the variable's population SD, from
features of the history up to the forecast origin (the latest timestamp of the stay); a conformal
margin fitted on validation widens (or narrows) the 10–90 % band so that it covers about 80 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import joblib
import numpy as np

from medai.registry import ModelSpec
from medai.threads import single_threaded
from medai.timeline.io import Stay
from medai.timeline.vocabulary import set_aside_values, variable_names, variables

# A variable's position is its code in the trees: new ones join at the end.
FORECAST_VARIABLES = ("HR", "RespRate", "Temp", "SysABP", "NISysABP", "MAP", "NIMAP", "DiasABP", "NIDiasABP")
# Those forecast before 1.2.0: the card's ratio over these alone stays comparable across versions.
CORE_VARIABLES = FORECAST_VARIABLES[:7]
CONTEXT = ("HR", "RespRate", "Temp", "MAP", "NIMAP", "SysABP", "NISysABP", "GCS", "FiO2", "MechVent", "SaO2", "Urine")
HORIZONS = tuple(range(1, 7))
QUANTILES = (0.1, 0.5, 0.9)
MAX_HORIZON = 6
TREES_FILE = "quantile_trees.joblib"
MAX_STALE_H = 24.0  # a variable last seen longer ago than this is not forecast


def feature_names() -> list[str]:
    """Columns of one forecast example, shape (G,)."""
    return (["variable", "hours_ahead", "origin_h", "last", "since_last", "d_mean3", "d_mean6", "d_min6", "d_max6",
             "slope6", "d_mean_all", "sd_all", "count6", "count_all", "d_previous", "since_previous", "d_mean12",
             "slope12"]
            + [f"ctx_{name}" for name in CONTEXT] + ["age", "icu_type"])


def _latest(times: np.ndarray, values: np.ndarray, origin: float) -> float:
    index = np.searchsorted(times, origin, side="right") - 1
    return float(values[index]) if index >= 0 else np.nan


def _slope(times: np.ndarray, values: np.ndarray) -> float:
    """Least-squares slope (unit per hour), NaN with fewer than two distinct times."""
    return float(np.polyfit(times, values, 1)[0]) if len(values) >= 2 and np.ptp(times) > 0 else np.nan


def variable_history(stay: Stay, origin: float) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Variable index → (times, values) observed at or before ``origin``."""
    keep = stay.time <= origin
    time, var, value = stay.time[keep], stay.variable[keep], stay.value[keep]
    return {int(v): (time[var == v], value[var == v]) for v in np.unique(var)}


def examples(stay: Stay, origin: float, sd: dict[str, float], horizons=HORIZONS) -> tuple[np.ndarray, list[str]]:
    """Feature rows for each forecastable variable × horizon at ``origin``: (rows, G) and each row's variable."""
    names = variable_names()
    history = variable_history(stay, origin)
    context = [_latest(*history[names.index(c)], origin) if names.index(c) in history else np.nan for c in CONTEXT]
    tail = [stay.descriptors.get("Age", np.nan), stay.descriptors.get("ICUType", np.nan)]
    rows, which = [], []
    for code, name in enumerate(FORECAST_VARIABLES):
        index = names.index(name)
        if index not in history:
            continue
        times, values = history[index]
        last, since = values[-1], origin - times[-1]
        if since > MAX_STALE_H:
            continue
        scale = sd[name]
        recent3, recent6 = values[times > origin - 3], values[times > origin - 6]
        t6 = times[times > origin - 6]
        recent12, t12 = values[times > origin - 12], times[times > origin - 12]
        base = [code, 0, origin, last, since,
                (recent3.mean() - last) / scale if len(recent3) else np.nan,
                (recent6.mean() - last) / scale if len(recent6) else np.nan,
                (recent6.min() - last) / scale if len(recent6) else np.nan,
                (recent6.max() - last) / scale if len(recent6) else np.nan,
                _slope(t6 - origin, recent6) / scale, (values.mean() - last) / scale, values.std() / scale,
                len(recent6), len(values),
                (values[-2] - last) / scale if len(values) >= 2 else np.nan,
                times[-1] - times[-2] if len(values) >= 2 else np.nan,
                (recent12.mean() - last) / scale if len(recent12) else np.nan,
                _slope(t12 - origin, recent12) / scale]
        for h in horizons:
            row = list(base)
            row[1] = h
            rows.append(row + context + tail)
            which.append(name)
    shape = (len(rows), len(feature_names()))
    return (np.array(rows, dtype=np.float32) if rows else np.zeros(shape, np.float32)), which


def input_ages(stay: Stay) -> dict[str, float]:
    """Hours from each forecast variable's last observation to the forecast start (the stay's last
    timestamp), for the variables the stay has; above ``MAX_STALE_H`` a variable is not forecast."""
    observed = set(stay.observed())
    return {name: stay.hours - float(stay.series(name)[0][-1]) for name in FORECAST_VARIABLES if name in observed}


def not_forecast(stay: Stay) -> list[str]:
    """Why a forecast variable the stay recorded gets no forecast, one phrase each: its last observation is
    over ``MAX_STALE_H`` old, or every value of it was set aside as implausible (so no row is dropped unsaid)."""
    reasons = [f"{variables()[name].label} (last observed {age:.0f} h before)"
               for name, age in input_ages(stay).items() if age > MAX_STALE_H]
    observed = set(stay.observed())
    reasons += [f"{variables()[name].label} (every value implausible and set aside)"
                for name in set_aside_values(stay.out_of_range) if name in FORECAST_VARIABLES and name not in observed]
    return reasons


@dataclass(frozen=True)
class Forecast:
    """One forecast point: ``variable`` at ``origin + hours_ahead`` h, quantiles in the variable's unit."""

    variable: str
    hours_ahead: int
    time: float
    p10: float
    p50: float
    p90: float

    @property
    def unit(self) -> str:
        return variables()[self.variable].unit


@dataclass
class ForecastModel:
    """Quantile trees + per-variable SD + conformal margin (in SD units)."""

    name: str
    version: str
    trees: dict[float, object]
    sd: dict[str, float]
    margin: float

    @single_threaded
    def predict_rows(self, rows: np.ndarray, which: list[str]) -> np.ndarray:
        """(n, 3) p10/p50/p90 in the variable's unit for rows from :func:`examples`."""
        if not len(rows):
            return np.zeros((0, 3))
        scale = np.array([self.sd[name] for name in which])
        delta = np.stack([self.trees[q].predict(rows) for q in QUANTILES], axis=1)
        delta = np.sort(delta, axis=1)  # no crossing quantiles
        delta[:, 0] -= self.margin
        delta[:, 2] += self.margin
        delta[:, 1] = np.clip(delta[:, 1], delta[:, 0], delta[:, 2])
        return rows[:, [3]] + delta * scale[:, None]

    def forecast(self, stay: Stay, horizon: int = MAX_HORIZON) -> list[Forecast]:
        """Forecasts from the stay's latest timestamp for hours 1..``horizon`` of every forecastable variable."""
        return self.forecast_many([stay], horizon)[0]

    def forecast_many(self, stays: list[Stay], horizon: int = MAX_HORIZON) -> list[list[Forecast]]:
        """:meth:`forecast` of several stays with one pass of the trees (much faster in batches)."""
        built = [examples(stay, stay.hours, self.sd, range(1, horizon + 1)) for stay in stays]
        sizes = [len(rows) for rows, _ in built]
        if not sum(sizes):
            return [[] for _ in stays]
        quantiles = self.predict_rows(np.concatenate([rows for rows, _ in built]), [w for _, which in built for w in which])
        table, out, start = variables(), [], 0
        for stay, (rows, which), size in zip(stays, built, sizes):
            points = []
            for row, name, (p10, p50, p90) in zip(rows, which, quantiles[start:start + size]):
                low, high = table[name].low, table[name].high
                points.append(Forecast(name, int(row[1]), round(stay.hours + float(row[1]), 4),
                                       float(np.clip(p10, low, high)), float(np.clip(p50, low, high)),
                                       float(np.clip(p90, low, high))))
            out.append(points)
            start += size
        return out


def load(spec: ModelSpec) -> ForecastModel:
    """Build the model from a registry spec (files already verified)."""
    trees = joblib.load(spec.path(TREES_FILE))
    parameters = spec.parameters
    return ForecastModel(spec.name, spec.version, {float(q): trees[str(q)] for q in QUANTILES},
                         {k: float(v) for k, v in parameters["sd"].items()}, float(parameters["margin"]))


__all__ = ["Forecast", "ForecastModel", "examples", "feature_names", "load"]
