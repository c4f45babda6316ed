"""Measurements on masks: areas, Dice, the cardiothoracic ratio and the lesion share of each lung.

Masks are (H, W) bool arrays at the image's original size; areas in mm² need the pixel spacing a
DICOM file gives (``(row, column)`` mm per pixel).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LUNGS = ("right_lung", "left_lung")
LESIONS = ("ground_glass_opacity", "consolidation")
LESION_CAVEAT = ("The ground-glass opacity and consolidation masks were learned from adult COVID-19 films only, with "
                 "modest validation Dice; on other films (children's, other diseases) they can mark normal lung as "
                 "lesion. Read the lesion share as a pointer where to look, not a measurement.")


@dataclass(frozen=True)
class Measurement:
    """The size of one structure on one image.

    Attributes
    ----------
    structure : str
        Structure name.
    area_px : int
        Pixels inside the mask.
    share_of_image : float
        ``area_px`` over the image's pixels, in [0, 1].
    area_mm2 : float or None
        Area in mm², when the pixel spacing is known.
    """

    structure: str
    area_px: int
    share_of_image: float
    area_mm2: float | None = None


def dice(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Dice overlap of two bool masks of one shape, in [0, 1]; 1.0 when both are empty."""
    if predicted.shape != truth.shape:
        raise ValueError(f"Mask shapes differ: {predicted.shape} vs {truth.shape}.")
    total = int(predicted.sum()) + int(truth.sum())
    return 1.0 if total == 0 else 2.0 * int(np.logical_and(predicted, truth).sum()) / total


def areas(masks: dict[str, np.ndarray], pixel_spacing_mm: tuple[float, float] | None = None) -> list[Measurement]:
    """One :class:`Measurement` per mask, in the order given."""
    rows = []
    for structure, mask in masks.items():
        count = int(mask.sum())
        area_mm2 = None if pixel_spacing_mm is None else count * float(pixel_spacing_mm[0]) * float(pixel_spacing_mm[1])
        rows.append(Measurement(structure, count, count / mask.size, area_mm2))
    return rows


def _widest_row_span(mask: np.ndarray) -> int:
    """Largest (last column - first column + 1) over the rows of ``mask`` that have any pixel; 0 if none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return 0
    inside = mask[rows]
    first = inside.argmax(axis=1)
    last = inside.shape[1] - 1 - inside[:, ::-1].argmax(axis=1)
    return int((last - first + 1).max())


def cardiothoracic_ratio(right_lung: np.ndarray, left_lung: np.ndarray, cardiomediastinum: np.ndarray) -> float | None:
    """Heart width over thorax width on a frontal chest X-ray, or None if a structure is missing.

    Heart width is the widest row of the lower half of the cardiomediastinum (its upper half is the
    mediastinum, not the heart); thorax width is the widest row across both lungs, outer edge to
    outer edge. The usual reading: above 0.5 on a PA film suggests cardiomegaly.
    """
    rows = np.flatnonzero(cardiomediastinum.any(axis=1))
    lungs = np.logical_or(right_lung, left_lung)
    if rows.size == 0 or not right_lung.any() or not left_lung.any():
        return None
    heart = np.zeros_like(cardiomediastinum)
    middle = (rows[0] + rows[-1]) // 2
    heart[middle:] = cardiomediastinum[middle:]
    thorax = _widest_row_span(lungs)
    return _widest_row_span(heart) / thorax if thorax else None


def lesion_share(lung: np.ndarray, lesions: list[np.ndarray]) -> float | None:
    """Share of ``lung`` covered by any of ``lesions`` (masks of one shape), in [0, 1]; None if no lung."""
    area = int(lung.sum())
    if area == 0:
        return None
    covered = np.zeros_like(lung)
    for lesion in lesions:
        covered |= lesion
    return int(np.logical_and(covered, lung).sum()) / area


def chest_findings(masks: dict[str, np.ndarray]) -> dict[str, float | None]:
    """Cardiothoracic ratio and lesion share per lung from a ``cxr-lungs`` result's masks."""
    lesions = [masks[name] for name in LESIONS if name in masks]
    findings: dict[str, float | None] = {
        "cardiothoracic_ratio": cardiothoracic_ratio(masks["right_lung"], masks["left_lung"], masks["cardiomediastinum"])}
    for lung in LUNGS:
        findings[f"{lung}_lesion_share"] = lesion_share(masks[lung], lesions) if lesions else None
    return findings
