"""How the chest X-ray classifier holds up when the films change the way another hospital's would.

Also makes randomly changed copies of training films (:func:`varied_copies`) for the refusal model,
so that it does not take a framed or re-processed chest X-ray for something else.

Each check changes every validation film one way (re-compression, lost resolution, another tone
curve, a frame, equalisation, blur) and sends it through the shipped path (``predict``), so the
refusal and calibration count too. The model never saw the validation patients, and none of these
changes is tuned: they are fixed, plain versions of what differs between X-ray departments.
"""

from __future__ import annotations

import io
from typing import Callable

import numpy as np
from PIL import Image, ImageFilter, ImageOps
from sklearn.metrics import roc_auc_score

from medai import calibration as cal
from medai.imaging.io import MedicalImage
from medai.imaging.preprocess import to_unit_uint8

Change = Callable[[Image.Image], Image.Image]


def _jpeg(quality: int) -> Change:
    def change(image: Image.Image) -> Image.Image:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        return Image.open(io.BytesIO(buffer.getvalue())).convert("L")
    return change


def _gamma(gamma: float) -> Change:
    table = [round(255 * (level / 255) ** gamma) for level in range(256)]
    return lambda image: image.point(table)


def _half_resolution(image: Image.Image) -> Image.Image:
    return image.resize((image.width // 2, image.height // 2), Image.BOX).resize(image.size, Image.BILINEAR)


def _black_frame(image: Image.Image) -> Image.Image:
    side = round(0.08 * min(image.size))
    return ImageOps.expand(ImageOps.crop(image, side), side, fill=0)


CHANGES: dict[str, Change] = {
    "JPEG quality 30": _jpeg(30),
    "half resolution": _half_resolution,
    "gamma 0.6 (brighter)": _gamma(0.6),
    "gamma 1.6 (darker)": _gamma(1.6),
    "black frame, 8 % a side": _black_frame,
    "histogram equalised": ImageOps.equalize,
    "Gaussian blur, 1.5 px": lambda image: image.filter(ImageFilter.GaussianBlur(1.5)),
}


def random_variant(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """One film changed one random way, with random strength: wider ranges than :data:`CHANGES`, and
    white frames too. For fitting the refusal's chest X-ray detector, so that a framed, re-compressed or
    re-processed film is still known as a chest X-ray."""
    kind = int(rng.integers(6))
    if kind == 0:
        side = round(float(rng.uniform(0.03, 0.15)) * min(image.size))
        return ImageOps.expand(ImageOps.crop(image, side), side, fill=int(rng.choice([0, 255])))
    if kind == 1:
        return _jpeg(int(rng.integers(15, 60)))(image)
    if kind == 2:
        scale = float(rng.uniform(0.3, 0.7))
        reduced = (max(8, round(image.width * scale)), max(8, round(image.height * scale)))
        return image.resize(reduced, Image.BOX).resize(image.size, Image.BILINEAR)
    if kind == 3:
        return _gamma(float(np.exp(rng.uniform(-0.7, 0.7))))(image)
    if kind == 4:
        return ImageOps.equalize(image)
    return image.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.5, 2.5))))


def varied_copies(images: list[np.ndarray], count: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` (H, W) float films in [0, 1], each a :func:`random_variant` of a randomly chosen one of ``images``."""
    rng = np.random.default_rng(seed)
    copies = []
    for index in rng.choice(len(images), size=min(count, len(images)), replace=False):
        copies.append(np.asarray(random_variant(to_unit_uint8(images[index]), rng), np.float32) / 255.0)
    return copies


def scores(classifier, films: np.ndarray, change: Change | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(calibrated positive probabilities, decisions, flags) for (N, S, S) uint8 films; NaN / -1 where refused,
    flags True where the film was diagnosed but flagged outside the validated population."""
    images = []
    for pixels in films:
        picture = Image.fromarray(pixels, mode="L")
        picture = change(picture) if change else picture
        images.append(MedicalImage(np.asarray(picture, np.float32) / 255.0, "jpeg", ""))
    diagnoses = classifier.predict(images)
    probabilities = np.array([d.positive_probability if d.status == "ok" else np.nan for d in diagnoses])
    decisions = np.array([-1 if d.label is None else d.labels.index(d.label) for d in diagnoses])
    flags = np.array([bool(getattr(d, "out_of_population", False)) for d in diagnoses])
    return probabilities, decisions, flags


def shift_checks(classifier, films: np.ndarray, labels: np.ndarray,
                 prevalence: float | None = None) -> dict[str, dict[str, float]]:
    """Per change: ROC-AUC, accuracy and specificity at the threshold, ECE, shares refused and
    flagged, and the mean |change| of the probability.

    Parameters
    ----------
    classifier : ChestXrayClassifier
        The model as shipped.
    films : np.ndarray
        (N, S, S) uint8 validation films (their squashed copies).
    labels : np.ndarray
        (N,) 0/1 true labels.
    prevalence : float, optional
        The share of positives the probabilities are calibrated for; the ECE is weighted to it.
    """
    reference = scores(classifier, films)[0]
    results = {}
    for name, change in {"unchanged": None, **CHANGES}.items():
        probabilities, decisions, flags = scores(classifier, films, change)
        kept = ~np.isnan(probabilities)
        results[name] = {
            "roc_auc": round(float(roc_auc_score(labels[kept], probabilities[kept])), 4),
            "accuracy": round(float(np.mean(decisions[kept] == labels[kept])), 4),
            "specificity": round(float(np.mean(decisions[kept & (labels == 0)] == 0)), 4),
            "ece": round(cal.expected_calibration_error(probabilities[kept], labels[kept], prevalence=prevalence), 4),
            "refused": round(float(np.mean(~kept)), 4),
            "flagged_out_of_population": round(float(np.mean(flags)), 4),
            "mean_abs_probability_change": round(float(np.nanmean(np.abs(probabilities - reference))), 4),
        }
    return results
