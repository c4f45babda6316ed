"""Grad-CAM (Selvaraju et al., 2017) for the ensemble, and overlays at the original image size."""

from __future__ import annotations

import io

import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from medai.imaging.network import CAM_LAYER


def grad_cam_models(members: list[keras.Model]) -> list[keras.Model]:
    """For each member, a model returning (feature map (N, h, w, C), logit (N, 1))."""
    return [keras.Model(m.inputs, [m.get_layer(CAM_LAYER).output, m.output]) for m in members]


@tf.function(reduce_retracing=True)
def _grad_cam(cam_model, images):
    with tf.GradientTape() as tape:
        features, logits = cam_model(images, training=False)
    gradients = tape.gradient(logits, features)
    weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * features, axis=-1))
    return logits[:, 0], cam


def ensemble_grad_cam(cam_models: list[keras.Model], images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logits and the members' mean Grad-CAM for the pneumonia logit.

    Parameters
    ----------
    cam_models : list of keras.Model
        From :func:`grad_cam_models`.
    images : np.ndarray
        (N, S, S, 1) float32 in [0, 1].

    Returns
    -------
    logits : np.ndarray
        (N, n_members).
    heatmaps : np.ndarray
        (N, h, w) in [0, 1], each map scaled by its own maximum.
    """
    tensor = tf.constant(images, tf.float32)
    outputs = [_grad_cam(model, tensor) for model in cam_models]
    logits = np.stack([logit.numpy() for logit, _ in outputs], axis=1)
    cams = np.mean([cam.numpy() for _, cam in outputs], axis=0)
    peak = cams.max(axis=(1, 2), keepdims=True)
    return logits, np.where(peak > 0, cams / np.maximum(peak, 1e-12), 0.0)


def jet(values: np.ndarray) -> np.ndarray:
    """The 'jet' colour map: (...) values in [0, 1] → (..., 3) RGB floats in [0, 1]."""
    return np.stack([np.interp(values, [0.35, 0.66, 0.89, 1.0], [0.0, 1.0, 1.0, 0.5]),
                     np.interp(values, [0.125, 0.375, 0.64, 0.91], [0.0, 1.0, 1.0, 0.0]),
                     np.interp(values, [0.0, 0.11, 0.34, 0.65], [0.5, 1.0, 1.0, 0.0])], axis=-1)


def heatmap_at(heatmap: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Upsample an (h, w) heat map in [0, 1] to ``shape`` (H, W) with bicubic interpolation."""
    image = Image.fromarray(heatmap.astype(np.float32), mode="F").resize((shape[1], shape[0]), Image.BICUBIC)
    return np.clip(np.asarray(image), 0.0, 1.0)


def overlay(pixels: np.ndarray, heatmap: np.ndarray, opacity: float = 0.4) -> np.ndarray:
    """Blend a heat map over a grey image, at the image's own size.

    Parameters
    ----------
    pixels : np.ndarray
        (H, W) float in [0, 1].
    heatmap : np.ndarray
        (h, w) in [0, 1], any size.
    opacity : float
        0 shows only the image, 1 only the heat map.

    Returns
    -------
    np.ndarray
        (H, W, 3) uint8 RGB.
    """
    colours = jet(heatmap_at(heatmap, pixels.shape))
    grey = np.repeat(pixels[..., np.newaxis], 3, axis=2)
    blend = (1.0 - opacity) * grey + opacity * colours
    return np.clip(np.rint(blend * 255.0), 0, 255).astype(np.uint8)


def heatmap_png(heatmap: np.ndarray, shape: tuple[int, int]) -> bytes:
    """The heat map at ``shape`` as a 16-bit grey PNG (0 = no evidence, 65535 = strongest)."""
    buffer = io.BytesIO()
    values = np.rint(heatmap_at(heatmap, shape) * 65535).astype(np.uint16)
    Image.fromarray(values).save(buffer, format="PNG")
    return buffer.getvalue()
