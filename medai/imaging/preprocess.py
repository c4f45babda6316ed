"""Map any decoded image onto the model's input grid, exactly as the training copies were made.

The training copies (``train_224``) were squashed to 224 x 224 with Pillow's default resampling
(bicubic, aspect ratio not kept). An upload is a full-resolution original, so it is squashed the
same way first and only then reduced to the network's input size; training images pass through the
very same function (the first step is then the identity).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

TRAINING_COPY_SIZE = 224


def to_unit_uint8(pixels: np.ndarray) -> Image.Image:
    """(H, W) float in [0, 1] → 8-bit grey Pillow image."""
    return Image.fromarray(np.clip(np.rint(pixels * 255.0), 0, 255).astype(np.uint8), mode="L")


def squash(pixels: np.ndarray, size: int) -> np.ndarray:
    """Squash an image to the model's input, mimicking how ``train_224`` was made.

    Parameters
    ----------
    pixels : np.ndarray
        (H, W) float32 in [0, 1], any size.
    size : int
        Side of the square network input, in pixels.

    Returns
    -------
    np.ndarray
        (size, size) float32 in [0, 1].
    """
    image = to_unit_uint8(pixels)
    if image.size != (TRAINING_COPY_SIZE, TRAINING_COPY_SIZE):
        image = image.resize((TRAINING_COPY_SIZE, TRAINING_COPY_SIZE), Image.BICUBIC)
    if size != TRAINING_COPY_SIZE:
        image = image.resize((size, size), Image.BILINEAR)
    return np.asarray(image, dtype=np.float32) / 255.0


def batch(images: list[np.ndarray], size: int) -> np.ndarray:
    """Stack squashed images into a network batch of shape (N, size, size, 1), float32 in [0, 1]."""
    return np.stack([squash(image, size) for image in images])[..., np.newaxis]
