"""Calibrator and evaluators on data whose answer is known."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from medai.calibration import (PlattCalibrator, bootstrap_interval, expected_calibration_error, prevalence_weights,
                               threshold_metrics, youden_threshold)


def _logistic_data(slope: float, intercept: float, n: int = 20000, seed: int = 0):
    generator = np.random.default_rng(seed)
    logits = generator.normal(0, 2, n)
    labels = (generator.random(n) < 1 / (1 + np.exp(-(slope * logits + intercept)))).astype(int)
    return logits, labels


def test_platt_recovers_the_true_mapping():
    logits, labels = _logistic_data(0.5, -1.0)
    calibrator = PlattCalibrator().fit(logits, labels)
    assert calibrator.slope_ == pytest.approx(0.5, abs=0.05)
    assert calibrator.intercept_ == pytest.approx(-1.0, abs=0.08)


def test_calibration_lowers_ece():
    logits, labels = _logistic_data(0.4, 0.8)
    raw = 1 / (1 + np.exp(-logits))
    calibrated = PlattCalibrator().fit(logits, labels).predict(logits)
    assert expected_calibration_error(calibrated, labels) < 0.02 < expected_calibration_error(raw, labels)


def test_youden_threshold_separates_clean_classes():
    probabilities = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.9])
    labels = np.array([0, 0, 0, 1, 1, 1])
    threshold = youden_threshold(probabilities, labels)
    assert 0.3 < threshold <= 0.6
    metrics = threshold_metrics(probabilities, labels, threshold)
    assert metrics["accuracy"] == metrics["sensitivity"] == metrics["specificity"] == 1.0


def test_threshold_metrics_counts():
    metrics = threshold_metrics(np.array([0.9, 0.9, 0.1, 0.1]), np.array([1, 0, 0, 1]), 0.5)
    assert metrics == {"accuracy": 0.5, "sensitivity": 0.5, "specificity": 0.5, "ppv": 0.5, "npv": 0.5}


def test_bootstrap_interval_brackets_the_estimate_and_groups_widen_it():
    logits, labels = _logistic_data(1.0, 0.0, n=400)
    estimate = roc_auc_score(labels, logits)
    low, high = bootstrap_interval(roc_auc_score, logits, labels, rounds=300)
    assert low < estimate < high
    groups = np.repeat(np.arange(40), 10)
    grouped_low, grouped_high = bootstrap_interval(roc_auc_score, logits, labels, groups, rounds=300)
    assert grouped_low < estimate < grouped_high


def test_calibration_for_another_prevalence_moves_probabilities_by_the_prior_odds():
    rng = np.random.default_rng(0)
    labels = (rng.uniform(size=4000) < 0.7).astype(int)
    logits = np.where(labels == 1, 1.0, -1.0) + rng.normal(0, 1.0, 4000)
    as_seen = PlattCalibrator().fit(logits, labels)
    balanced = PlattCalibrator().fit(logits, labels, prevalence=0.5)
    assert balanced.intercept_ == pytest.approx(as_seen.intercept_ - np.log(0.7 / 0.3), abs=0.1)
    assert balanced.slope_ == pytest.approx(as_seen.slope_, rel=0.05)
    weights = prevalence_weights(labels, 0.5)
    assert weights[labels == 1].sum() == pytest.approx(weights[labels == 0].sum())
    probabilities = balanced.predict(logits)
    assert expected_calibration_error(probabilities, labels, prevalence=0.5) < 0.03
    assert expected_calibration_error(probabilities, labels) > 0.05  # at the split's own 70 % it is off


def _mean_score(labels, values):
    return float(np.mean(values))


def test_the_bootstrap_interval_is_95_percent_wide():
    values = np.random.default_rng(1).normal(0, 1, 400)
    labels = np.tile([0, 1], 200)
    low, high = bootstrap_interval(_mean_score, values, labels, rounds=2000)
    assert (high - low) / 2 == pytest.approx(1.96 * values.std() / np.sqrt(400), rel=0.08)  # a 90 % one: 1.64


def test_resampling_whole_patients_widens_the_interval_as_their_images_are_alike():
    values = np.repeat(np.random.default_rng(2).normal(0, 1, 40), 10)  # 40 patients, 10 identical images each
    labels = np.tile([0, 1], 200)
    low, high = bootstrap_interval(_mean_score, values, labels, rounds=1000)
    grouped_low, grouped_high = bootstrap_interval(_mean_score, values, labels, np.repeat(np.arange(40), 10),
                                                   rounds=1000)
    assert grouped_high - grouped_low > 2 * (high - low)  # about sqrt(10) = 3.2 times


def test_prevalence_weights_give_the_positives_that_share():
    labels = np.array([1] * 30 + [0] * 70)
    weights = prevalence_weights(labels, 0.1)
    assert weights[labels == 1].sum() / weights.sum() == pytest.approx(0.1)
    assert weights.sum() == pytest.approx(len(labels))
