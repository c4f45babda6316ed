"""Probability calibration and its evaluation (estimator-agnostic).

Split as in chemprop v2: a *calibrator* maps raw scores to probabilities (:class:`PlattCalibrator`,
scikit-learn's logistic regression on the logit), and *evaluators* measure how good they are
(:func:`expected_calibration_error`, :func:`bootstrap_interval`, :func:`threshold_metrics`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

# scikit-learn is imported where it is fitted or evaluated: predicting (every request) needs NumPy only,
# and its import adds a quarter of a second to a command's start.


@dataclass
class PlattCalibrator:
    """Platt scaling: ``p = sigmoid(slope_ * logit + intercept_)``, fitted on held-out scores.

    Attributes
    ----------
    slope_, intercept_ : float
        Fitted parameters (set by :meth:`fit`, or restored from a model's spec file).
    """

    slope_: float = 1.0
    intercept_: float = 0.0

    def fit(self, logits: np.ndarray, labels: np.ndarray, prevalence: float | None = None) -> "PlattCalibrator":
        """Fit on (N,) raw logits and (N,) 0/1 labels of a validation split.

        With ``prevalence``, the classes are weighted as if positives made up that share of the
        split, so the probabilities hold for a population with that prevalence instead of the split's.
        """
        from sklearn.linear_model import LogisticRegression

        regression = LogisticRegression(C=1e6, max_iter=1000).fit(
            logits.reshape(-1, 1), labels, sample_weight=prevalence_weights(labels, prevalence))
        self.slope_ = float(regression.coef_[0, 0])
        self.intercept_ = float(regression.intercept_[0])
        return self

    def predict(self, logits: np.ndarray) -> np.ndarray:
        """Calibrated probability of the positive class, same shape as ``logits``."""
        return 1.0 / (1.0 + np.exp(-(self.slope_ * np.asarray(logits, dtype=np.float64) + self.intercept_)))


def logit(p: np.ndarray, floor: float) -> np.ndarray:
    """log(p / (1 - p)) of probabilities, same shape, with ``p`` clipped to [floor, 1 - floor] first."""
    p = np.clip(p, floor, 1 - floor)
    return np.log(p / (1 - p))


def prevalence_weights(labels: np.ndarray, prevalence: float | None) -> np.ndarray:
    """(N,) weights that give positives a total share ``prevalence`` (all ones when it is None)."""
    labels = np.asarray(labels)
    if prevalence is None:
        return np.ones(len(labels))
    positives = max(int(np.sum(labels == 1)), 1)
    negatives = max(int(np.sum(labels == 0)), 1)
    return np.where(labels == 1, prevalence * len(labels) / positives, (1 - prevalence) * len(labels) / negatives)


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10,
                               prevalence: float | None = None) -> float:
    """ECE of (N,) positive-class probabilities against (N,) 0/1 labels, equal-width bins.

    With ``prevalence``, images are weighted as if positives made up that share (see
    :func:`prevalence_weights`), to measure calibration for such a population.
    """
    weights = prevalence_weights(labels, prevalence)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for index in range(bins):
        members = which == index
        if members.any():
            share = weights[members].sum() / weights.sum()
            gap = np.average(probabilities[members], weights=weights[members]) - np.average(
                labels[members], weights=weights[members])
            error += share * abs(gap)
    return float(error)


def youden_threshold(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Threshold maximising sensitivity + specificity - 1; independent of the class balance."""
    from sklearn.metrics import roc_curve

    false_positive_rate, true_positive_rate, thresholds = roc_curve(labels, probabilities)
    best = int(np.argmax(true_positive_rate - false_positive_rate))
    return float(np.clip(thresholds[best], 0.0, 1.0))


def threshold_metrics(probabilities: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    """Accuracy, sensitivity, specificity, PPV and NPV when predicting positive at ``>= threshold``."""
    predicted = probabilities >= threshold
    positive, negative = labels == 1, labels == 0
    true_positive = float(np.sum(predicted & positive))
    true_negative = float(np.sum(~predicted & negative))
    return {
        "accuracy": float(np.mean(predicted == positive)),
        "sensitivity": true_positive / max(positive.sum(), 1),
        "specificity": true_negative / max(negative.sum(), 1),
        "ppv": true_positive / max(predicted.sum(), 1),
        "npv": true_negative / max((~predicted).sum(), 1),
    }


def bootstrap_interval(
    metric: Callable[[np.ndarray, np.ndarray], float],
    probabilities: np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray | None = None,
    rounds: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """95 % percentile bootstrap interval of ``metric(labels, probabilities)``.

    When ``groups`` (N,) is given, whole groups (patients) are resampled, so images of one patient
    are not counted as independent evidence.
    """
    generator = np.random.default_rng(seed)
    keys = np.arange(len(labels)) if groups is None else groups
    unique, inverse = np.unique(keys, return_inverse=True)
    members = [np.flatnonzero(inverse == index) for index in range(len(unique))]
    values = []
    for _ in range(rounds):
        chosen = np.concatenate([members[i] for i in generator.integers(0, len(unique), len(unique))])
        if len(np.unique(labels[chosen])) == 2:
            values.append(metric(labels[chosen], probabilities[chosen]))
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)
