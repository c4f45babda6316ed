"""The share of Grad-CAM heat inside the lung fields, and the outline drawn on the Diagnose page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medai.imaging.io import read_image
from medai.imaging.lung_focus import heat_share_inside, lung_focus, lung_model_installed, outline

SAMPLES = Path(__file__).resolve().parents[3] / "sample_data" / "imaging"


def test_heat_share_counts_mass_inside_the_region():
    heat = np.zeros((8, 8), np.float32)
    heat[:, :4] = 1.0  # all heat on the left half
    left = np.zeros((64, 64), bool)
    left[:, :32] = True
    assert heat_share_inside(heat, left) == pytest.approx(1.0, abs=0.05)
    assert heat_share_inside(heat, ~left) == pytest.approx(0.0, abs=0.05)
    assert heat_share_inside(np.zeros((8, 8)), left) is None


def test_outline_is_a_thin_ring_at_the_target_size():
    mask = np.zeros((10, 10), bool)
    mask[2:8, 2:8] = True
    ring = outline(mask, (100, 100), width_px=2)
    assert ring.shape == (100, 100)
    assert ring[20, 50] and ring[21, 50] and not ring[22, 50]  # the edge row is 2 px thick
    assert not ring[50, 50] and not ring[5, 5]


def test_no_heat_map_gives_nothing():
    image = read_image((SAMPLES / "cxr_normal_NORMAL2-IM-1427-0001.jpeg").read_bytes())
    assert lung_focus(image, None) == (None, None)


def test_lungs_found_on_a_chest_xray_and_share_is_a_fraction():
    assert lung_model_installed(), "cxr-lungs ships with the repository"
    image = read_image((SAMPLES / "cxr_normal_NORMAL2-IM-1427-0001.jpeg").read_bytes())
    heat = np.ones((8, 8), np.float32)
    fields, share = lung_focus(image, heat)
    assert fields is not None and 0.15 < fields.mean() < 0.7  # lungs cover a real part of the film
    assert share == pytest.approx(fields.mean(), abs=0.05)  # a flat heat map: share = lung area share
