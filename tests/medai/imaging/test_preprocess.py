"""The upload path maps a full-resolution original the way the training copies were made."""

import numpy as np
from PIL import Image

from medai.imaging.io import read_image
from medai.imaging.preprocess import TRAINING_COPY_SIZE, batch, squash


def test_squash_shape_and_range():
    pixels = np.random.default_rng(0).random((900, 1300)).astype(np.float32)
    out = squash(pixels, 128)
    assert out.shape == (128, 128) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0


def test_training_copy_size_passes_through_unchanged():
    pixels = np.random.default_rng(1).integers(0, 256, (224, 224)).astype(np.float32) / 255
    assert np.allclose(squash(pixels, TRAINING_COPY_SIZE), pixels, atol=1 / 255)


def test_original_and_its_squashed_copy_give_the_same_input(samples):
    original = read_image((samples / "cxr_normal_NORMAL2-IM-1427-0001.jpeg").read_bytes()).pixels
    copy = Image.fromarray(np.rint(original * 255).astype(np.uint8)).resize((224, 224))  # as train_224 was made
    from_copy = squash(np.asarray(copy, np.float32) / 255, 128)
    assert np.abs(squash(original, 128) - from_copy).mean() < 2 / 255


def test_batch_adds_channel_axis():
    images = [np.zeros((300, 200), np.float32), np.ones((50, 400), np.float32)]
    assert batch(images, 64).shape == (2, 64, 64, 1)


def test_pixels_are_rounded_to_the_nearest_grey_level_as_the_training_copies_were():
    from medai.imaging.preprocess import to_unit_uint8

    assert np.asarray(to_unit_uint8(np.full((2, 2), 0.999, np.float32))).max() == 255
    assert np.asarray(to_unit_uint8(np.full((2, 2), 0.5, np.float32))).max() == 128
