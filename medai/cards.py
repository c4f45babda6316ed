"""Building blocks of a model card, shared by every training recipe.

A card (``card.json``) is data the app renders; these functions give every model the same sections:

``headline``    list of ``{"name", "value", "ci95", "split", "higher_is_better", "baseline"}`` — the few
                figures a reader needs first, with their 95 % intervals and the baseline beside them.
``confusion``   ``{"labels", "matrix", "threshold"}`` at the shipped threshold (rows = truth).
``curves``      ``{"roc": {"x", "y"}, "reliability": {"x", "y", "count"}, "parity": {"x", "y"}}``, any subset;
                the app draws each present curve as a chart.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

CURVE_POINTS = 60


def headline(name: str, value: float, ci95: Sequence[float] | None = None, *, split: str = "validation",
             higher_is_better: bool = True, baseline: dict[str, float] | None = None,
             digits: int = 4) -> dict[str, Any]:
    """One headline metric.

    Parameters
    ----------
    name : str
        Metric name as a person reads it (``"ROC-AUC"``, ``"RMSE (log mol/L)"``).
    value : float
        The measured value.
    ci95 : (low, high), optional
        Bootstrap 95 % interval.
    split : str
        Where it was measured.
    higher_is_better : bool
        Direction, for the renderer's arrows.
    baseline : dict, optional
        Baseline name → its value on the same rows.
    """
    return {"name": name, "value": round(float(value), digits),
            "ci95": [round(float(v), digits) for v in ci95] if ci95 is not None else None,
            "split": split, "higher_is_better": higher_is_better,
            "baseline": {key: round(float(v), digits) for key, v in (baseline or {}).items()}}


def confusion(truth: np.ndarray, predicted: np.ndarray, labels: Sequence[str], threshold: float) -> dict[str, Any]:
    """Confusion table at ``threshold``; ``truth``/``predicted`` are (n,) class indices."""
    from sklearn.metrics import confusion_matrix  # here: pages read cards without scikit-learn

    matrix = confusion_matrix(truth, predicted, labels=list(range(len(labels))))
    return {"labels": list(labels), "matrix": matrix.tolist(), "threshold": round(float(threshold), 6)}


def _thin(x: np.ndarray, y: np.ndarray, points: int = CURVE_POINTS) -> dict[str, list[float]]:
    keep = np.unique(np.linspace(0, len(x) - 1, min(points, len(x))).round().astype(int))
    return {"x": [round(float(v), 4) for v in x[keep]], "y": [round(float(v), 4) for v in y[keep]]}


def roc_points(truth: np.ndarray, probability: np.ndarray) -> dict[str, list[float]]:
    """ROC curve (x = false-positive rate, y = true-positive rate), thinned to about 60 points."""
    from sklearn.metrics import roc_curve

    fpr, tpr, _ = roc_curve(truth, probability)
    return _thin(fpr, tpr)


def reliability_points(truth: np.ndarray, probability: np.ndarray, bins: int = 10,
                       weights: np.ndarray | None = None) -> dict[str, list[float]]:
    """Reliability curve: mean predicted (x) vs observed frequency (y) in equal-width bins, with counts.

    ``weights`` (N,) reweight the images, e.g. to another prevalence (:func:`medai.calibration.prevalence_weights`).
    """
    weights = np.ones(len(truth)) if weights is None else np.asarray(weights, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(probability, edges[1:-1]), 0, bins - 1)
    x, y, count = [], [], []
    for b in range(bins):
        chosen = index == b
        if chosen.any():
            x.append(round(float(np.average(probability[chosen], weights=weights[chosen])), 4))
            y.append(round(float(np.average(truth[chosen], weights=weights[chosen])), 4))
            count.append(int(chosen.sum()))
    return {"x": x, "y": y, "count": count}


def outcomes_in_bin(probability: float, reliability: dict[str, list[float]], bins: int = 10) -> dict[str, Any] | None:
    """What happened to the validation cases scored in the same equal-width bin as ``probability``.

    ``reliability`` is a card's :func:`reliability_points` (unweighted). A calibrated model's risk is an
    average; this says how many cases like it there were and how often the outcome came, with a Wilson
    95 % interval, which is the uncertainty a clinician can check.

    Returns
    -------
    dict or None
        ``low``, ``high`` (the bin's edges), ``scored`` (the cases' mean score), ``observed`` (share with the
        outcome), ``cases`` and ``ci95``; None when no validation case fell in that bin.
    """
    chosen = min(int(probability * bins), bins - 1)
    for mean, observed, cases in zip(reliability["x"], reliability["y"], reliability["count"]):
        if min(int(mean * bins), bins - 1) == chosen:
            return {"low": chosen / bins, "high": (chosen + 1) / bins, "scored": mean, "observed": observed,
                    "cases": int(cases), "ci95": wilson(int(round(observed * cases)), int(cases))}
    return None


def wilson(count: int, total: int) -> tuple[float, float]:
    """Wilson 95 % interval of ``count`` of ``total`` (0–1)."""
    from scipy.stats import binomtest

    interval = binomtest(count, total).proportion_ci(method="wilson")
    return float(interval.low), float(interval.high)


def band_bias(evidence: dict[str, Any], outcome: str, shown: str = "risk") -> str:
    """A sentence when the mean score of a band (:func:`outcomes_in_bin`) lies outside the 95 % interval of
    how often ``outcome`` came to the validation cases in it, at the whole percent a reader sees ('' otherwise):
    the band, not the one case, is then miscalibrated. ``shown``: ``"risk"`` when the figure shown is the
    outcome's probability, ``"survival"`` when it is one minus it, so the sentence speaks of that figure."""
    low, high = (round(100 * bound) for bound in evidence["ci95"])
    scored = round(100 * evidence["scored"])
    if low <= scored <= high:
        return ""
    over = scored > high  # the outcome's probability was overestimated
    if shown == "survival":
        return (f" In this band the model {'under' if over else 'over'}estimated survival in validation: the "
                f"chance of being alive is likely {'higher' if over else 'lower'} than its figure.")
    return (f" In this band the model {'over' if over else 'under'}estimated the risk of {outcome} in validation: "
            f"read its figure as {'high' if over else 'low'}.")


