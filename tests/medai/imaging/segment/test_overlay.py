"""Overlay drawing and mask reading on synthetic shapes with known pixels."""

from __future__ import annotations

import numpy as np
import pytest

from medai.errors import InputError
from medai.imaging.segment.overlay import (DISAGREEMENT, HATCHED, PALETTE, boundary, compose, disagreement,
                                           hex_to_rgb, stripes,
                                           outline_width, read_mask_png, resize_mask, structure_colours,
                                           target_mask, truth_targets)
from tests.conftest import jpeg_bytes, png_bytes


def _square(shape=(20, 30), top=5, left=8, side=6) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[top:top + side, left:left + side] = True
    return mask


def test_colours_are_distinct_and_known_structures_keep_theirs():
    colours = structure_colours(["right_lung", "left_lung", "cardiomediastinum", "ground_glass_opacity",
                                 "consolidation", "airways", "pleural_effusion"])
    assert colours["right_lung"] == PALETTE["right_lung"] and colours["consolidation"] == PALETTE["consolidation"]
    assert len(set(colours.values())) == 7 and DISAGREEMENT not in colours.values()
    # Two structures whose palette colours coincide still get different colours.
    clash = structure_colours(["left_lung", "polyp"])
    assert clash["left_lung"] != clash["polyp"]


# Machado et al. (2009), severity 1, on linear RGB: what a deutan / protan reader sees.
DEUTERANOPIA = np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                         [-0.011820, 0.042940, 0.968881]])
PROTANOPIA = np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                       [-0.003882, -0.048116, 1.051998]])


