"""What the card says of a drug model: metrics with bootstrap intervals, calibration, and the
applicability-domain cut-off, all measured on the validation split."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import mean_absolute_error, roc_auc_score

from medai.drug.models import Calibration, _logit

BOOTSTRAP_ROUNDS = 1000
DOMAIN_ERROR_RATIO = 1.5


def rmse(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Root-mean-square error in the target's unit."""
    return float(np.sqrt(np.mean((truth - predicted) ** 2)))


def task_score(kind: str) -> Callable[[np.ndarray, np.ndarray], float]:
    """The headline score of a task kind: RMSE (regression) or ROC-AUC (classification)."""
    return rmse if kind == "regression" else roc_auc_score


def bootstrap_interval(truth: np.ndarray, predicted: np.ndarray, score: Callable, seed: int = 0) -> list[float]:
    """95 % percentile interval of ``score`` over row resamples (resamples with one class skipped)."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(BOOTSTRAP_ROUNDS):
        index = rng.integers(0, len(truth), len(truth))
        if score is roc_auc_score and len(np.unique(truth[index])) < 2:
            continue
        values.append(score(truth[index], predicted[index]))
    return [float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))]


def fit_platt(truth: np.ndarray, probability: np.ndarray) -> Calibration:
    """Platt scaling on the logit of ``probability`` (n,), labels ``truth`` (n,) in {0, 1}."""
    regression = LogisticRegression(C=1e4).fit(_logit(probability)[:, None], truth.astype(int))
    return Calibration(float(regression.coef_[0, 0]), float(regression.intercept_[0]), 1.0)


def cross_fitted_platt(truth: np.ndarray, probability: np.ndarray, seed: int = 0) -> np.ndarray:
    """Probabilities calibrated on the other half of the rows (two folds), so the ECE is honest."""
    rng = np.random.default_rng(seed)
    fold = rng.permutation(len(truth)) % 2
    calibrated = np.empty_like(probability)
    for k in (0, 1):
        fit_rows = fold != k
        if len(np.unique(truth[fit_rows])) < 2:
            calibrated[fold == k] = probability[fold == k]
            continue
        calibrated[fold == k] = fit_platt(truth[fit_rows], probability[fit_rows]).apply(probability[fold == k])
    return calibrated


def fit_std_scale(truth: np.ndarray, mean: np.ndarray, std: np.ndarray) -> float:
    """Scale s so that mean((y − μ)² / (s σ)²) = 1 on validation (σ floored at 1 % of its median)."""
    floor = max(float(np.median(std)) * 0.01, 1e-6)
    return float(np.sqrt(np.mean((truth - mean) ** 2 / np.maximum(std, floor) ** 2)))


def interval_coverage(truth: np.ndarray, mean: np.ndarray, std: np.ndarray) -> float:
    """Share of rows inside μ ± 1.96 σ (0.95 when σ is well calibrated and errors are Gaussian)."""
    return float(np.mean(np.abs(truth - mean) <= 1.96 * std))


def domain_cutoff(similarity: np.ndarray, error: np.ndarray, min_rows: int = 15) -> tuple[float, float]:
    """Choose the nearest-training similarity below which predictions are out of domain.

    Among cut-offs at the 5th–50th percentiles of validation similarity, take the one where the mean
    error of the molecules below it is largest relative to those above it; the rule only accepts a
    cut-off whose ratio reaches :data:`DOMAIN_ERROR_RATIO`, else the 5th percentile is used.

    Parameters
    ----------
    similarity : ndarray, shape (n,)
        Validation molecules' Tanimoto similarity to their nearest training molecule.
    error : ndarray, shape (n,)
        Their absolute error (regression) or Brier error (classification).

    Returns
    -------
    (cutoff, ratio) : (float, float)
    """
    best = (float(np.percentile(similarity, 5)), 1.0)
    for quantile in range(5, 55, 5):
        cutoff = float(np.percentile(similarity, quantile))
        below, above = error[similarity < cutoff], error[similarity >= cutoff]
        if len(below) < min_rows or len(above) < min_rows:
            continue
        ratio = float(below.mean() / max(above.mean(), 1e-9))
        if ratio >= DOMAIN_ERROR_RATIO and ratio > best[1]:
            best = (cutoff, ratio)
    return best


def domain_rule(ratio: float) -> str:
    """The card's words for how :func:`domain_cutoff` chose, given the ratio it returned."""
    rule = (f"5th-50th percentile of validation similarity where error below/above is largest and at least "
            f"{DOMAIN_ERROR_RATIO}x")
    if ratio >= DOMAIN_ERROR_RATIO:
        return rule
    return (f"{rule}; no cut-off reached {DOMAIN_ERROR_RATIO}x here (error does not grow with distance within "
            "the validation molecules), so the cut-off is their 5th percentile: a molecule farther from the "
            "training set than 95 % of validation molecules is where the model was never checked")


def notation_check(smiles: Sequence[str], labels: np.ndarray) -> dict[str, float]:
    """How well the way SMILES were *written* separates the classes, before any standardisation.

    A file assembled from several sources can write one class charged (protonated amines,
    carboxylates) or as salts and the other neutral; a model of the raw strings then learns the
    source. Ours reads standardised (neutralised, largest-fragment) molecules, so it cannot.

    Parameters
    ----------
    smiles : sequence of str, length n
        SMILES as written in the file.
    labels : ndarray, shape (n,)
        0 / 1, NaN where not measured.

    Returns
    -------
    dict
        Share of each class written charged or with a '.', and the in-sample ROC-AUC of a logistic
        rule on those two yes/no features (0.5: no artefact).
    """
    known = np.isfinite(labels)
    written = pd.Series(np.asarray(smiles, dtype=str)[known])
    features = np.stack([written.str.contains(r"\+|-\]").to_numpy(), written.str.contains(".", regex=False).to_numpy()],
                        axis=1).astype(float)
    y = labels[known].astype(int)
    score = LogisticRegression().fit(features, y).decision_function(features)
    result = {f"{name}_share_label_{c}": float(features[y == c, column].mean())
              for c in (0, 1) for column, name in enumerate(("charged", "salt"))}
    result["rule_roc_auc"] = float(roc_auc_score(y, score)) if np.ptp(score) > 0 else 0.5
    return result


def regression_metrics(truth: np.ndarray, mean: np.ndarray, std: np.ndarray) -> dict[str, float]:
    """RMSE, MAE, R² and 95 % interval coverage."""
    residual = truth - mean
    return {"rmse": rmse(truth, mean), "mae": float(mean_absolute_error(truth, mean)),
            "r2": float(1 - np.sum(residual ** 2) / np.sum((truth - truth.mean()) ** 2)),
            "coverage_95": interval_coverage(truth, mean, std)}
