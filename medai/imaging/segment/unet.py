"""The segmentation network (a U-Net) and its loss.

Small by design for two CPU cores: five levels of two 3 x 3 convolutions each, batch norm with
momentum 0.9 (at a few steps per epoch Keras' default 0.99 leaves the running statistics far behind
the weights), and one sigmoid output per structure, so structures may overlap (a lesion inside a lung).
"""

from __future__ import annotations

import keras
from keras import layers, ops

from medai.imaging.network import PerImageStandardization

BOTTLENECK_LAYER = "bottleneck"


def _conv_block(x, filters: int, name: str):
    for index in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv{index}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn{index}")(x)
        x = layers.Activation("relu", name=f"{name}_relu{index}")(x)
    return x


def build_unet(channels: int, structures: int, widths: tuple[int, ...] = (16, 32, 64, 128, 160),
               dropout: float = 0.1) -> keras.Model:
    """A U-Net for images of any size divisible by ``2 ** (len(widths) - 1)``.

    Parameters
    ----------
    channels : int
        Input channels (1 grey, 3 RGB); pixels in [0, 1], standardised per image inside the model.
    structures : int
        Output channels, one sigmoid probability per structure.
    widths : tuple of int
        Filters per level, top to bottom.

    Returns
    -------
    keras.Model
        (B, H, W, channels) -> (B, H, W, structures) probabilities.
    """
    inputs = keras.Input((None, None, channels), name="image")
    x = PerImageStandardization(name="standardise")(inputs)
    skips = []
    for level, filters in enumerate(widths[:-1]):
        x = _conv_block(x, filters, f"down{level}")
        skips.append(x)
        x = layers.MaxPooling2D(name=f"pool{level}")(x)
    x = layers.SpatialDropout2D(dropout, name="dropout")(x)
    x = _conv_block(x, widths[-1], BOTTLENECK_LAYER)
    for level in reversed(range(len(widths) - 1)):
        x = layers.UpSampling2D(interpolation="bilinear", name=f"up{level}")(x)
        x = layers.Concatenate(name=f"skip{level}")([x, skips[level]])
        x = _conv_block(x, widths[level], f"dec{level}")
    outputs = layers.Conv2D(structures, 1, activation="sigmoid", dtype="float32", name="masks")(x)
    return keras.Model(inputs, outputs, name="unet")


def dice_bce_loss(y_true, y_pred):
    """Soft Dice plus binary cross-entropy, over annotated channels only.

    ``y_true`` is (B, H, W, 2S): S 0/1 masks, then S weights (1 annotated, 0 not), so an image that
    lacks one structure's annotation still teaches the others. Dice is pooled over the batch per
    structure, which keeps thin and small structures (vessels, small lesions) from being swamped by
    background, and cross-entropy keeps the gradients smooth where Dice is flat.
    """
    structures = ops.shape(y_pred)[-1]
    truth, weight = y_true[..., :structures], y_true[..., structures:]
    probability = ops.clip(y_pred, 1e-6, 1.0 - 1e-6)
    cross_entropy = -(truth * ops.log(probability) + (1.0 - truth) * ops.log(1.0 - probability))
    cross_entropy = ops.sum(cross_entropy * weight) / ops.maximum(ops.sum(weight), 1.0)
    intersection = ops.sum(truth * probability * weight, axis=(0, 1, 2))
    total = ops.sum((truth + probability) * weight, axis=(0, 1, 2))
    dice = (2.0 * intersection + 1.0) / (total + 1.0)
    present = ops.cast(ops.sum(weight, axis=(0, 1, 2)) > 0, "float32")
    dice_loss = ops.sum((1.0 - dice) * present) / ops.maximum(ops.sum(present), 1.0)
    return dice_loss + cross_entropy
