"""The training-time acquisition changes: each changes what it says, and only where it says."""

import numpy as np
import pytest
import tensorflow as tf

from medai.imaging.acquisition import (acquisition_shift, blur_outside_box, contrast_curve, cut_borders,
                                       lose_resolution, recompress)


def _films(n: int = 4, side: int = 64) -> tf.Tensor:
    rng = np.random.default_rng(0)
    return tf.constant(rng.uniform(0.0, 1.0, (n, side, side, 1)).astype(np.float32))


@pytest.mark.parametrize("change", [contrast_curve, cut_borders, lose_resolution, recompress])
def test_each_change_applies_only_at_its_rate(change):
    films = _films()
    assert np.array_equal(change(films, 0.0).numpy(), films.numpy())
    changed = change(films, 1.0).numpy()
    assert changed.shape == films.shape and changed.dtype == np.float32
    assert -1e-6 <= changed.min() and changed.max() <= 1.0 + 1e-6
    assert all(not np.allclose(a, b, atol=1e-3) for a, b in zip(changed, films.numpy()))


def test_blur_outside_box_keeps_the_lungs_and_smooths_the_rest():
    films = _films()
    boxes = tf.constant(np.tile([0.25, 0.25, 0.75, 0.75], (4, 1)).astype(np.float32))
    blurred = blur_outside_box(films, boxes, 1.0, margin=0.0).numpy()
    assert np.array_equal(blurred[:, 20:44, 20:44], films.numpy()[:, 20:44, 20:44])
    corner, original_corner = blurred[:, :10, :10], films.numpy()[:, :10, :10]
    assert corner.std() < 0.5 * original_corner.std()


def test_whole_image_box_changes_nothing():
    films = _films()
    boxes = tf.constant(np.tile([0.0, 0.0, 1.0, 1.0], (4, 1)).astype(np.float32))
    assert np.array_equal(blur_outside_box(films, boxes, 1.0).numpy(), films.numpy())


def test_borders_are_black_or_white_strips_at_the_edges():
    films = _films(16)
    framed = cut_borders(films, 1.0, widest=0.2).numpy()
    changed = framed != films.numpy()
    assert set(np.unique(framed[changed])) <= {0.0, 1.0}
    assert not changed[:, 20:44, 20:44].any()  # strips stop at a fifth of the side


def test_acquisition_shift_keeps_shape_and_range():
    shifted = acquisition_shift(_films(8)).numpy()
    assert shifted.shape == (8, 64, 64, 1) and 0.0 <= shifted.min() and shifted.max() <= 1.0 + 1e-6