def parity_points(truth: np.ndarray, predicted: np.ndarray, points: int = 300) -> dict[str, list[float]]:
    """Measured (x) vs predicted (y) for a regression model, an evenly spaced subsample of rows."""
    order = np.argsort(truth)
    return _thin(np.asarray(truth)[order], np.asarray(predicted)[order], points)


def rounded(value: Any, digits: int = 4) -> Any:
    """``value`` with every float in it (nested dicts and lists too) rounded to ``digits`` decimals."""
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {key: rounded(inner, digits) for key, inner in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(inner, digits) for inner in value]
    return value


def reproduction(card: dict[str, Any]) -> str:
    """One sentence for whoever hosts the model: the command that retrains it on the CPU, where it reads its
    data, and how long it took (when the card records it)."""
    recipe = card.get("recipe", {}) if isinstance(card.get("recipe"), dict) else {}
    minutes = recipe.get("training_minutes_on_2_cpu_cores")
    if minutes is None and recipe.get("training_seconds") is not None:
        minutes = recipe["training_seconds"] / 60
    took = ("" if minutes is None else "; it took under a minute on 2 CPU cores" if minutes < 1
            else f"; it took about {minutes:.0f} min on 2 CPU cores")
    return (f"Retrain on the CPU with `python -m medai train {card['name']}`: it reads the data named under Data from "
            f"MEDAI_DATA_DIR (default ../shared/data), re-measures its figures on the same validation data (the same "
            f"split, or the same folds) and rewrites this card{took}. The validation split comes from the same source "
            "as the training data; "
            "data from another hospital or population may do worse.")
