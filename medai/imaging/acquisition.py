"""Training-time changes that mimic another hospital's films, so the classifier does not learn its own.

Every function takes a batch of (N, H, W, 1) float32 images in [0, 1] and changes a random share
``probability`` of them; the others pass through unchanged. None is used at inference.
"""

from __future__ import annotations

import tensorflow as tf


def _chosen(images: tf.Tensor, probability: float) -> tf.Tensor:
    """(N, 1, 1, 1) bool: which images of the batch to change."""
    return tf.random.uniform((tf.shape(images)[0], 1, 1, 1)) < probability


def _grids(images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(1, H, 1, 1) row and (1, 1, W, 1) column centres as fractions of the image."""
    height, width = tf.shape(images)[1], tf.shape(images)[2]
    rows = (tf.cast(tf.range(height), tf.float32) + 0.5) / tf.cast(height, tf.float32)
    columns = (tf.cast(tf.range(width), tf.float32) + 0.5) / tf.cast(width, tf.float32)
    return tf.reshape(rows, (1, -1, 1, 1)), tf.reshape(columns, (1, 1, -1, 1))


def blur_outside_box(images: tf.Tensor, boxes: tf.Tensor, probability: float, margin: float = 0.05) -> tf.Tensor:
    """Blur everything outside each image's lung box (grown by ``margin``), so markers and text vanish.

    ``boxes`` is (N, 4) ``(top, left, bottom, right)`` as fractions of the image
    (:func:`medai.imaging.lung_boxes.lung_boxes`); the heart and mediastinum lie inside the box.
    """
    rows, columns = _grids(images)
    box = tf.reshape(boxes, (-1, 1, 1, 4))
    inside = ((rows >= box[..., 0:1] - margin) & (rows <= box[..., 2:3] + margin)
              & (columns >= box[..., 1:2] - margin) & (columns <= box[..., 3:4] + margin))
    blurred = tf.nn.avg_pool2d(tf.nn.avg_pool2d(images, 9, 1, "SAME"), 9, 1, "SAME")
    return tf.where(_chosen(images, probability) & ~inside, blurred, images)


def cut_borders(images: tf.Tensor, probability: float, widest: float = 0.12) -> tf.Tensor:
    """Frame the film with black or white strips of random width on each side (collimation, scanning)."""
    rows, columns = _grids(images)
    n = tf.shape(images)[0]
    top, bottom, left, right = (tf.random.uniform((n, 1, 1, 1), 0.0, widest) for _ in range(4))
    outside = (rows < top) | (rows > 1.0 - bottom) | (columns < left) | (columns > 1.0 - right)
    value = tf.cast(tf.random.uniform((n, 1, 1, 1)) < 0.7, tf.float32)  # mostly black frames
    return tf.where(_chosen(images, probability) & outside, value * tf.ones_like(images), images)


def lose_resolution(images: tf.Tensor, probability: float, smallest: float = 0.35) -> tf.Tensor:
    """Shrink to a random fraction (at least ``smallest``) of the side and enlarge back: a softer detector."""
    side = tf.shape(images)[1]
    reduced = tf.cast(tf.cast(side, tf.float32) * tf.random.uniform((), smallest, 1.0), tf.int32)
    softened = tf.image.resize(tf.image.resize(images, (reduced, reduced), "area"), (side, side), "bilinear")
    return tf.where(_chosen(images, probability), softened, images)


def recompress(images: tf.Tensor, probability: float, lowest_quality: int = 20) -> tf.Tensor:
    """Re-encode as JPEG at a random quality from ``lowest_quality`` to 95 (another PACS export)."""
    def one(image: tf.Tensor) -> tf.Tensor:
        quality = tf.random.uniform((), lowest_quality, 96, dtype=tf.int32)
        return tf.image.adjust_jpeg_quality(image, quality)

    recompressed = tf.map_fn(one, images, fn_output_signature=tf.float32)
    return tf.where(_chosen(images, probability), tf.reshape(recompressed, tf.shape(images)), images)


def contrast_curve(images: tf.Tensor, probability: float) -> tf.Tensor:
    """A random S-shaped (or flattening) tone curve around a random midpoint: another processing look-up table."""
    n = tf.shape(images)[0]
    steepness = tf.random.uniform((n, 1, 1, 1), 2.0, 10.0)
    middle = tf.random.uniform((n, 1, 1, 1), 0.35, 0.65)
    low, high = tf.sigmoid(-steepness * middle), tf.sigmoid(steepness * (1.0 - middle))
    curved = (tf.sigmoid(steepness * (images - middle)) - low) / (high - low)
    return tf.where(_chosen(images, probability), curved, images)


def acquisition_shift(images: tf.Tensor) -> tf.Tensor:
    """The changes other than :func:`blur_outside_box` (which goes before any geometric change, as its
    boxes are in the film's own coordinates), at the rates the ``cxr-pneumonia`` recipe uses."""
    images = contrast_curve(images, 0.3)
    images = lose_resolution(images, 0.3)
    images = cut_borders(images, 0.25)
    return recompress(images, 0.3)
