"""Refusal rules, the population statistics, the two detectors and the shipped refusal model."""

import numpy as np
import pytest

from medai import registry
from medai.imaging.io import MedicalImage, read_image
from medai.imaging.notes import OUT_OF_POPULATION_MESSAGE
from medai.imaging.ood import (MIN_READABLE_SIDE_PX, FeatureDistance, LinearDetector,
                               RefusalModel, XrayLikeness, modality_refusal, refusal_rule)


def _image(pixels, colour=0.0, modality=None):
    metadata = {} if modality is None else {"Modality": modality}
    return MedicalImage(pixels.astype(np.float32), "png" if modality is None else "dicom", "0" * 64, colour,
                        metadata=metadata)


def test_rules():
    rng = np.random.default_rng(0)
    assert refusal_rule(_image(rng.random((200, 200)))) is None
    assert "saved as grey-scale" in refusal_rule(_image(rng.random((200, 200)), colour=40.0))  # a tinted film too
    assert "blank" in refusal_rule(_image(np.full((200, 200), 0.5)))
    assert "3 times" in refusal_rule(_image(rng.random((200, 700))))


def test_the_colour_and_blank_rules_sit_at_their_limits():
    rng = np.random.default_rng(0)
    pixels = rng.random((200, 200))
    assert refusal_rule(_image(pixels, colour=12.5)) is not None  # colourfulness (Hasler–Süsstrunk) 12
    assert refusal_rule(_image(pixels, colour=11.5)) is None
    faint = 0.5 + 0.02 * rng.standard_normal((200, 200))  # nearly uniform (SD 0.02 < 0.03), not perfectly flat
    assert "blank" in refusal_rule(_image(faint))


def test_wide_chest_films_pass_the_aspect_rule():
    rng = np.random.default_rng(0)
    assert refusal_rule(_image(rng.random((400, 1040)))) is None  # 2.6:1
    assert refusal_rule(_image(rng.random((1000, 340)))) is None  # 1:2.94


@pytest.mark.parametrize("side", [32, 64, MIN_READABLE_SIDE_PX - 1])
def test_too_small_to_read_is_refused(side):
    reason = refusal_rule(_image(np.random.default_rng(0).random((side, 3 * side))))
    assert "too small" in reason and f"{3 * side}x{side}" in reason
    assert refusal_rule(_image(np.random.default_rng(0).random((MIN_READABLE_SIDE_PX, MIN_READABLE_SIDE_PX)))) is None


@pytest.mark.parametrize("modality, named", [("CT", "a CT image (Modality CT)"), ("MR", "an MR image (Modality MR)"),
                                             ("US", "ultrasound"), ("NM", "nuclear medicine"), ("PT", "PET"),
                                             ("XY", "(Modality XY)")])
def test_non_radiograph_modalities_are_refused_by_name(modality, named):
    reason = refusal_rule(_image(np.random.default_rng(0).random((300, 300)), modality=modality))
    assert named in reason and "chest radiographs (CR/DX)" in reason


@pytest.mark.parametrize("modality", ["CR", "DX", "dx ", ""])
def test_radiograph_modalities_pass(modality):
    assert modality_refusal(modality) is None
    assert refusal_rule(_image(np.random.default_rng(0).random((300, 300)), modality=modality)) is None


def test_likeness_round_trips_and_separates(tmp_path):
    rng = np.random.default_rng(0)
    axis = np.linspace(-1, 1, 64)
    blobs = [np.exp(-((axis[:, None] - rng.normal(0, 0.1)) ** 2 + axis[None, :] ** 2) / 0.3) for _ in range(200)]
    model = XrayLikeness(n_components=5, quantile=0.99).fit(blobs[:150]).set_limits(blobs[150:])
    model.save(tmp_path / "m.npz")
    loaded = XrayLikeness.load(tmp_path / "m.npz")
    assert loaded.t2_limit_ == model.t2_limit_ and np.allclose(loaded.components_, model.components_)
    assert loaded.is_typical(blobs[150:]).mean() >= 0.95  # two 99 % limits on 50 images
    assert not loaded.is_typical([rng.random((64, 64)) for _ in range(10)]).any()
    projection = loaded.project(blobs[:3])
    assert projection.shape == (3, 5 + 2) and np.allclose(projection[:, -2:], loaded.statistics(blobs[:3]))


