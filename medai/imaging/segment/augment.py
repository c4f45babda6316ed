"""Training-time augmentation for segmentation, as ``tf.data`` maps (image and mask move together).

Geometric changes (rotation, zoom, shift, flips, crops) are applied to the image and its masks
stacked as one tensor, so they stay aligned; photometric ones (gamma, contrast, brightness, noise,
colour) to the image only. Masks are re-binarised after interpolation.
"""

from __future__ import annotations

import tensorflow as tf


def photometric(image: tf.Tensor, colour: bool) -> tf.Tensor:
    """Random gamma, contrast, brightness, noise (and saturation/hue for colour) on (H, W, C) in [0, 1]."""
    image = tf.clip_by_value(image, 0.0, 1.0) ** tf.exp(tf.random.uniform([], -0.35, 0.35))
    mean = tf.reduce_mean(image)
    image = (image - mean) * tf.random.uniform([], 0.75, 1.3) + mean + tf.random.uniform([], -0.08, 0.08)
    if colour:
        image = tf.image.random_saturation(tf.clip_by_value(image, 0.0, 1.0), 0.7, 1.3)
        image = tf.image.random_hue(image, 0.04)
    image = image + tf.random.normal(tf.shape(image), 0.0, tf.random.uniform([], 0.0, 0.03))
    return tf.clip_by_value(image, 0.0, 1.0)


def affine(stacked: tf.Tensor, max_degrees: float, max_zoom: float, max_shift: float) -> tf.Tensor:
    """One random rotation, zoom and shift of (H, W, K), filled with zeros outside the image."""
    height = tf.cast(tf.shape(stacked)[0], tf.float32)
    width = tf.cast(tf.shape(stacked)[1], tf.float32)
    angle = tf.random.uniform([], -max_degrees, max_degrees) * 3.14159265 / 180.0
    scale = tf.exp(tf.random.uniform([], -max_zoom, max_zoom))
    shift_x = tf.random.uniform([], -max_shift, max_shift) * width
    shift_y = tf.random.uniform([], -max_shift, max_shift) * height
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    centre_x, centre_y = (width - 1) / 2, (height - 1) / 2
    # output (x, y) samples input (a0 x + a1 y + a2, b0 x + b1 y + b2): rotation and zoom about the centre
    transform = [cos, -sin, centre_x - cos * centre_x + sin * centre_y - shift_x,
                 sin, cos, centre_y - sin * centre_x - cos * centre_y - shift_y, 0.0, 0.0]
    moved = tf.raw_ops.ImageProjectiveTransformV3(
        images=stacked[None], transforms=tf.convert_to_tensor([transform], tf.float32),
        output_shape=tf.shape(stacked)[:2], interpolation="BILINEAR", fill_mode="CONSTANT",
        fill_value=0.0)
    return moved[0]


def flips(stacked: tf.Tensor, rotate: bool) -> tf.Tensor:
    """Random left-right and up-down flips, and (if ``rotate``) quarter turns, of (H, W, K)."""
    stacked = tf.image.random_flip_left_right(stacked)
    stacked = tf.image.random_flip_up_down(stacked)
    if rotate:
        stacked = tf.image.rot90(stacked, tf.random.uniform([], 0, 4, tf.int32))
    return stacked


def augmenter(channels: int, structures: int, *, flip: bool, degrees: float, zoom: float, shift: float,
              crop: int | None = None):
    """A ``tf.data`` map: (uint8 image, uint8 mask, bool annotated) -> (float image, loss target).

    The loss target is (H, W, 2S): masks then per-structure annotation weights (see
    :func:`medai.imaging.segment.unet.dice_bce_loss`).
    """
    def apply(image, mask, annotated):
        stacked = tf.concat([tf.cast(image, tf.float32) / 255.0, tf.cast(mask, tf.float32)], axis=-1)
        if crop:
            stacked = tf.image.random_crop(stacked, [crop, crop, channels + structures])
        if flip:
            stacked = flips(stacked, rotate=crop is not None)
        if degrees or zoom or shift:
            stacked = affine(stacked, degrees, zoom, shift)
        picture = photometric(stacked[..., :channels], colour=channels == 3)
        truth = tf.cast(stacked[..., channels:] >= 0.5, tf.float32)
        weight = tf.ones_like(truth) * tf.cast(annotated, tf.float32)
        return picture, tf.concat([truth, weight], axis=-1)
    return apply
