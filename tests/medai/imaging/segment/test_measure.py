"""Measurements on synthetic masks whose areas, overlaps and widths are known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from medai.imaging.segment.measure import areas, cardiothoracic_ratio, chest_findings, dice, lesion_share


def _box(shape: tuple[int, int], rows: tuple[int, int], columns: tuple[int, int]) -> np.ndarray:
    """A bool mask with the rectangle rows[0]..rows[1]-1 x columns[0]..columns[1]-1 set."""
    mask = np.zeros(shape, bool)
    mask[rows[0]:rows[1], columns[0]:columns[1]] = True
    return mask


def test_areas_count_pixels_keep_order_and_share_of_image():
    shape = (100, 200)
    ell = _box(shape, (10, 40), (10, 20)) | _box(shape, (30, 40), (20, 60))  # 300 + 400 = 700 px
    measured = areas({"rectangle": _box(shape, (0, 10), (0, 20)), "ell": ell, "empty": np.zeros(shape, bool)})
    assert [m.structure for m in measured] == ["rectangle", "ell", "empty"]
    assert [m.area_px for m in measured] == [200, 700, 0]
    assert measured[1].share_of_image == pytest.approx(700 / 20_000)
    assert all(m.area_mm2 is None for m in measured)  # no pixel spacing, no mm²


def test_area_in_mm2_uses_row_and_column_spacing():
    (measured,) = areas({"rectangle": _box((50, 50), (0, 10), (0, 20))}, pixel_spacing_mm=(0.5, 0.2))
    assert measured.area_px == 200
    assert measured.area_mm2 == pytest.approx(200 * 0.5 * 0.2)


def test_disc_area_is_close_to_pi_r_squared():
    rows, columns = np.mgrid[:400, :400]
    disc = (rows - 200) ** 2 + (columns - 200) ** 2 <= 100 ** 2
    (measured,) = areas({"disc": disc}, pixel_spacing_mm=(0.1, 0.1))
    assert measured.area_mm2 == pytest.approx(np.pi * 10.0 ** 2, rel=0.005)


def test_dice_identical_disjoint_half_overlap_and_empty():
    shape = (40, 40)
    a = _box(shape, (0, 10), (0, 10))
    shifted = _box(shape, (0, 10), (5, 15))  # 50 of 100 pixels shared
    assert dice(a, a) == 1.0
    assert dice(a, _box(shape, (20, 30), (20, 30))) == 0.0
    assert dice(a, shifted) == pytest.approx(0.5)
    assert dice(np.zeros(shape, bool), np.zeros(shape, bool)) == 1.0  # both empty: full agreement
    assert dice(a, np.zeros(shape, bool)) == 0.0
    with pytest.raises(ValueError):
        dice(a, np.zeros((40, 41), bool))


def _chest(upper_columns: tuple[int, int] = (100, 220)):
    """Lungs 40-99 and 200-259 (thorax 220 px wide); cardiomediastinum: an upper part, a 90-px-wide heart below."""
    shape = (200, 300)
    right, left = _box(shape, (50, 150), (40, 100)), _box(shape, (50, 150), (200, 260))
    heart = _box(shape, (40, 90), upper_columns) | _box(shape, (90, 141), (110, 200))
    return right, left, heart


def test_cardiothoracic_ratio_is_heart_width_over_thorax_width():
    right, left, heart = _chest()
    # The upper half (rows 40-89, 120 px wide) is the mediastinum and must not count as heart width.
    assert cardiothoracic_ratio(right, left, heart) == pytest.approx(90 / 220)
    right, left, heart = _chest(upper_columns=(140, 160))
    assert cardiothoracic_ratio(right, left, heart) == pytest.approx(90 / 220)


def test_cardiothoracic_ratio_is_none_without_a_lung_or_a_heart():
    right, left, heart = _chest()
    empty = np.zeros_like(right)
    assert cardiothoracic_ratio(empty, left, heart) is None
    assert cardiothoracic_ratio(right, empty, heart) is None
    assert cardiothoracic_ratio(right, left, empty) is None


def test_lesion_share_counts_overlapping_lesions_once_and_only_inside_the_lung():
    shape = (50, 50)
    lung = _box(shape, (0, 10), (0, 10))                      # 100 px
    glass = _box(shape, (0, 5), (0, 5)) | _box(shape, (20, 30), (20, 30))  # 25 px inside, 100 outside
    consolidation = _box(shape, (0, 5), (0, 10))              # 50 px, overlapping glass by 25
    assert lesion_share(lung, [glass]) == pytest.approx(0.25)
    assert lesion_share(lung, [glass, consolidation]) == pytest.approx(0.50)
    assert lesion_share(lung, []) == 0.0
    assert lesion_share(np.zeros(shape, bool), [glass]) is None


def test_chest_findings_gives_ratio_and_one_share_per_lung():
    right, left, heart = _chest()
    lesion = _box(right.shape, (50, 100), (40, 100))  # the upper half of the right lung
    findings = chest_findings({"right_lung": right, "left_lung": left, "cardiomediastinum": heart,
                               "ground_glass_opacity": lesion, "consolidation": np.zeros_like(right)})
    assert findings == pytest.approx({"cardiothoracic_ratio": 90 / 220, "right_lung_lesion_share": 0.5,
                                      "left_lung_lesion_share": 0.0})
    without_lesions = chest_findings({"right_lung": right, "left_lung": left, "cardiomediastinum": heart})
    assert without_lesions["right_lung_lesion_share"] is None
