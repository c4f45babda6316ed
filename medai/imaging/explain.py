"""Grad-CAM (Selvaraju et al., 2017) for the ensemble, and the pictures made from it.

A heat map is the members' mean Grad-CAM on the network's coarse feature grid, rescaled so that each
image's own strongest cell is 1 ("rescaled per image"). :func:`fixed_scale` puts a map back on one
scale shared by every image, given the map's raw peak. Overlays are built at whatever size the
caller passes (the page passes a display-size copy, never the full-resolution film).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    import keras

# TensorFlow is imported by the Grad-CAM code only, so that drawing an overlay (the page, the PDF
# report) never waits for it while the model loads in the background.
# Raw Grad-CAM (a cell's contribution to the logit) shown as full red on the fixed scale: about the
# strongest cell seen on the 40 full-resolution validation films (0.33), with a little headroom.
FIXED_SCALE_PEAK = 0.4
DISPLAY_SIDE_PX = 768  # the long side of the copy a page keeps and redraws (the original is dropped)


class EnsembleGradCam:
    """Grad-CAM of every member in one traced function with a fixed input signature.

    One trace serves every batch size, so TensorFlow never retraces (nor warns that it does); see
    :mod:`medai.imaging.graphs` for when it is traced.

    Parameters
    ----------
    members : list of keras.Model
        Each maps (N, S, S, 1) images to (N, 1) logits and has a layer named ``CAM_LAYER``.
    """

    def __init__(self, members: list[keras.Model]):
        import keras
        import tensorflow as tf

        from medai.imaging.graphs import GraphWhenReady
        from medai.imaging.network import CAM_LAYER

        self._cam_models = [keras.Model(m.inputs, [m.get_layer(CAM_LAYER).output, m.output]) for m in members]
        signature = [tf.TensorSpec((None, *members[0].input_shape[1:]), tf.float32)]
        self.graph = GraphWhenReady(self._grad_cams, signature)

    def _grad_cams(self, images):
        import tensorflow as tf

        logits, cams = [], []
        for cam_model in self._cam_models:
            with tf.GradientTape() as tape:
                features, logit = cam_model(images, training=False)
            gradients = tape.gradient(logit, features)
            weights = tf.reduce_mean(gradients, axis=(1, 2), keepdims=True)
            logits.append(logit[:, 0])
            cams.append(tf.nn.relu(tf.reduce_sum(weights * features, axis=-1)))
        return tf.stack(logits, axis=1), tf.stack(cams, axis=1)

    def __call__(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Logits (N, n_members) and raw Grad-CAMs (N, n_members, h, w) for (N, S, S, 1) float32 images."""
        import tensorflow as tf

        logits, cams = self.graph(tf.constant(images, tf.float32))
        return logits.numpy(), cams.numpy()


def grad_cam_models(members: list[keras.Model]) -> EnsembleGradCam:
    """The ensemble's Grad-CAM, built once per model (kept by the classifier)."""
    return EnsembleGradCam(members)