def test_linear_detector_fits_limits_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    inputs = np.vstack([rng.normal(0, 1, (100, 4)), rng.normal(3, 1, (100, 4))])
    positive = np.r_[np.zeros(100), np.ones(100)].astype(bool)
    detector = LinearDetector().fit(inputs, positive, np.ones(200))
    assert (detector.log_odds(inputs) > 0).mean() == pytest.approx(0.5, abs=0.05)
    detector.limit_ = float(detector.log_odds(inputs[positive]).min())
    assert detector.is_positive(inputs[positive]).all()
    detector.save(tmp_path / "d.npz")
    loaded = LinearDetector.load(tmp_path / "d.npz")
    assert np.allclose(loaded.log_odds(inputs), detector.log_odds(inputs)) and loaded.limit_ == detector.limit_


def _two_question_model(features: np.ndarray, images: list[np.ndarray]) -> RefusalModel:
    """A refusal model whose detectors read one input column each, so a test can set the answers."""
    likeness = XrayLikeness(n_components=3, quantile=1.0).fit(images).set_limits(images)
    typicality = FeatureDistance(quantile=1.0).fit(features).set_limit(features)
    width = features.shape[1] + likeness.n_components + 3

    def reads_column(column: int, limit: float) -> LinearDetector:
        detector = LinearDetector(mean_=np.zeros(width), scale_=np.ones(width), coef_=np.eye(width)[column])
        detector.limit_ = limit
        return detector

    # feature 0 >= 0 means "a chest X-ray"; feature 1 >= 1.5 means "adult-like".
    return RefusalModel(likeness, typicality, reads_column(0, 0.0), reads_column(1, 1.5))


def test_two_limits_refuse_non_xrays_and_flag_unusual_xrays():
    rng = np.random.default_rng(0)
    axis = np.linspace(-1, 1, 64)
    images = [np.exp(-((axis[:, None] - rng.normal(0, 0.1)) ** 2 + axis[None, :] ** 2) / 0.3) for _ in range(60)]
    features = rng.normal(0, 1, (60, 5))
    features[:, 0] += 1.0
    model = _two_question_model(features, images)
    probe = np.array([[1.0, 0, 0, 0, 0],      # chest X-ray, child-like, typical
                      [1.0, 2.0, 0, 0, 0],    # chest X-ray, only the adult-like detector fires
                      [1.0, 0, 0, 0, 50.0],   # chest X-ray, only the feature-distance limit is exceeded
                      [-1.0, 0, 0, 0, 0]])    # not a chest X-ray
    assert model.typicality.is_typical(probe[:2]).all() and not model.typicality.is_typical(probe[2:3]).any()
    is_chest_xray, out_of_population = model.assess(images[:4], probe)
    assert is_chest_xray.tolist() == [True, True, True, False]
    assert out_of_population[:3].tolist() == [False, True, True]
    assert model.describe(images[:4], probe).shape == (4, 5 + 3 + 3)


def test_shipped_refusal_model_accepts_xrays_and_refuses_others(samples):
    spec = registry.get_spec("cxr-pneumonia")
    refusal = RefusalModel.load(spec.directory, spec.parameters["refusal"])
    xrays = [read_image(p.read_bytes()).pixels for p in sorted(samples.glob("cxr_*"))]
    assert refusal.likeness.is_typical(xrays).all()
    noise = [np.random.default_rng(i).random((256, 256)) for i in range(5)]
    assert not refusal.likeness.is_typical(noise).any()


def test_card_records_refusal_and_flag_rates():
    card = registry.card("cxr-pneumonia")
    metrics = card["metrics"]
    assert metrics["refusal_rate_out_of_distribution"]["noise and blank images"]["refused"] == pytest.approx(1.0)
    assert metrics["refusal_rate_validation_xrays"] < 0.01
    adults = metrics["chest_xrays_refused_or_flagged"]["adult chest X-rays, held-back patients (COVID-19 CXR)"]
    assert adults["refused"] < 0.1 and adults["flagged_out_of_population"] > 0.5
    assert OUT_OF_POPULATION_MESSAGE.startswith("Outside the validated population:")
    assert [h["name"] for h in card["headline"]][0] == "ROC-AUC"
    assert set(card["curves"]) == {"roc", "reliability"} and len(card["confusion"]["matrix"]) == 2
