"""Did the classifier look at the lungs? The share of its Grad-CAM heat inside the lung fields.

When the ``cxr-lungs`` segmentation model is installed, every explained diagnosis gets the lung
fields (both lungs, at the segmentation's working resolution) and the share of the heat map's mass
that falls inside them: a plain check that the classifier looked at the lungs and not at a side
marker, a border or a tube. Both maps cover the whole image, so they align after resizing.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from medai import registry
from medai.errors import MedAIError
from medai.imaging.explain import heatmap_at
from medai.imaging.io import MedicalImage

LUNG_MODEL = "cxr-lungs"
LUNGS = ("right_lung", "left_lung")
LUNG_OUTLINE_RGB = (255, 255, 255)  # white: apart from every colour of the heat-map scale
NO_LUNG_FIELDS = ("No lung fields found: cxr-lungs did not take this image for a frontal chest X-ray, or found no "
                  "lung in it, so where the heat map lies could not be checked. Read this result with extra care.")


def lung_model_installed() -> bool:
    """Whether the lung segmentation model ships with this installation."""
    return LUNG_MODEL in registry.names()


def lung_fields(image: MedicalImage, segmenter=None) -> np.ndarray | None:
    """(h, w) bool union of both lungs at the segmentation's working size, or None when not found.

    ``segmenter`` is the ``cxr-lungs`` model (loaded from the registry when not given).

    Raises
    ------
    MedAIError
        The lung model cannot be loaded.
    """
    segmentation = (segmenter or registry.load(LUNG_MODEL)).predict_one(image)
    if segmentation.status != "ok" or segmentation.probabilities is None:
        return None
    shape = segmentation.probabilities.shape[:2]
    return np.logical_or(*(segmentation.mask(name, shape) for name in LUNGS))


def heat_share_inside(heatmap: np.ndarray, region: np.ndarray) -> float | None:
    """Share of a non-negative (h, w) heat map's mass inside an (H, W) bool region, in [0, 1].

    The heat map is upsampled to the region's size first; None when the map is all zero.
    """
    heat = heatmap_at(heatmap, region.shape)
    total = float(heat.sum())
    return None if total <= 0 else float(heat[region].sum()) / total


def outline(mask: np.ndarray, shape: tuple[int, int], width_px: int = 2) -> np.ndarray:
    """(H, W) bool boundary, ``width_px`` thick, of an (h, w) bool mask resized to ``shape``."""
    resized = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize((shape[1], shape[0]), Image.NEAREST)) > 0
    inner = resized
    for _ in range(width_px):  # 4-neighbour erosion in NumPy: scipy.ndimage would slow the page's first import
        padded = np.pad(inner, 1)
        inner = inner & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return resized & ~inner


def low_focus_limit(card: dict, positive_label: str) -> float | None:
    """The 5th percentile of heat-in-lungs among validation films of ``positive_label`` (from the
    classifier's card, :mod:`medai.imaging.lung_focus_card`); a positive call below it looked elsewhere."""
    return card.get("lung_focus", {}).get("by_true_label", {}).get(positive_label, {}).get("p5")


def lung_focus(image: MedicalImage, heatmap: np.ndarray | None) -> tuple[np.ndarray | None, float | None]:
    """(lung fields, share of heat inside them) for one explained chest X-ray; (None, None) if unavailable."""
    if heatmap is None or not lung_model_installed():
        return None, None
    try:
        fields = lung_fields(image)
    except MedAIError:
        return None, None
    return fields, (None if fields is None else heat_share_inside(heatmap, fields))
