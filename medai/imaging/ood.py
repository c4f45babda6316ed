"""Refusal: decide whether an image is a frontal chest X-ray the model may judge at all.

Three layers, each fitted on training X-rays only (no out-of-distribution examples are needed):
1. cheap rules: a colour image, a blank image, an extreme aspect ratio;
2. :class:`XrayLikeness`, a PCA of the image reduced to a 32 x 32 grid and standardised; an image is
   refused when its Hotelling T^2 (how unusual it is *within* the X-ray subspace) or its Q residual
   (how much of it the subspace cannot explain) exceeds the 99.9th percentile of validation X-rays;
3. :class:`FeatureDistance`, the Mahalanobis distance of the network's pooled features from those
   of training X-rays (Lee et al., NeurIPS 2018), with the same kind of limit. It catches grey images
   with X-ray-like layout that the pixel statistics pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.covariance import LedoitWolf
from sklearn.decomposition import PCA

from medai.imaging.io import MedicalImage
from medai.imaging.preprocess import squash

MAX_COLORFULNESS = 12.0
MIN_CONTRAST = 0.03
MAX_ASPECT_RATIO = 2.5


def refusal_rule(image: MedicalImage) -> str | None:
    """A plain reason to refuse ``image`` by simple rules, or ``None`` if none applies."""
    height, width = image.shape
    if max(height, width) / min(height, width) > MAX_ASPECT_RATIO:
        return "This image is far too wide or tall to be a chest X-ray."
    if image.colorfulness > MAX_COLORFULNESS:
        return "This is a colour image; chest X-rays are grey-scale. It looks like a photograph, not an X-ray."
    if float(image.pixels.std()) < MIN_CONTRAST:
        return "This image is blank or almost uniform; there is nothing to read."
    return None


@dataclass
class XrayLikeness:
    """PCA model of standardised 32 x 32 chest X-rays; fitted attributes end in ``_``.

    Parameters
    ----------
    grid : int
        Side of the reduced image, in pixels.
    n_components : int
        Principal components kept.
    quantile : float
        Fraction of validation X-rays that must pass (sets ``t2_limit_`` and ``q_limit_``).
    """

    grid: int = 32
    n_components: int = 24
    quantile: float = 0.999
    mean_: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    components_: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    variances_: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    t2_limit_: float = float("inf")
    q_limit_: float = float("inf")

    def vectors(self, images: list[np.ndarray]) -> np.ndarray:
        """(N, grid*grid) standardised vectors of (H, W) float images in [0, 1] of any size."""
        small = np.stack([squash(image, self.grid).ravel() for image in images]).astype(np.float64)
        small -= small.mean(axis=1, keepdims=True)
        return small / np.maximum(small.std(axis=1, keepdims=True), 1e-3)

    def fit(self, images: list[np.ndarray]) -> "XrayLikeness":
        """Fit the subspace on in-distribution X-rays, (H, W) floats in [0, 1]."""
        pca = PCA(self.n_components, random_state=0).fit(self.vectors(images))
        self.mean_, self.components_, self.variances_ = pca.mean_, pca.components_, pca.explained_variance_
        return self

    def statistics(self, images: list[np.ndarray]) -> np.ndarray:
        """(N, 2) array of [Hotelling T^2, Q residual per pixel] for each image."""
        centred = self.vectors(images) - self.mean_
        scores = centred @ self.components_.T
        t_squared = np.sum(scores**2 / self.variances_, axis=1)
        residual = np.mean((centred - scores @ self.components_) ** 2, axis=1)
        return np.column_stack([t_squared, residual])

    def set_limits(self, images: list[np.ndarray]) -> "XrayLikeness":
        """Set the refusal limits at ``quantile`` of validation X-rays' statistics."""
        statistics = self.statistics(images)
        self.t2_limit_, self.q_limit_ = (float(v) for v in np.quantile(statistics, self.quantile, axis=0))
        return self

    def is_xray(self, images: list[np.ndarray]) -> np.ndarray:
        """(N,) bool: True where both statistics are within their limits."""
        statistics = self.statistics(images)
        return (statistics[:, 0] <= self.t2_limit_) & (statistics[:, 1] <= self.q_limit_)

    def save(self, path: Path) -> None:
        """Write the fitted arrays to an ``.npz`` file (no pickle)."""
        np.savez(path, grid=self.grid, n_components=self.n_components, quantile=self.quantile,
                 mean=self.mean_, components=self.components_, variances=self.variances_,
                 limits=np.array([self.t2_limit_, self.q_limit_]))

    @classmethod
    def load(cls, path: Path) -> "XrayLikeness":
        """Read a model written by :meth:`save`."""
        with np.load(path) as stored:
            model = cls(int(stored["grid"]), int(stored["n_components"]), float(stored["quantile"]))
            model.mean_, model.components_ = stored["mean"], stored["components"]
            model.variances_ = stored["variances"]
            model.t2_limit_, model.q_limit_ = (float(v) for v in stored["limits"])
        return model


@dataclass
class FeatureDistance:
    """Mahalanobis distance of network features from the training X-rays' (shrunk covariance).

    Parameters
    ----------
    quantile : float
        Fraction of validation X-rays that must pass (sets ``limit_``).
    """

    quantile: float = 0.999
    mean_: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    precision_: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    limit_: float = float("inf")

    def fit(self, features: np.ndarray) -> "FeatureDistance":
        """Fit on (N, D) features of training X-rays."""
        estimate = LedoitWolf().fit(features)
        self.mean_, self.precision_ = estimate.location_, estimate.precision_
        return self

    def distance(self, features: np.ndarray) -> np.ndarray:
        """(N,) Mahalanobis distances of (N, D) features."""
        centred = features - self.mean_
        return np.sqrt(np.maximum(np.einsum("nd,de,ne->n", centred, self.precision_, centred), 0.0))

    def set_limit(self, features: np.ndarray) -> "FeatureDistance":
        """Set ``limit_`` at ``quantile`` of validation X-rays' distances."""
        self.limit_ = float(np.quantile(self.distance(features), self.quantile))
        return self

    def is_typical(self, features: np.ndarray) -> np.ndarray:
        """(N,) bool: True where the distance is within the limit."""
        return self.distance(features) <= self.limit_

    def save(self, path: Path) -> None:
        """Write the fitted arrays to an ``.npz`` file (no pickle)."""
        np.savez(path, quantile=self.quantile, mean=self.mean_, precision=self.precision_, limit=self.limit_)

    @classmethod
    def load(cls, path: Path) -> "FeatureDistance":
        """Read a model written by :meth:`save`."""
        with np.load(path) as stored:
            model = cls(float(stored["quantile"]))
            model.mean_, model.precision_, model.limit_ = stored["mean"], stored["precision"], float(stored["limit"])
        return model


REFUSAL_MESSAGE = (
    "This does not look like the frontal paediatric chest X-rays this model was trained on, so it will "
    "not judge it. Upload a frontal (PA or AP) chest radiograph of a child."
)
