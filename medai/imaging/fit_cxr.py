"""Turn trained ensemble members into the shipped ``cxr-pneumonia`` model.

Calibrates the ensemble (Platt scaling) and picks the operating threshold (Youden's J) on the
patient-grouped validation split, fits the refusal model, measures everything, and writes
``spec.json`` (what the loader needs, with checksums) and ``card.json`` (the model card).
Validation metrics at the threshold are *cross-fitted*: calibration and threshold are fitted on one
half of the validation patients and scored on the other, so they are not scored on their own data.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import keras
import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import GroupKFold

from medai import calibration as cal
from medai.errors import MedAIError
from medai.imaging import network  # noqa: F401  registers custom layers
from medai.imaging.card_text import card_for
from medai.imaging.datasets import (LABELS, load_full_resolution_samples, load_training_set,
                                    split_by_patient)
from medai.imaging.io import read_image
from medai.imaging.ood import XrayLikeness, refusal_rule
from medai.imaging.ood_sets import IN_DISTRIBUTION_CHECKS, OOD_SETS
from medai.imaging.preprocess import batch
from medai.imaging.train_cxr import INPUT_SIZE, SPLIT_SEED, VALIDATION_FRACTION, predict_logits
from medai.registry import sha256_of

NAME = "cxr-pneumonia"
VERSION = "1.0.0"


def cross_fitted_metrics(logits: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    """Threshold metrics with calibration and threshold fitted on the other half of the patients."""
    probabilities = np.zeros(len(labels))
    thresholds = np.zeros(len(labels))
    for fit_index, score_index in GroupKFold(n_splits=2).split(logits, labels, groups):
        calibrator = cal.PlattCalibrator().fit(logits[fit_index], labels[fit_index])
        probabilities[score_index] = calibrator.predict(logits[score_index])
        thresholds[score_index] = cal.youden_threshold(calibrator.predict(logits[fit_index]), labels[fit_index])
    predicted = (probabilities >= thresholds).astype(float)
    metrics = cal.threshold_metrics(predicted, labels, 0.5)
    metrics["ece"] = cal.expected_calibration_error(probabilities, labels)
    metrics["brier"] = float(brier_score_loss(labels, probabilities))
    return {key: round(value, 4) for key, value in metrics.items()}


def refusal_rates(likeness: XrayLikeness, sets: dict) -> dict[str, dict[str, float]]:
    """Fraction of each image set refused (by rule or by the X-ray likeness model)."""
    rates = {}
    for name, images in sets.items():
        refused = total = 0
        for data in images():
            image = read_image(data)
            total += 1
            refused += refusal_rule(image) is not None or not bool(likeness.is_xray([image.pixels])[0])
        if total:
            rates[name] = {"images": total, "refused": round(refused / total, 4)}
    return rates


def full_resolution_check(members: list[keras.Model], calibrator: cal.PlattCalibrator, threshold: float,
                          squashed: dict[str, np.ndarray]) -> dict[str, float]:
    """Predict on the original full-resolution JPEGs; compare with their squashed training copies."""
    samples = load_full_resolution_samples()
    pixels = [read_image(path.read_bytes()).pixels for path, _ in samples]
    labels = np.array([label for _, label in samples])
    logits = np.mean([predict_logits(m, np.rint(batch(pixels, INPUT_SIZE)[..., 0] * 255).astype(np.uint8))
                      for m in members], axis=0)
    probabilities = calibrator.predict(logits)
    differences = []
    for (path, _), probability in zip(samples, probabilities):
        if path.name in squashed:
            copy_logit = np.mean([predict_logits(m, squashed[path.name][np.newaxis]) for m in members])
            differences.append(abs(probability - float(calibrator.predict(copy_logit))))
    unseen = np.array([path.name not in squashed for path, _ in samples])
    return {
        "images": len(samples),
        "accuracy_all": round(float(np.mean((probabilities >= threshold) == labels)), 4),
        "official_val_images": int(unseen.sum()),
        "official_val_accuracy": round(float(np.mean((probabilities[unseen] >= threshold) == labels[unseen])), 4),
        "squashed_copy_pairs": len(differences),
        "mean_abs_probability_difference": round(float(np.mean(differences)), 4),
        "max_abs_probability_difference": round(float(np.max(differences)), 4),
    }


def finalize(model_dir: Path, members_info: list[dict]) -> dict:
    """Calibrate, choose the threshold, fit refusal, measure, and write ``spec.json`` + ``card.json``."""
    data = load_training_set(INPUT_SIZE)
    train, validation = split_by_patient(data, VALIDATION_FRACTION, SPLIT_SEED)
    member_files = [f"member_{i}.keras" for i in range(len(members_info))]
    members = [keras.saving.load_model(model_dir / name, compile=False) for name in member_files]
    member_logits = np.stack([predict_logits(m, validation.images) for m in members], axis=1)
    logits, labels, groups = member_logits.mean(axis=1), validation.labels.astype(int), validation.groups
    calibrator = cal.PlattCalibrator().fit(logits, labels)
    probabilities = calibrator.predict(logits)
    threshold = cal.youden_threshold(probabilities, labels)
    auc = float(roc_auc_score(labels, probabilities))
    metrics = {
        "roc_auc": round(auc, 4),
        "roc_auc_95ci": [round(v, 4) for v in cal.bootstrap_interval(roc_auc_score, probabilities, labels, groups)],
        "member_roc_auc": [round(float(roc_auc_score(labels, member_logits[:, k])), 4) for k in range(len(members))],
        "at_threshold_cross_fitted": cross_fitted_metrics(logits, labels, groups),
        "at_threshold_in_sample": {k: round(v, 4) for k, v in cal.threshold_metrics(probabilities, labels, threshold).items()},
        "ece_uncalibrated": round(cal.expected_calibration_error(1 / (1 + np.exp(-logits)), labels), 4),
        "ece_calibrated": round(cal.expected_calibration_error(probabilities, labels), 4),
    }
    for name in ("accuracy", "sensitivity", "specificity"):
        metric = lambda y, p, name=name: cal.threshold_metrics(p, y, threshold)[name]  # noqa: E731
        metrics["at_threshold_in_sample"][f"{name}_95ci"] = [
            round(v, 4) for v in cal.bootstrap_interval(metric, probabilities, labels, groups)]

    likeness = XrayLikeness().fit(list(train.images / 255.0)).set_limits(list(validation.images / 255.0))
    likeness.save(model_dir / "xray_likeness.npz")
    squashed = dict(zip(data.files, data.images))
    evaluation = {
        "validation": metrics,
        "full_resolution_samples": full_resolution_check(members, calibrator, threshold, squashed),
        "refusal_rate_out_of_distribution": refusal_rates(likeness, OOD_SETS),
        "refusal_rate_other_chest_xrays": refusal_rates(likeness, IN_DISTRIBUTION_CHECKS),
        "refusal_rate_validation_xrays": round(1 - float(np.mean(likeness.is_xray(list(validation.images / 255.0)))), 4),
    }
    files = member_files + ["xray_likeness.npz"]
    spec = {
        "name": NAME, "version": VERSION, "task": "image-classification", "labels": list(LABELS),
        "input": {"formats": ["png", "jpeg", "dicom"], "size": INPUT_SIZE, "channels": 1,
                  "preprocess": "grey [0,1]; squash to 224x224 (bicubic) as train_224 was made, then "
                                f"{INPUT_SIZE}x{INPUT_SIZE} (bilinear); per-image standardisation inside the model"},
        "files": {name: sha256_of(model_dir / name) for name in files},
        "parameters": {"members": member_files, "refusal_model": "xray_likeness.npz", "threshold": round(threshold, 6),
                       "calibration": {"method": "platt", "slope": calibrator.slope_, "intercept": calibrator.intercept_}},
    }
    counts = {"train_images": len(train.labels), "validation_images": len(validation.labels),
              "train_patients": len(set(train.groups)), "validation_patients": len(set(validation.groups)),
              "validation_pneumonia_fraction": round(float(validation.labels.mean()), 4)}
    card = card_for(spec, counts, members_info, evaluation, dt.date.today().isoformat())
    (model_dir / "spec.json").write_text(json.dumps(spec, indent=2) + "\n")
    (model_dir / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    return card


def train(model_dir: Path, members: int = 3, epochs: int = 12, reuse_members: bool = False) -> dict:
    """Train (or reuse) ``members`` ensemble members, then :func:`finalize`. Runs on the CPU."""
    from medai.imaging.train_cxr import train_member

    infos = []
    for index in range(members):
        info_path = model_dir / f"member_{index}.json"
        if reuse_members:
            if not info_path.exists():
                raise MedAIError(f"No trained member {index} to reuse in {model_dir}.")
            infos.append(json.loads(info_path.read_text()))
            continue
        info = train_member(model_dir / f"member_{index}.keras", seed=100 + index, epochs=epochs)
        info_path.write_text(json.dumps(info) + "\n")
        infos.append(info)
    return finalize(model_dir, infos)
