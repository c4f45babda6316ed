"""Where the lungs are on each training film: boxes from the shipped ``cxr-lungs`` model, cached.

The chest X-ray classifier is trained so that what lies outside the lungs cannot carry its decision
(:func:`medai.imaging.acquisition.blur_outside_box`): side markers, text, borders and tubes differ
between hospitals, the lungs do not. The boxes are needed only at training time; at inference the
classifier reads the whole film, so a diagnosis never waits for a segmentation.
"""

from __future__ import annotations

import numpy as np

from medai import config, registry
from medai.imaging.datasets import load_training_set
from medai.imaging.io import MedicalImage
from medai.imaging.lung_focus import LUNG_MODEL, lung_fields
from medai.imaging.preprocess import TRAINING_COPY_SIZE

WHOLE_IMAGE = np.array([0.0, 0.0, 1.0, 1.0], np.float32)


def lung_box(image: MedicalImage, segmenter) -> np.ndarray:
    """(4,) float32 box ``(top, left, bottom, right)`` around both lungs, as fractions of the image.

    ``WHOLE_IMAGE`` when the segmenter refuses the film or finds no lung, so that a failed
    segmentation costs a film its augmentation, never its place in training.
    """
    fields = lung_fields(image, segmenter)
    if fields is None or not fields.any():
        return WHOLE_IMAGE.copy()
    shape = fields.shape
    rows, columns = np.flatnonzero(fields.any(axis=1)), np.flatnonzero(fields.any(axis=0))
    return np.array([rows[0] / shape[0], columns[0] / shape[1], (rows[-1] + 1) / shape[0],
                     (columns[-1] + 1) / shape[1]], np.float32)


def training_lung_boxes() -> dict[str, np.ndarray]:
    """Lung box of every Kermany training film, by file name; segmented once at 224 px, then cached."""
    cache = config.cache_dir() / "kermany_lung_boxes.npz"
    if cache.exists():
        with np.load(cache) as stored:
            return dict(zip(stored["files"].tolist(), stored["boxes"]))
    films, segmenter = load_training_set(TRAINING_COPY_SIZE), registry.load(LUNG_MODEL)
    boxes = np.stack([lung_box(MedicalImage(pixels.astype(np.float32) / 255.0, "jpeg", ""), segmenter)
                      for pixels in films.images])
    np.savez_compressed(cache, files=films.files, boxes=boxes)
    return dict(zip(films.files.tolist(), boxes))


def lung_boxes(files: np.ndarray) -> np.ndarray:
    """(N, 4) lung boxes of the films named ``files``; ``WHOLE_IMAGE`` for a film not in the Kermany set
    (a feedback export), which is then trained on as it is."""
    known = training_lung_boxes()
    return np.stack([known.get(str(name), WHOLE_IMAGE) for name in files]).astype(np.float32)
