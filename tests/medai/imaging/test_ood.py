"""Refusal rules and the X-ray likeness model."""

import numpy as np
import pytest

from medai import registry
from medai.imaging.io import MedicalImage, read_image
from medai.imaging.ood import XrayLikeness, refusal_rule


def _image(pixels, colour=0.0):
    return MedicalImage(pixels.astype(np.float32), "png", "0" * 64, colour)


def test_rules():
    rng = np.random.default_rng(0)
    assert refusal_rule(_image(rng.random((100, 100)))) is None
    assert "colour" in refusal_rule(_image(rng.random((100, 100)), colour=40.0))
    assert "blank" in refusal_rule(_image(np.full((100, 100), 0.5)))
    assert "wide" in refusal_rule(_image(rng.random((100, 400))))


def test_likeness_round_trips_and_separates(tmp_path):
    rng = np.random.default_rng(0)
    axis = np.linspace(-1, 1, 64)
    blobs = [np.exp(-((axis[:, None] - rng.normal(0, 0.1)) ** 2 + axis[None, :] ** 2) / 0.3) for _ in range(200)]
    model = XrayLikeness(n_components=5, quantile=0.99).fit(blobs[:150]).set_limits(blobs[150:])
    model.save(tmp_path / "m.npz")
    loaded = XrayLikeness.load(tmp_path / "m.npz")
    assert loaded.t2_limit_ == model.t2_limit_ and np.allclose(loaded.components_, model.components_)
    assert loaded.is_xray(blobs[150:]).mean() >= 0.95  # two 99 % limits on 50 images
    assert not loaded.is_xray([rng.random((64, 64)) for _ in range(10)]).any()


def test_shipped_refusal_model_accepts_xrays_and_refuses_others(samples):
    spec = registry.get_spec("cxr-pneumonia")
    likeness = XrayLikeness.load(spec.path(spec.parameters["refusal_pixels"]))
    xrays = [read_image(p.read_bytes()).pixels for p in sorted(samples.glob("cxr_*"))]
    assert likeness.is_xray(xrays).all()
    noise = [np.random.default_rng(i).random((256, 256)) for i in range(5)]
    assert not likeness.is_xray(noise).any()


def test_card_records_refusal_rates():
    card = registry.card("cxr-pneumonia")
    rates = card["metrics"]["refusal_rate_out_of_distribution"]
    assert rates["noise and blank images"]["refused"] == pytest.approx(1.0)
    assert card["metrics"]["refusal_rate_validation_xrays"] < 0.01
