"""The shipped classifier on real images: shapes, calibration outputs, decisions, refusals."""

import numpy as np
import pytest

from medai import registry
from medai.imaging.io import read_image
from tests.conftest import png_bytes


@pytest.fixture(scope="module")
def model():
    return registry.load("cxr-pneumonia")


def _read(samples, name):
    return read_image((samples / name).read_bytes())


def test_sample_xrays_are_classified_correctly(model, samples):
    names = {"cxr_normal_NORMAL2-IM-1427-0001.jpeg": "normal",
             "cxr_normal_NORMAL2-IM-1436-0001.jpeg": "normal",
             "cxr_pneumonia_person1946_bacteria_4874.jpeg": "pneumonia",
             "cxr_pneumonia_person1950_bacteria_4881.jpeg": "pneumonia"}
    diagnoses = model.predict([_read(samples, name) for name in names])
    assert [d.label for d in diagnoses] == list(names.values())
    for diagnosis in diagnoses:
        assert diagnosis.status == "ok"
        assert diagnosis.probabilities.shape == (2,)
        assert diagnosis.probabilities.sum() == pytest.approx(1.0)
        assert 0.0 <= diagnosis.uncertainty <= 0.5
        assert diagnosis.heatmap is None


def test_decision_follows_the_threshold(model, samples):
    diagnosis = model.predict([_read(samples, "cxr_pneumonia_person1946_bacteria_4874.jpeg")])[0]
    assert (diagnosis.positive_probability >= diagnosis.threshold) == (diagnosis.label == "pneumonia")


def test_batch_and_single_agree(model, samples):
    image = _read(samples, "cxr_normal_NORMAL2-IM-1436-0001.jpeg")
    alone = model.predict([image])[0].positive_probability
    in_batch = model.predict([image, _read(samples, "cxr_pneumonia_person1950_bacteria_4881.jpeg")])[0]
    assert in_batch.positive_probability == pytest.approx(alone, abs=1e-5)


def test_explain_gives_a_normalised_heatmap(model, samples):
    diagnosis = model.predict([_read(samples, "cxr_pneumonia_person1950_bacteria_4881.jpeg")], explain=True)[0]
    assert diagnosis.heatmap.shape == (8, 8)
    assert diagnosis.heatmap.min() >= 0.0 and diagnosis.heatmap.max() == pytest.approx(1.0)


@pytest.mark.parametrize("pixels", [
    np.random.default_rng(0).integers(0, 256, (400, 400), dtype=np.uint8),  # noise
    np.full((400, 400), 120, np.uint8),  # blank
])
def test_non_xrays_are_refused(model, samples, pixels):
    refused = model.predict([read_image(png_bytes(pixels)), _read(samples, "not_xray_retina_CHASE_Image_01L.jpg")])
    for diagnosis in refused:
        assert diagnosis.status == "refused" and diagnosis.probabilities is None and diagnosis.label is None
        assert diagnosis.message
