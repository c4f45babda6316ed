"""Grad-CAM mechanics on a network whose answer is known, and the overlay at original size."""

import keras
import numpy as np
import pytest

from medai.imaging.explain import ensemble_grad_cam, grad_cam_models, heatmap_at, heatmap_png, jet, overlay
from medai.imaging.network import CAM_LAYER


def _corner_detector() -> keras.Model:
    """Logit = mean brightness of the 4x4 feature map; features = the image pooled 4x."""
    inputs = keras.Input((16, 16, 1))
    identity = keras.layers.Conv2D(1, 1, kernel_initializer="ones", use_bias=False)(inputs)
    features = keras.layers.AveragePooling2D(4)(identity)
    features = keras.layers.ReLU(name=CAM_LAYER)(features)
    logit = keras.layers.Dense(1, kernel_initializer="ones")(keras.layers.GlobalAveragePooling2D()(features))
    return keras.Model(inputs, logit)


def test_grad_cam_points_at_the_evidence():
    image = np.zeros((1, 16, 16, 1), np.float32)
    image[0, 12:, :4] = 1.0  # bright bottom-left corner
    logits, heatmaps = ensemble_grad_cam(grad_cam_models([_corner_detector()]), image)
    assert logits.shape == (1, 1) and heatmaps.shape == (1, 4, 4)
    assert np.unravel_index(np.argmax(heatmaps[0]), (4, 4)) == (3, 0)
    assert heatmaps[0].max() == pytest.approx(1.0) and heatmaps[0].min() == 0.0


def test_overlay_is_at_the_original_size():
    pixels = np.random.default_rng(0).random((300, 500)).astype(np.float32)
    heatmap = np.zeros((8, 8))
    heatmap[0, 0] = 1.0
    blended = overlay(pixels, heatmap, opacity=1.0)
    assert blended.shape == (300, 500, 3) and blended.dtype == np.uint8
    unchanged = overlay(pixels, heatmap, opacity=0.0)[..., 0].astype(int)
    assert np.abs(unchanged - np.rint(pixels * 255)).max() <= 1
    assert heatmap_at(heatmap, (300, 500)).shape == (300, 500)


def test_jet_goes_from_blue_to_red():
    low, high = jet(np.array([0.0, 1.0]))
    assert low[2] > low[0] and high[0] > high[2]


def test_heatmap_png_is_16_bit():
    data = heatmap_png(np.eye(8), (64, 64))
    assert data.startswith(b"\x89PNG")