def ensemble_cams(cam_models: EnsembleGradCam, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logits (N, n_members) and the members' mean raw Grad-CAM (N, h, w) for the pneumonia logit."""
    logits, cams = cam_models(images)
    return logits, cams.mean(axis=1)


def ensemble_grad_cam(cam_models: EnsembleGradCam, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logits and the members' mean Grad-CAM for the pneumonia logit, rescaled per image.

    Parameters
    ----------
    cam_models : EnsembleGradCam
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
    logits, cams = ensemble_cams(cam_models, images)
    return logits, per_image(cams)


def per_image(cams: np.ndarray) -> np.ndarray:
    """Scale each (h, w) map of a (N, h, w) stack by its own maximum (all-zero maps stay zero)."""
    peak = cams.max(axis=(1, 2), keepdims=True)
    return np.where(peak > 0, cams / np.maximum(peak, 1e-12), 0.0)


def fixed_scale(heatmap: np.ndarray, peak: float) -> np.ndarray:
    """A per-image map whose raw maximum was ``peak``, on the scale shared by all images, in [0, 1]."""
    return np.clip(heatmap * (peak / FIXED_SCALE_PEAK), 0.0, 1.0)


# Viridis (van der Walt & Smith), every tenth: its lightness rises steadily from dark purple to yellow, for
# readers with red-green colour blindness too. Under jet a deutan saw the peak (red) as a dark olive and the
# middle (yellow-green) as the brightest part, so the strongest area no longer stood out.
_VIRIDIS = ("#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c", "#22a884", "#44bf70", "#7ad151",
            "#bddf26", "#fde725")
_STOPS = np.array([[int(c[i:i + 2], 16) / 255.0 for i in (1, 3, 5)] for c in _VIRIDIS])


def heat_colours(values: np.ndarray) -> np.ndarray:
    """The heat-map colour map (viridis): (...) values in [0, 1] → (..., 3) RGB floats in [0, 1]."""
    positions = np.linspace(0.0, 1.0, len(_STOPS))
    return np.stack([np.interp(values, positions, _STOPS[:, k]) for k in range(3)], axis=-1)


_HEAT_TABLE = heat_colours(np.linspace(0.0, 1.0, 256)).astype(np.float32)


def heat_colorscale(stops: int = 11) -> list[tuple[float, str]]:
    """The colour map as a plotly colour scale, for a colour bar that matches the overlays."""
    positions = np.linspace(0.0, 1.0, stops)
    return [(float(x), "rgb({},{},{})".format(*np.rint(heat_colours(x) * 255).astype(int))) for x in positions]


def heatmap_at(heatmap: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Upsample an (h, w) heat map in [0, 1] to ``shape`` (H, W) with bicubic interpolation."""
    image = Image.fromarray(heatmap.astype(np.float32), mode="F").resize((shape[1], shape[0]), Image.BICUBIC)
    return np.clip(np.asarray(image), 0.0, 1.0)


def _display_size(height: int, width: int, max_side: int) -> tuple[int, int] | None:
    """(width, height) with the long side at ``max_side``; None when the image is no larger already."""
    factor = max_side / max(height, width)
    if factor >= 1.0:
        return None
    return max(1, round(width * factor)), max(1, round(height * factor))


def display_copy(pixels: np.ndarray, max_side: int = DISPLAY_SIDE_PX) -> np.ndarray:
    """An (H, W) float image in [0, 1] shrunk (area-averaged) so its long side is at most ``max_side``."""
    size = _display_size(*pixels.shape, max_side)
    if size is None:
        return pixels.astype(np.float32, copy=False)
    shrunk = Image.fromarray(pixels.astype(np.float32, copy=False), mode="F").resize(size, Image.BOX)
    return np.clip(np.asarray(shrunk), 0.0, 1.0)


def display_copy_rgb(rgb: np.ndarray, max_side: int = DISPLAY_SIDE_PX) -> np.ndarray:
    """An (h, w, 3) uint8 copy of (H, W, 3) ``rgb`` with its long side at most ``max_side``."""
    size = _display_size(*rgb.shape[:2], max_side)
    return rgb if size is None else np.asarray(Image.fromarray(rgb).resize(size, Image.BOX))


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
    levels = np.rint(heatmap_at(heatmap, pixels.shape) * 255).astype(np.uint8)
    blend = (1.0 - opacity) * pixels[..., np.newaxis] + opacity * _HEAT_TABLE[levels]
    return np.clip(np.rint(blend * 255.0), 0, 255).astype(np.uint8)


def heatmap_png(heatmap: np.ndarray, shape: tuple[int, int]) -> bytes:
    """The heat map at ``shape`` as a 16-bit grey PNG (0 = no evidence, 65535 = strongest)."""
    buffer = io.BytesIO()
    values = np.rint(heatmap_at(heatmap, shape) * 65535).astype(np.uint16)
    Image.fromarray(values).save(buffer, format="PNG")
    return buffer.getvalue()
