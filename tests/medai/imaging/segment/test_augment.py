"""The segmentation augmenter: the mask moves with the image, stays binary at its size, and keeps its weights."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from medai.imaging.segment.augment import augmenter


def _augmented(structures: int = 1, **options) -> list[tuple[np.ndarray, np.ndarray]]:
    """Eight augmentations (seed 0) of a grey film with a bright top-left block (any flip moves it), the block
    being every structure's mask and only the first structure annotated."""
    tf.random.set_seed(0)
    image = np.zeros((64, 64, 1), np.uint8)
    image[8:24, 8:28] = 255
    mask = np.repeat((image > 0).astype(np.uint8), structures, axis=-1)
    apply = augmenter(1, structures, **options)
    annotated = tf.constant([True] + [False] * (structures - 1))
    return [tuple(np.asarray(t) for t in apply(tf.constant(image), tf.constant(mask), annotated)) for _ in range(8)]


def test_the_mask_moves_with_the_image():
    for picture, target in _augmented(flip=True, degrees=10.0, zoom=0.1, shift=0.05):
        truth = target[..., 0] > 0.5
        assert picture[..., 0][truth].mean() > picture[..., 0][~truth].mean() + 0.3


def test_an_unannotated_structure_has_zero_weight():
    for _, target in _augmented(structures=2, flip=True, degrees=0.0, zoom=0.0, shift=0.0):
        assert target[..., 2].min() == 1.0 and target[..., 3].max() == 0.0


def test_a_rotated_mask_keeps_its_area():
    """The interpolated mask is cut at 0.5: a cut at > 0 would grow it."""
    for _, target in _augmented(flip=False, degrees=30.0, zoom=0.0, shift=0.0):
        assert target[..., 0].sum() == pytest.approx(16 * 20, rel=0.1)
