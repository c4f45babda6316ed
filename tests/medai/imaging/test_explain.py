"""Grad-CAM mechanics on a network whose answer is known; overlays, scales and display copies."""

import threading

import keras
import numpy as np
import pytest

from medai.imaging import graphs
from medai.imaging.explain import (FIXED_SCALE_PEAK, display_copy, ensemble_cams, ensemble_grad_cam, fixed_scale,
                                   grad_cam_models, heat_colorscale, heat_colours, heatmap_at, heatmap_png, overlay,
                                   per_image)
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


def test_heat_colours_grow_lighter_from_none_to_strongest_with_red_green_colour_blindness_too():
    deutan = np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                       [-0.011820, 0.042940, 0.968881]])  # Machado et al. (2009), severity 1, linear RGB
    srgb = heat_colours(np.linspace(0.0, 1.0, 21))
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    for vision in (np.eye(3), deutan):
        luminance = np.clip(linear @ vision.T, 0, 1) @ [0.2126, 0.7152, 0.0722]
        assert np.all(np.diff(luminance) > 0)  # jet's peak (red) was darker than its middle


def test_heatmap_png_is_16_bit():
    data = heatmap_png(np.eye(8), (64, 64))
    assert data.startswith(b"\x89PNG")


def test_grad_cam_traces_once_for_any_batch_size(monkeypatch):
    """A fixed input signature: new batch sizes and repeated calls never retrace (no TF warning)."""
    monkeypatch.setattr(graphs, "_deferred", threading.Event())  # as in a CLI run (an AppTest may have set it)
    grad_cam = grad_cam_models([_corner_detector(), _corner_detector()])
    for size in (1, 2, 3, 1, 5):
        ensemble_grad_cam(grad_cam, np.random.default_rng(size).random((size, 16, 16, 1), np.float32))
    assert grad_cam.graph.tracing_count() == 1


def test_per_image_and_fixed_scale():
    image = np.zeros((2, 16, 16, 1), np.float32)
    image[0, 12:, :4], image[1, 12:, :4] = 1.0, 0.25  # same place, a quarter of the evidence
    _, cams = ensemble_cams(grad_cam_models([_corner_detector()]), image)
    rescaled = per_image(cams)
    assert np.allclose(rescaled[0], rescaled[1])  # per image, the weak map looks as strong as the other
    peaks = cams.max(axis=(1, 2))
    strong, weak = (fixed_scale(rescaled[i], peaks[i] * FIXED_SCALE_PEAK / peaks[0]) for i in (0, 1))
    assert strong.max() == pytest.approx(1.0) and weak.max() == pytest.approx(0.25)
    assert per_image(np.zeros((1, 4, 4))).max() == 0.0


def test_display_copy_keeps_the_aspect_and_caps_the_long_side():
    pixels = np.random.default_rng(1).random((1416, 1776)).astype(np.float32)
    small = display_copy(pixels, 768)
    assert small.shape == (612, 768) and small.dtype == np.float32 and 0.0 <= small.min() <= small.max() <= 1.0
    assert display_copy(small, 768) is small


def test_colour_bar_matches_the_overlay_colours():
    scale = heat_colorscale(3)
    assert [position for position, _ in scale] == [0.0, 0.5, 1.0]
    assert scale[-1][1] == "rgb({},{},{})".format(*np.rint(heat_colours(1.0) * 255).astype(int))


def test_the_ensemble_heat_map_is_the_mean_of_every_member():
    maps = np.stack([np.zeros((1, 4, 4)), np.ones((1, 4, 4)), 2 * np.ones((1, 4, 4))], axis=1)  # (N=1, M=3, 4, 4)
    _, mean = ensemble_cams(lambda images: (np.zeros((1, 3)), maps), np.zeros((1, 8, 8, 1), np.float32))
    assert mean.shape == (1, 4, 4) and np.allclose(mean, 1.0)
