"""Per-stay summary features, computed on the history available up to a cut-off time.

For each of the 37 variables (``variables.csv`` order): last, first, min, max, mean, count and hours
since the last observation (NaN when never observed); then the five descriptors (age in years,
gender 0/1, height cm, ICU type 1–4, weight kg), the cut-off (h) and the number of variables
observed. Added in icu-mortality 1.3.0, at the end (models read columns by name or all of them):
nine bedside quantities the summaries cannot form (urine output totals, worst PaO2/FiO2, shock
index, lowest MAP from either cuff or line, BUN/creatinine) and, per variable, its spread and direction (SD,
median, second-half minus first-half mean, least-squares slope per hour). Missing stays missing
(NaN): the trees route it, the network sees a 0 plus a mask.
"""

from __future__ import annotations

import numpy as np

from medai.timeline.io import Stay
from medai.timeline.vocabulary import descriptors, variable_names

STATS = ("last", "first", "min", "max", "mean", "count", "since_last")
BEDSIDE = ("urine_total", "urine_last_24h", "urine_ml_per_kg_h", "pf_ratio_min", "shock_index_max",
           "shock_index_mean", "map_min_any", "map_below_65_share", "bun_creatinine_last")
TRENDS = ("sd", "median", "late_minus_early", "slope_per_h")
HYPOTENSION_MMHG = 65.0


def feature_names() -> list[str]:
    """Column names, shape (F,) = 37 × 7 + 5 + 2 + 9 + 37 × 4 = 423."""
    return ([f"{v}_{s}" for v in variable_names() for s in STATS] + [f"desc_{d}" for d in descriptors()]
            + ["hours_observed", "variables_observed"] + list(BEDSIDE)
            + [f"{v}_{s}" for v in variable_names() for s in TRENDS])


def summary_features(stay: Stay, cutoff: float | None = None) -> np.ndarray:
    """Features of ``stay`` using observations at times ≤ ``cutoff`` (default: all).

    Returns
    -------
    ndarray of float32, shape (F,)
        See :func:`feature_names`; ``cutoff`` defaults to the last observation (at least 1 h).
    """
    n_var = len(variable_names())
    if cutoff is None:
        cutoff = max(stay.hours, 1.0)
    keep = stay.time <= cutoff
    time, var, value = stay.time[keep], stay.variable[keep].astype(np.int64), stay.value[keep]
    table = np.full((n_var, len(STATS)), np.nan)
    if len(var):
        order = np.lexsort((time, var))
        time, var, value = time[order], var[order], value[order]
        starts = np.flatnonzero(np.r_[True, var[1:] != var[:-1]])
        ends = np.r_[starts[1:], len(var)] - 1
        ids = var[starts]
        counts = ends - starts + 1
        table[ids, 0] = value[ends]
        table[ids, 1] = value[starts]
        table[ids, 2] = np.minimum.reduceat(value, starts)
        table[ids, 3] = np.maximum.reduceat(value, starts)
        table[ids, 4] = np.add.reduceat(value, starts) / counts
        table[ids, 5] = counts
        table[ids, 6] = cutoff - time[ends]
        observed = len(ids)
    else:
        observed = 0
    table[np.isnan(table[:, 5]), 5] = 0.0
    desc = [stay.descriptors.get(name, np.nan) for name in descriptors()]
    return np.concatenate([table.ravel(), desc, [cutoff, observed],
                           _bedside(time, var, value, cutoff, stay.descriptors.get("Weight", np.nan)),
                           _trends(time, var, value, cutoff, n_var).ravel()]).astype(np.float32)


def _readings(time: np.ndarray, var: np.ndarray, value: np.ndarray, *names: str) -> tuple[np.ndarray, np.ndarray]:
    """(times, values) of the named variables together, in time order."""
    index = variable_names()
    keep = np.isin(var, [index.index(name) for name in names])
    order = np.argsort(time[keep], kind="stable")
    return time[keep][order], value[keep][order]