def _lab(colour: str, vision: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) of ``colour`` as seen through ``vision``."""
    srgb = hex_to_rgb(colour).astype(np.float64)
    linear = vision @ np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    to_xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = to_xyz @ np.clip(linear, 0, 1)
    f = np.cbrt(np.maximum(xyz / [0.9505, 1.0, 1.089], 0.008856))
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("vision", [np.eye(3), DEUTERANOPIA, PROTANOPIA], ids=["normal", "deutan", "protan"])
def test_chest_structures_stay_apart_with_red_green_colour_blindness(vision):
    structures = ["right_lung", "left_lung", "cardiomediastinum", "ground_glass_opacity", "consolidation"]
    colours = [*structure_colours(structures).values(), DISAGREEMENT]
    nearest = min(np.linalg.norm(_lab(a, vision) - _lab(b, vision)) for i, a in enumerate(colours)
                  for b in colours[i + 1:])
    assert nearest > 15  # CIE76 ΔE: a green left lung and a red heart were 7 apart for a deutan


def test_lesions_and_the_disagreement_are_striped_so_that_colour_alone_does_not_carry_them():
    grey, lung = np.full((160, 160), 0.5), np.ones((160, 160), bool)
    masks, colours = {"left_lung": lung, "consolidation": lung}, {"left_lung": "#009e73", "consolidation": "#cc79a7"}
    drawn = compose(grey, masks, colours, opacity=1.0)
    lesion = (drawn == np.rint(255 * hex_to_rgb("#cc79a7"))).all(axis=2)
    assert 0.4 < lesion.mean() < 0.6 and (lesion == stripes((160, 160), HATCHED["consolidation"])).all()
    assert (stripes((160, 160), 1) != stripes((160, 160), -1)).any()  # the disagreement's run the other way
    outlined = compose(grey, {"consolidation": lung}, colours, 1.0, outline_only=True)
    assert (outlined[0] == np.rint(255 * hex_to_rgb("#cc79a7"))).all()  # outlines stay whole


def test_hex_to_rgb():
    assert hex_to_rgb("#ff8000").tolist() == pytest.approx([1.0, 128 / 255, 0.0])


def test_boundary_is_the_one_pixel_ring():
    mask = _square(side=6)
    ring = boundary(mask)
    assert ring.sum() == 6 * 4 - 4  # the square's perimeter pixels
    assert not ring[7:10, 10:13].any() and ring[5, 8] and ring[10, 13]
    assert not (ring & ~mask).any()  # inside the mask only
    assert boundary(np.ones((4, 4), bool)).sum() == 12  # a mask touching the image border is closed there
    assert not boundary(np.zeros((4, 4), bool)).any()


def test_compose_fills_only_the_mask_at_the_opacity():
    pixels = np.full((20, 30), 0.5, np.float32)
    mask = _square()
    out = compose(pixels, {"a": mask}, {"a": "#ff0000"}, opacity=0.5)
    assert out.shape == (20, 30, 3) and out.dtype == np.uint8
    assert out[mask].tolist() == [[191, 64, 64]] * int(mask.sum())  # 0.5 grey + 0.5 red
    assert (out[~mask] == 128).all()  # untouched outside
    opaque = compose(pixels, {"a": mask}, {"a": "#00ff00"}, opacity=1.0)
    assert opaque[mask].tolist() == [[0, 255, 0]] * int(mask.sum())


def test_compose_outline_only_draws_the_boundary_and_later_masks_on_top():
    pixels = np.zeros((20, 30), np.float32)
    first, second = _square(), _square(top=7, left=10, side=6)
    out = compose(pixels, {"a": first, "b": second}, {"a": "#ff0000", "b": "#0000ff"}, 1.0, outline_only=True)
    assert (out[boundary(second)] == [0, 0, 255]).all()
    assert (out[boundary(first) & ~boundary(second)] == [255, 0, 0]).all()
    assert (out[first & ~boundary(first) & ~boundary(second)] == 0).all()  # inside stays the image


def test_outlines_thicken_with_the_picture_so_they_stay_visible_when_shown_smaller():
    assert [outline_width((h, w)) for h, w in [(20, 30), (751, 943), (768, 600), (1416, 1776)]] == [1, 2, 2, 5]
    big = np.zeros((800, 800), bool)
    big[100:300, 100:300] = True
    out = compose(np.zeros(big.shape, np.float32), {"a": big}, {"a": "#ff0000"}, 1.0, outline_only=True)
    assert (out[boundary(big, 2)] == [255, 0, 0]).all() and (out[big & ~boundary(big, 2)] == 0).all()


def test_compose_draws_on_colour_images_and_checks_shapes():
    rgb = np.zeros((20, 30, 3), np.uint8)
    rgb[..., 2] = 200
    out = compose(np.zeros((20, 30)), {"a": _square()}, {"a": "#ffffff"}, 0.0, rgb=rgb)
    assert (out == rgb).all()
    with pytest.raises(ValueError):
        compose(np.zeros((20, 30)), {"a": np.zeros((10, 10), bool)}, {"a": "#ffffff"}, 0.5)


def test_disagreement_marks_missed_and_extra_pixels():
    truth, predicted = _square(side=6), _square(left=10, side=6)
    xor = disagreement(predicted, truth)
    assert xor.sum() == 2 * 6 * 2  # two columns missed, two extra, six rows each
    assert not xor[5:11, 10:14].any()
    with pytest.raises(ValueError):
        disagreement(predicted, np.zeros((5, 5), bool))


def test_read_mask_png_at_the_image_size():
    mask = _square()
    read, resized = read_mask_png(png_bytes(mask.astype(np.uint8) * 255), (20, 30))
    assert not resized and (read == mask).all()
    zero_one, _ = read_mask_png(png_bytes(mask.astype(np.uint8)), (20, 30))  # 0/1 masks count too
    assert (zero_one == mask).all()


def test_read_mask_png_resizes_the_same_shape_and_refuses_another():
    big = np.zeros((40, 60), np.uint8)
    big[10:22, 16:28] = 255
    read, resized = read_mask_png(png_bytes(big), (20, 30))
    assert resized and read.shape == (20, 30) and read.sum() == 36
    with pytest.raises(InputError, match="the image is 30×20"):
        read_mask_png(png_bytes(np.zeros((30, 30), np.uint8)), (20, 30))


def test_read_mask_png_refuses_other_files_plainly():
    with pytest.raises(InputError, match="not a PNG"):
        read_mask_png(jpeg_bytes(np.zeros((20, 30), np.uint8)), (20, 30))
    with pytest.raises(InputError, match="damaged"):
        read_mask_png(png_bytes(np.zeros((20, 30), np.uint8))[:40], (20, 30))


def test_read_mask_png_checks_the_pixel_cap_before_decoding(monkeypatch):
    monkeypatch.setenv("MEDAI_MAX_MEGAPIXELS", "0.0001")  # 100 pixels
    with pytest.raises(InputError, match="megapixels"):
        read_mask_png(png_bytes(np.zeros((20, 30), np.uint8)), (20, 30))


def test_resize_mask_nearest():
    mask = _square(shape=(4, 4), top=0, left=0, side=2)
    assert resize_mask(mask, (8, 8)).sum() == 16 and (resize_mask(mask, (4, 4)) == mask).all()


def test_lungs_target_is_the_union_of_both_lungs():
    assert truth_targets(("right_lung", "left_lung", "cardiomediastinum"))[-1] == "lungs"
    assert truth_targets(("polyp",)) == ["polyp"]
    right, left = _square(left=2), _square(left=20)
    masks = {"right_lung": right, "left_lung": left}
    assert (target_mask(masks, "lungs") == (right | left)).all()
    assert target_mask(masks, "left_lung") is left


def test_a_mask_past_pillows_own_cap_is_called_too_large(monkeypatch):
    from PIL import Image

    from medai.errors import InputTooLargeError

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # so that a small PNG trips Pillow's bomb check
    with pytest.raises(InputTooLargeError, match="more pixels than is safe"):
        read_mask_png(png_bytes(np.zeros((20, 30), np.uint8)), (20, 30))
