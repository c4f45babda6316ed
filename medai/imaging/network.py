"""The chest X-ray classifier network: a small residual, depthwise-separable CNN.

Built for two CPU cores: about 0.3 M parameters and 50 M multiply-adds at 128 x 128, so one image
takes a few milliseconds. Each image is standardised inside the model, so exposure differences
between hospitals matter less and the saved model needs no outside preprocessing constants.
"""

from __future__ import annotations

import keras
from keras import layers

CAM_LAYER = "cam_features"
FEATURE_LAYER = "pool"


@keras.saving.register_keras_serializable(package="medai")
class PerImageStandardization(layers.Layer):
    """Subtract each image's mean and divide by its standard deviation (floored at 1e-3)."""

    def call(self, inputs):
        mean = keras.ops.mean(inputs, axis=(1, 2, 3), keepdims=True)
        std = keras.ops.std(inputs, axis=(1, 2, 3), keepdims=True)
        return (inputs - mean) / keras.ops.maximum(std, 1e-3)


def _residual_block(x, filters: int, stride: int, name: str):
    shortcut = x
    x = layers.SeparableConv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"{name}_sep1")(x)
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn1")(x)
    x = layers.ReLU(name=f"{name}_relu1")(x)
    x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_sep2")(x)
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn2")(x)
    if stride != 1 or shortcut.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=f"{name}_proj")(shortcut)
        shortcut = layers.BatchNormalization(momentum=0.9, name=f"{name}_proj_bn")(shortcut)
    return layers.Add(name=f"{name}_add")([x, shortcut])


def build_classifier(input_size: int = 128, widths: tuple[int, ...] = (32, 64, 128, 192)) -> keras.Model:
    """Build the binary classifier.

    Parameters
    ----------
    input_size : int
        Side of the square grey input, in pixels.
    widths : tuple of int
        Channels of the four stages; every stage after the first halves the resolution.

    Returns
    -------
    keras.Model
        Input (N, input_size, input_size, 1) in [0, 1]; output (N, 1) logit of pneumonia.
        The layer named ``CAM_LAYER`` is the last (input_size/16)-square feature map, for Grad-CAM.
    """
    inputs = keras.Input((input_size, input_size, 1), name="image")
    x = PerImageStandardization(name="standardize")(inputs)
    x = layers.Conv2D(widths[0], 3, strides=2, padding="same", use_bias=False, name="stem")(x)
    x = layers.BatchNormalization(momentum=0.9, name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    x = layers.ReLU(name="stage0_out")(_residual_block(x, widths[0], 1, "stage0"))
    for index, filters in enumerate(widths[1:], start=1):
        x = layers.ReLU(name=f"stage{index}_in")(_residual_block(x, filters, 2, f"stage{index}a"))
        x = _residual_block(x, filters, 1, f"stage{index}b")
        x = layers.ReLU(name=CAM_LAYER if index == len(widths) - 1 else f"stage{index}_out")(x)
    x = layers.GlobalAveragePooling2D(name=FEATURE_LAYER)(x)
    x = layers.Dropout(0.3, name="dropout")(x)
    outputs = layers.Dense(1, name="logit")(x)
    return keras.Model(inputs, outputs, name="cxr_pneumonia_net")
