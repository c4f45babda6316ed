"""A model reads the descriptors it was trained on, even after the descriptor block has grown."""

import numpy as np
import pytest

from medai.drug.featurize import MORGAN_BITS
from medai.drug.models import Calibration, FeatureScaler, PropertyModel


def test_scaler_reads_only_the_descriptors_it_was_fitted_on():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 4, size=(20, MORGAN_BITS)).astype(np.float32)
    older = np.concatenate([counts, rng.normal(size=(20, 5)).astype(np.float32)], axis=1)
    grown = np.concatenate([older, rng.normal(size=(20, 3)).astype(np.float32)], axis=1)
    scaler = FeatureScaler().fit(older)
    assert scaler.transform(grown).shape == (20, 1024 + 5)
    assert np.array_equal(scaler.transform(grown), scaler.transform(older))


class _ConstantMember:
    """A member that predicts one value (regression) or one positive-class probability (classification)."""

    def __init__(self, value: float):
        self.value = value

    def predict(self, features):
        return np.full(len(features), self.value)

    def predict_proba(self, features):
        return np.column_stack([np.full(len(features), 1 - self.value), np.full(len(features), self.value)])


def _constant_model(kind: str, member_values: list[float], calibration: Calibration) -> PropertyModel:
    return PropertyModel("x", "0", ["t"], kind, [], [[_ConstantMember(v)] for v in member_values], FeatureScaler(),
                         np.zeros(1), np.ones(1), [calibration], np.zeros((1, 256), np.uint8), 0.3)


def test_the_regression_sd_carries_the_scale_fitted_on_validation():
    prediction = _constant_model("regression", [1.0, 3.0], Calibration(std_scale=2.5)).predict(np.zeros((1, 4)))["t"]
    assert prediction.value[0] == pytest.approx(2.0) and prediction.std[0] == pytest.approx(2.5)  # members' SD 1.0


def test_the_classification_sd_is_that_of_the_calibrated_member_probabilities():
    calibration = Calibration(slope=2.0, intercept=0.5)
    prediction = _constant_model("classification", [0.2, 0.6], calibration).predict(np.zeros((1, 4)))["t"]
    assert prediction.std[0] == pytest.approx(np.std(calibration.apply(np.array([0.2, 0.6]))))
