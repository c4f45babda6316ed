"""Refusal and population checks: is the image a chest X-ray at all, and is it like the children's films?

Two questions, two outcomes (see :class:`RefusalModel`):

* **Refuse** when the image is not a chest X-ray at all: a rule (a non-radiograph DICOM modality,
  too few pixels, an absurd shape, colour, a blank image) or :class:`LinearDetector` ``chest_xray``,
  a logistic regression on the network's pooled features, the pixel-PCA scores and the three
  distance statistics, fitted on chest X-rays (paediatric training films and half of the adult
  patients of the COVID-19 CXR set) against other images (colonoscopy, ultrasound, fundus, faces
  and other photographs, noise); see :data:`medai.imaging.ood_sets.DETECTOR_NEGATIVES`.
* **Diagnose but flag** ``out of population`` when it is a chest X-ray unlike the paediatric
  training films: any of three statistics above the 99.9th percentile of validation X-rays —
  :class:`XrayLikeness` (Hotelling T^2 and Q residual of a PCA of 32 x 32 X-rays) and
  :class:`FeatureDistance` (Mahalanobis distance of pooled network features, Lee et al., NeurIPS
  2018) — or :class:`LinearDetector` ``adult_like`` (paediatric vs adult films) above the 99th
  percentile of validation X-rays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# scikit-learn is imported in the fit methods only: using a fitted model takes NumPy alone (and loading the
# classifier stays a quarter of a second quicker).

from medai.imaging.io import MedicalImage
from medai.imaging.preprocess import squash

MAX_COLORFULNESS = 12.0
MIN_CONTRAST = 0.03
MAX_ASPECT_RATIO = 3.0
MIN_READABLE_SIDE_PX = 128
RADIOGRAPH_MODALITIES = frozenset({"CR", "DX", "DR", "OT", "SC", ""})
MODALITY_NAMES = {
    "CT": "a CT", "MR": "an MR", "US": "an ultrasound", "NM": "a nuclear medicine", "PT": "a PET",
    "MG": "a mammography", "XA": "an X-ray angiography", "RF": "a fluoroscopy", "ES": "an endoscopy",
    "OP": "an ophthalmic", "OPT": "an optical coherence tomography", "XC": "an external-camera",
    "SM": "a slide microscopy", "IO": "an intra-oral", "PX": "a panoramic dental",
}


def modality_refusal(modality: str) -> str | None:
    """A refusal naming the DICOM ``Modality`` when it is not a plain radiograph, else ``None``."""
    code = modality.strip().upper()
    if code in RADIOGRAPH_MODALITIES:
        return None
    kind = MODALITY_NAMES.get(code, f"a {code}")
    return f"This DICOM is {kind} image (Modality {code}); the model reads chest radiographs (CR/DX)."


def refusal_rule(image: MedicalImage) -> str | None:
    """A plain reason to refuse ``image`` by simple rules, or ``None`` if none applies."""
    if image.format == "dicom" and (reason := modality_refusal(image.metadata.get("Modality", ""))):
        return reason
    height, width = image.full_shape
    if min(height, width) < MIN_READABLE_SIDE_PX:
        return (f"This image is only {width}x{height} pixels, too small to read a chest X-ray from; "
                f"upload one at least {MIN_READABLE_SIDE_PX} pixels on its shorter side.")
    if max(height, width) / min(height, width) > MAX_ASPECT_RATIO:
        return (f"This image is more than {MAX_ASPECT_RATIO:g} times as long on one side as on the other; "
                "that is not the shape of a chest X-ray.")
    if image.colorfulness > MAX_COLORFULNESS:
        return ("This is a colour image, but chest X-rays are grey-scale, so it was not read. A photograph is "
                "refused so; an X-ray that was tinted or saved in colour can be saved as grey-scale and uploaded again.")
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
        Fraction of validation X-rays within the population limits ``t2_limit_`` and ``q_limit_``.
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
        from sklearn.decomposition import PCA

        pca = PCA(self.n_components, random_state=0).fit(self.vectors(images))
        self.mean_, self.components_, self.variances_ = pca.mean_, pca.components_, pca.explained_variance_
        return self

    def project(self, images: list[np.ndarray]) -> np.ndarray:
        """(N, n_components + 2): the PCA scores, then Hotelling T^2 and the Q residual per pixel."""
        centred = self.vectors(images) - self.mean_
        scores = centred @ self.components_.T
        t_squared = np.sum(scores**2 / self.variances_, axis=1)
        residual = np.mean((centred - scores @ self.components_) ** 2, axis=1)
        return np.column_stack([scores, t_squared, residual])

    def statistics(self, images: list[np.ndarray]) -> np.ndarray:
        """(N, 2) array of [Hotelling T^2, Q residual per pixel] for each image."""
        return self.project(images)[:, -2:]

    def set_limits(self, images: list[np.ndarray]) -> "XrayLikeness":
        """Set the population limits at ``quantile`` of validation X-rays' statistics."""
        statistics = self.statistics(images)
        self.t2_limit_, self.q_limit_ = (float(v) for v in np.quantile(statistics, self.quantile, axis=0))
        return self

    def is_typical(self, images: list[np.ndarray]) -> np.ndarray:
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
        Fraction of validation X-rays within the population limit ``limit_``.
    """

    quantile: float = 0.999
    mean_: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    precision_: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    limit_: float = float("inf")

    def fit(self, features: np.ndarray) -> "FeatureDistance":
        """Fit on (N, D) features of training X-rays."""
        from sklearn.covariance import LedoitWolf

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


@dataclass
class LinearDetector:
    """Standardised L2 logistic regression; an input is *positive* when its log-odds is at least ``limit_``.

    Parameters
    ----------
    inverse_regularisation : float
        scikit-learn's ``C``.
    """

    inverse_regularisation: float = 0.1
    mean_: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    scale_: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    coef_: np.ndarray = field(default=None, repr=False)  # type: ignore[assignment]
    intercept_: float = 0.0
    limit_: float = 0.0

    def fit(self, inputs: np.ndarray, positive: np.ndarray, weights: np.ndarray) -> "LinearDetector":
        """Fit on (N, F) inputs, (N,) bool labels and (N,) sample weights (rescaled to mean 1)."""
        self.mean_, self.scale_ = inputs.mean(axis=0), np.maximum(inputs.std(axis=0), 1e-9)
        from sklearn.linear_model import LogisticRegression

        regression = LogisticRegression(C=self.inverse_regularisation, max_iter=5000).fit(
            (inputs - self.mean_) / self.scale_, positive.astype(int), sample_weight=weights / weights.mean())
        self.coef_, self.intercept_ = regression.coef_[0], float(regression.intercept_[0])
        return self

    def log_odds(self, inputs: np.ndarray) -> np.ndarray:
        """(N,) log-odds of the positive class for (N, F) inputs."""
        return (inputs - self.mean_) / self.scale_ @ self.coef_ + self.intercept_

    def is_positive(self, inputs: np.ndarray) -> np.ndarray:
        """(N,) bool: True where the log-odds reaches ``limit_``."""
        return self.log_odds(inputs) >= self.limit_

    def save(self, path: Path) -> None:
        """Write the fitted arrays to an ``.npz`` file (no pickle)."""
        np.savez(path, inverse_regularisation=self.inverse_regularisation, mean=self.mean_, scale=self.scale_,
                 coef=self.coef_, intercept=self.intercept_, limit=self.limit_)

    @classmethod
    def load(cls, path: Path) -> "LinearDetector":
        """Read a model written by :meth:`save`."""
        with np.load(path) as stored:
            model = cls(float(stored["inverse_regularisation"]))
            model.mean_, model.scale_, model.coef_ = stored["mean"], stored["scale"], stored["coef"]
            model.intercept_, model.limit_ = float(stored["intercept"]), float(stored["limit"])
        return model


@dataclass
class RefusalModel:
    """The two questions asked of every image that passes :func:`refusal_rule`.

    Attributes
    ----------
    likeness : XrayLikeness
        Pixel-space statistics with population limits.
    typicality : FeatureDistance
        Feature-space distance with a population limit.
    chest_xray : LinearDetector
        Positive = a chest X-ray (any age); a negative is refused.
    adult_like : LinearDetector
        Positive = unlike the paediatric training films; a positive is flagged.
    """

    likeness: XrayLikeness
    typicality: FeatureDistance
    chest_xray: LinearDetector
    adult_like: LinearDetector

    def describe(self, reduced: list[np.ndarray], features: np.ndarray) -> np.ndarray:
        """Detector inputs, (N, D + n_components + 3).

        Parameters
        ----------
        reduced : list of np.ndarray
            N images squashed to the training copies' size, (224, 224) floats in [0, 1].
        features : np.ndarray
            (N, D) pooled network features of the same images.

        Returns
        -------
        np.ndarray
            Features, PCA scores, then log T^2, log Q and log Mahalanobis distance.
        """
        projection = self.likeness.project(reduced)
        distance = self.typicality.distance(features)
        statistics = np.column_stack([projection[:, -2:], distance])
        return np.column_stack([features, projection[:, :-2], np.log(np.maximum(statistics, 1e-12))])

    def assess(self, reduced: list[np.ndarray], features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N,) bool ``is_chest_xray`` and (N,) bool ``out_of_population``; arguments as :meth:`describe`."""
        described = self.describe(reduced, features)
        log_limits = np.log([self.likeness.t2_limit_, self.likeness.q_limit_, self.typicality.limit_])
        beyond_limits = (described[:, -3:] > log_limits).any(axis=1)
        return self.chest_xray.is_positive(described), beyond_limits | self.adult_like.is_positive(described)

    def save(self, folder: Path, files: dict[str, str]) -> None:
        """Write the four parts to ``folder``; ``files`` maps part name (``"likeness"``...) to file name."""
        for part, name in files.items():
            getattr(self, part).save(folder / name)

    @classmethod
    def load(cls, folder: Path, files: dict[str, str]) -> "RefusalModel":
        """Read the parts written by :meth:`save`."""
        return cls(XrayLikeness.load(folder / files["likeness"]), FeatureDistance.load(folder / files["typicality"]),
                   LinearDetector.load(folder / files["chest_xray"]), LinearDetector.load(folder / files["adult_like"]))


REFUSAL_MESSAGE = (
    "This does not look like a chest X-ray, so the model will not judge it. "
    "Upload a frontal (PA or AP) chest radiograph."
)
