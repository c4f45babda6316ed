"""Per-stay summary features, computed on the history available up to a cut-off time.

For each of the 37 variables (``variables.csv`` order): last, first, min, max, mean, count and hours
since the last observation (NaN when never observed); then the five descriptors (age in years,
gender 0/1, height cm, ICU type 1–4, weight kg), the cut-off (h) and the number of variables
observed. Missing stays missing (NaN): the trees route it, the network sees a 0 plus a mask.
"""

from __future__ import annotations

import numpy as np

from medai.timeline.io import Stay
from medai.timeline.vocabulary import descriptors, variable_names

STATS = ("last", "first", "min", "max", "mean", "count", "since_last")


def feature_names() -> list[str]:
    """Column names, shape (F,) = 37 × 7 + 5 + 2 = 266."""
    return ([f"{v}_{s}" for v in variable_names() for s in STATS] + [f"desc_{d}" for d in descriptors()]
            + ["hours_observed", "variables_observed"])


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
    return np.concatenate([table.ravel(), desc, [cutoff, observed]]).astype(np.float32)


def feature_matrix(stays: list[Stay], cutoffs: list[float | None] | None = None) -> np.ndarray:
    """Stacked :func:`summary_features`, shape (n, F)."""
    cutoffs = cutoffs if cutoffs is not None else [None] * len(stays)
    return np.stack([summary_features(s, c) for s, c in zip(stays, cutoffs)]) if stays else \
        np.zeros((0, len(feature_names())), np.float32)