def _latest_ratio(numerator: tuple[np.ndarray, np.ndarray], denominator: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Each numerator reading over the latest denominator reading at or before it (none before: left out)."""
    (n_time, n_value), (d_time, d_value) = numerator, denominator
    latest = np.searchsorted(d_time, n_time, side="right") - 1
    usable = latest >= 0
    below = d_value[latest[usable]]
    return n_value[usable][below > 0] / below[below > 0]


def _bedside(time: np.ndarray, var: np.ndarray, value: np.ndarray, cutoff: float, weight_kg: float) -> list[float]:
    """:data:`BEDSIDE`: urine mL in all and in the last 24 h, mL/kg/h, min PaO2/FiO2 (mmHg), HR/systolic
    BP max and mean, lowest MAP (mmHg) and share of MAP readings < 65 mmHg, last BUN/creatinine."""
    urine_time, urine = _readings(time, var, value, "Urine")
    total = urine.sum() if len(urine) else np.nan
    per_kg_h = total / weight_kg / max(cutoff, 1.0) if len(urine) and weight_kg > 0 else np.nan
    pf = _latest_ratio(_readings(time, var, value, "PaO2"), _readings(time, var, value, "FiO2"))
    shock = _latest_ratio(_readings(time, var, value, "HR"), _readings(time, var, value, "SysABP", "NISysABP"))
    _, pressure = _readings(time, var, value, "MAP", "NIMAP")
    bun_creatinine = _latest_ratio(_readings(time, var, value, "BUN"), _readings(time, var, value, "Creatinine"))
    return [total, urine[urine_time > cutoff - 24.0].sum() if len(urine) else np.nan, per_kg_h,
            pf.min() if len(pf) else np.nan, shock.max() if len(shock) else np.nan,
            shock.mean() if len(shock) else np.nan, pressure.min() if len(pressure) else np.nan,
            (pressure < HYPOTENSION_MMHG).mean() if len(pressure) else np.nan,
            bun_creatinine[-1] if len(bun_creatinine) else np.nan]


def _trends(time: np.ndarray, var: np.ndarray, value: np.ndarray, cutoff: float, n_var: int) -> np.ndarray:
    """:data:`TRENDS` per variable, shape (n_var, 4): SD, median, mean after minus mean before half the
    cut-off, least-squares slope (unit/h); NaN where a variable has too few readings for one."""
    table = np.full((n_var, len(TRENDS)), np.nan)

    def sums(weights: np.ndarray | None, keep: np.ndarray | slice = slice(None)) -> np.ndarray:
        return np.bincount(var[keep], weights=None if weights is None else weights[keep], minlength=n_var)

    count = sums(None).astype(np.float64)
    seen = count > 0
    if not seen.any():
        return table
    mean_v, mean_t = sums(value)[seen] / count[seen], sums(time)[seen] / count[seen]
    variance_v = np.maximum(sums(value * value)[seen] / count[seen] - mean_v ** 2, 0.0)
    variance_t = sums(time * time)[seen] / count[seen] - mean_t ** 2
    covariance = sums(time * value)[seen] / count[seen] - mean_t * mean_v
    table[seen, 0] = np.sqrt(variance_v)
    table[seen, 1] = [np.median(value[var == k]) for k in np.flatnonzero(seen)]
    early, late = time <= cutoff / 2, time > cutoff / 2
    early_n, late_n = sums(None, early), sums(None, late)
    both = (early_n > 0) & (late_n > 0)
    table[both, 2] = sums(value, late)[both] / late_n[both] - sums(value, early)[both] / early_n[both]
    flat = variance_t <= 1e-6  # every reading at one time (h²): no direction to measure
    table[seen, 3] = np.where(flat, 0.0, covariance / np.where(flat, 1.0, variance_t))
    table[count == 1, 3] = np.nan
    return table


def feature_matrix(stays: list[Stay], cutoffs: list[float | None] | None = None) -> np.ndarray:
    """Stacked :func:`summary_features`, shape (n, F)."""
    cutoffs = cutoffs if cutoffs is not None else [None] * len(stays)
    return np.stack([summary_features(s, c) for s, c in zip(stays, cutoffs)]) if stays else \
        np.zeros((0, len(feature_names())), np.float32)
