"""Is an image of the kind a segmentation model reads? A logistic regression on a 16 × 16 thumbnail.

The U-Net's own features tell a chest film or a colonoscopy frame from noise, but not always from
another kind of medical image: the distances of colonoscopy frames (8.0–13.1) and of fundus
photographs (8.6–14.0) overlap under the polyp model's limit of 22.4, so it marked an optic disc as a
polyp, and the lung model took 39 % of grey colonoscopy frames for chest films. A thumbnail keeps
what tells such kinds apart at a glance (a bright disc on black, a lit lumen, a thorax) and looks the
same whether an image came at 28 px (RetinaMNIST, used to fit) or 1,000 px (CHASE_DB1, used only to
measure). Grey images are read as three equal channels.

Weights are plain arrays (no pickle), so the registry's checksum covers everything that is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

THUMBNAIL_SIDE = 16
MIN_PROBABILITY = 0.5


def thumbnail(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 → (768,) float32 in [0, 1]: the image squashed to 16 × 16 (bilinear), RGB order."""
    small = Image.fromarray(np.ascontiguousarray(rgb[..., :3])).resize((THUMBNAIL_SIDE, THUMBNAIL_SIDE),
                                                                      Image.BILINEAR)
    return np.asarray(small, np.float32).ravel() / 255.0


@dataclass
class KindCheck:
    """Logistic regression of "the model's kind of image" on standardised thumbnails.

    Attributes
    ----------
    mean_, scale_ : ndarray, shape (768,)
        Standardisation fitted on the fitting thumbnails.
    coef_ : ndarray, shape (768,)
    intercept_ : float
    """

    mean_: np.ndarray = field(default_factory=lambda: np.zeros(0))
    scale_: np.ndarray = field(default_factory=lambda: np.ones(0))
    coef_: np.ndarray = field(default_factory=lambda: np.zeros(0))
    intercept_: float = 0.0

    def fit(self, positives: np.ndarray, negatives: np.ndarray) -> "KindCheck":
        """Fit on thumbnails (n, 768) of the model's training images and (m, 768) of other kinds
        (classes weighted equally, L2 penalty C = 1)."""
        from sklearn.linear_model import LogisticRegression  # here: checking needs NumPy only
        from sklearn.preprocessing import StandardScaler

        features = np.concatenate([positives, negatives])
        target = np.r_[np.ones(len(positives)), np.zeros(len(negatives))]
        scaler = StandardScaler().fit(features)
        regression = LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000)
        regression.fit(scaler.transform(features), target)
        self.mean_, self.scale_ = scaler.mean_, scaler.scale_
        self.coef_, self.intercept_ = regression.coef_[0], float(regression.intercept_[0])
        return self

    def probability(self, thumbnails: np.ndarray) -> np.ndarray:
        """(n,) probability that each (n, 768) thumbnail shows the model's kind of image."""
        logits = ((thumbnails - self.mean_) / self.scale_) @ self.coef_ + self.intercept_
        return 1.0 / (1.0 + np.exp(-logits))

    def accepts(self, rgb: np.ndarray) -> bool:
        """Whether one (H, W, 3) uint8 image passes (probability ≥ ``MIN_PROBABILITY``)."""
        return bool(self.probability(thumbnail(rgb)[None])[0] >= MIN_PROBABILITY)

    def save(self, path: Path) -> None:
        np.savez(path, mean=self.mean_, scale=self.scale_, coef=self.coef_, intercept=np.array(self.intercept_))

    @classmethod
    def load(cls, path: Path) -> "KindCheck":
        with np.load(path) as saved:
            return cls(saved["mean"], saved["scale"], saved["coef"], float(saved["intercept"]))
