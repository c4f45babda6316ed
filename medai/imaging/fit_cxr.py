"""Turn trained ensemble members into the shipped ``cxr-pneumonia`` model.

Calibrates the ensemble (Platt scaling, for a population where half the films show pneumonia:
``CALIBRATION_PREVALENCE``) and picks the operating threshold (Youden's J) on the patient-grouped
validation split, fits the refusal model (see :mod:`medai.imaging.ood` and
:func:`fit_refusal`), measures everything, and writes ``spec.json`` (what the loader needs, with
checksums) and ``card.json`` (the model card).
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
from medai import cards
from medai.errors import MedAIError
from medai.imaging import network  # noqa: F401  registers custom layers
from medai.imaging.acquisition_groups import group_metrics
from medai.imaging.card_text import card_for
from medai.imaging.datasets import (LABELS, load_full_resolution_samples, load_training_set,
                                    split_by_patient)
from medai.imaging.classify import ChestXrayClassifier
from medai.imaging.io import MedicalImage, read_image
from medai.imaging.notes import DISAGREEMENT_SD, NEAR_THRESHOLD_MARGIN
from medai.imaging.ood import FeatureDistance, LinearDetector, RefusalModel, XrayLikeness
from medai.imaging.ood_sets import DETECTOR_NEGATIVES, OOD_SETS, adult_chest_xrays
from medai.imaging.preprocess import TRAINING_COPY_SIZE, batch, squash
from medai.imaging.shift_checks import shift_checks, varied_copies
from medai.imaging.train_cxr import INPUT_SIZE, SPLIT_SEED, VALIDATION_FRACTION, predict_logits
from medai.registry import sha256_of

NAME = "cxr-pneumonia"
VERSION = "2.0.0"
# A new hospital's share of pneumonia among its films is unknown and is rarely the 71 % of the training
# hospital's validation split; the probabilities are calibrated for an even prior instead.
CALIBRATION_PREVALENCE = 0.5
POPULATION_FLAG_QUANTILE = 0.99
REFUSAL_FILES = {"likeness": "xray_likeness.npz", "typicality": "feature_distance.npz",
                 "chest_xray": "chest_xray_detector.npz", "adult_like": "adult_like_detector.npz"}
IMAGES_PER_CHUNK = 256
VARIED_COPIES = 1500


def cross_fitted_metrics(logits: np.ndarray, labels: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    """Threshold metrics with calibration and threshold fitted on the other half of the patients."""
    probabilities = np.zeros(len(labels))
    thresholds = np.zeros(len(labels))
    for fit_index, score_index in GroupKFold(n_splits=2).split(logits, labels, groups):
        calibrator = cal.PlattCalibrator().fit(logits[fit_index], labels[fit_index], CALIBRATION_PREVALENCE)
        probabilities[score_index] = calibrator.predict(logits[score_index])
        thresholds[score_index] = cal.youden_threshold(calibrator.predict(logits[fit_index]), labels[fit_index])
    predicted = (probabilities >= thresholds).astype(float)
    metrics = cal.threshold_metrics(predicted, labels, 0.5)
    metrics["ece"] = cal.expected_calibration_error(probabilities, labels, prevalence=CALIBRATION_PREVALENCE)
    metrics["brier"] = float(brier_score_loss(labels, probabilities))
    return cards.rounded(metrics)


def refusal_rates(classifier: ChestXrayClassifier, sets: dict) -> dict[str, dict[str, float]]:
    """Fraction of each image set that the classifier refuses."""
    rates = {}
    for name, images in sets.items():
        decoded = [read_image(data) for data in images()]
        if decoded:
            refused = [d.status == "refused" for d in classifier.predict(decoded)]
            rates[name] = {"images": len(decoded), "refused": round(float(np.mean(refused)), 4)}
    return rates


def outcome_rates(classifier: ChestXrayClassifier, images: list[MedicalImage]) -> dict[str, float]:
    """Fractions of chest X-rays refused and flagged ``out_of_population`` (the latter among all images)."""
    diagnoses = classifier.predict(images)
    return {"images": len(images),
            "refused": round(float(np.mean([d.status == "refused" for d in diagnoses])), 4),
            "flagged_out_of_population": round(float(np.mean([d.out_of_population for d in diagnoses])), 4)}


def network_features(classifier: ChestXrayClassifier, images: np.ndarray) -> np.ndarray:
    """(N, D) pooled features of (N, S, S) uint8 images, ``IMAGES_PER_CHUNK`` at a time to bound memory."""
    chunks = (images[start:start + IMAGES_PER_CHUNK] for start in range(0, len(images), IMAGES_PER_CHUNK))
    return np.concatenate([classifier.features(chunk[..., np.newaxis] / np.float32(255)) for chunk in chunks])


def detector_inputs(classifier: ChestXrayClassifier, images: list[np.ndarray]) -> np.ndarray:
    """(N, F) inputs of the refusal detectors for (H, W) images in [0, 1], computed as ``predict`` does."""
    parts = []
    for start in range(0, len(images), IMAGES_PER_CHUNK):
        reduced = [squash(image, TRAINING_COPY_SIZE) for image in images[start:start + IMAGES_PER_CHUNK]]
        parts.append(classifier.refusal.describe(reduced, classifier.features(batch(reduced, classifier.input_size))))
    return np.concatenate(parts)


def fit_refusal(classifier: ChestXrayClassifier, train_images: list[np.ndarray], validation_images: list[np.ndarray],
                adult_fit: list[np.ndarray], negatives: list[np.ndarray]) -> None:
    """Fit the two detectors of ``classifier.refusal`` (its likeness and typicality already fitted).

    ``chest_xray``: chest X-rays (paediatric training films, 15 % of the weight; ``VARIED_COPIES``
    randomly framed, re-compressed or re-processed copies of them, 10 %; the adult fit half, 25 %)
    against ``negatives`` (half the weight); its limit is the lowest log-odds of any unchanged chest
    X-ray it was fitted on, so every one of them is accepted (the copies teach the detector that a
    frame or a new tone curve does not make a film something else; they do not move the limit).
    ``adult_like``: adult fit half against paediatric training films (equal weight); its limit is the
    ``POPULATION_FLAG_QUANTILE`` quantile of paediatric validation films, so about 1 in 100 of them is flagged.
    All arguments are lists of (H, W) float images in [0, 1].
    """
    paediatric, adult = detector_inputs(classifier, train_images), detector_inputs(classifier, adult_fit)
    varied = detector_inputs(classifier, varied_copies(train_images, VARIED_COPIES))
    other = detector_inputs(classifier, negatives)
    shares = lambda *groups: np.concatenate([np.full(len(g), share / len(g)) for g, share in groups])  # noqa: E731
    chest_xrays = np.vstack([paediatric, adult])
    detector = classifier.refusal.chest_xray.fit(
        np.vstack([paediatric, varied, adult, other]),
        np.r_[np.ones(len(paediatric) + len(varied) + len(adult)), np.zeros(len(other))],
        shares((paediatric, 0.15), (varied, 0.10), (adult, 0.25), (other, 0.5)))
    detector.limit_ = float(detector.log_odds(chest_xrays).min())
    population = classifier.refusal.adult_like.fit(
        chest_xrays, np.r_[np.zeros(len(paediatric)), np.ones(len(adult))], shares((paediatric, 0.5), (adult, 0.5)))
    validation_odds = population.log_odds(detector_inputs(classifier, validation_images))
    population.limit_ = float(np.quantile(validation_odds, POPULATION_FLAG_QUANTILE))


def full_resolution_check(classifier: ChestXrayClassifier, squashed: dict[str, np.ndarray]) -> dict[str, float]:
    """Predict on the original full-resolution JPEGs; compare with their squashed training copies."""
    samples = load_full_resolution_samples()
    diagnoses = classifier.predict([read_image(path.read_bytes()) for path, _ in samples])
    labels = np.array([label for _, label in samples])
    correct = np.array([d.label == LABELS[label] for d, (_, label) in zip(diagnoses, samples)])
    differences = []
    for (path, _), diagnosis in zip(samples, diagnoses):
        if path.name in squashed and diagnosis.status == "ok":
            copy = classifier.member_logits(squashed[path.name][np.newaxis, ..., np.newaxis] / 255.0)
            copy_probability = float(classifier.calibrator.predict(copy.mean()))
            differences.append(abs(diagnosis.positive_probability - copy_probability))
    unseen = np.array([path.name not in squashed for path, _ in samples])
    return {
        "images": len(samples),
        "refused": int(sum(d.status == "refused" for d in diagnoses)),
        "accuracy_all": round(float(correct.mean()), 4),
        "official_val_images": int(unseen.sum()),
        "official_val_accuracy": round(float(correct[unseen].mean()), 4),
        "official_val_pneumonia_fraction": round(float(labels[unseen].mean()), 4),
        "squashed_copy_pairs": len(differences),
        "mean_abs_probability_difference": round(float(np.mean(differences)), 4),
        "max_abs_probability_difference": round(float(np.max(differences)), 4),
    }


def validation_metrics(member_logits: np.ndarray, labels: np.ndarray, groups: np.ndarray,
                       calibrator: cal.PlattCalibrator, threshold: float) -> dict:
    """Discrimination, calibration and threshold metrics on the validation split, with 95 % CIs."""
    logits = member_logits.mean(axis=1)
    probabilities = calibrator.predict(logits)
    in_sample = cal.threshold_metrics(probabilities, labels, threshold)
    for name in ("accuracy", "sensitivity", "specificity"):
        metric = lambda y, p, name=name: cal.threshold_metrics(p, y, threshold)[name]  # noqa: E731
        in_sample[f"{name}_95ci"] = cal.bootstrap_interval(metric, probabilities, labels, groups)
    return cards.rounded({
        "roc_auc": roc_auc_score(labels, probabilities),
        "roc_auc_95ci": cal.bootstrap_interval(roc_auc_score, probabilities, labels, groups),
        "member_roc_auc": [roc_auc_score(labels, member_logits[:, k]) for k in range(member_logits.shape[1])],
        "at_threshold_cross_fitted": cross_fitted_metrics(logits, labels, groups),
        "at_threshold_in_sample": in_sample,
        "ece_uncalibrated": cal.expected_calibration_error(1 / (1 + np.exp(-logits)), labels,
                                                           prevalence=CALIBRATION_PREVALENCE),
        "ece_calibrated": cal.expected_calibration_error(probabilities, labels, prevalence=CALIBRATION_PREVALENCE),
        "ece_calibrated_at_validation_prevalence": cal.expected_calibration_error(probabilities, labels),
        "calibrated_for_prevalence": CALIBRATION_PREVALENCE,
        "brier_calibrated": brier_score_loss(labels, probabilities),
    })


def in_sample(name: str, cross_fitted: float) -> str:
    """A figure at the threshold chosen on the same films, named with its cross-fitted value beside it."""
    return f"{name} at the threshold (chosen on these films; cross-fitted {cross_fitted:.3f})"


def card_sections(validation: dict, probabilities: np.ndarray, labels: np.ndarray, threshold: float) -> dict:
    """``headline``, ``confusion`` and ``curves`` (see :mod:`medai.cards`) on the validation split.

    ``probabilities`` are the (N,) calibrated positive-class probabilities, ``labels`` (N,) 0/1.
    """
    at_threshold, crossed = validation["at_threshold_in_sample"], validation["at_threshold_cross_fitted"]
    majority = {"always pneumonia": float(labels.mean())}
    # The threshold and calibration were fitted on these films: beside each figure, the cross-fitted one
    # (fitted on half the patients, scored on the other half), which does not share that optimism.
    return {
        "headline": [
            cards.headline("ROC-AUC", validation["roc_auc"], validation["roc_auc_95ci"], baseline={"chance": 0.5}),
            cards.headline(in_sample("Accuracy", crossed["accuracy"]), at_threshold["accuracy"],
                           at_threshold["accuracy_95ci"], baseline=majority),
            cards.headline(in_sample("Sensitivity", crossed["sensitivity"]), at_threshold["sensitivity"],
                           at_threshold["sensitivity_95ci"]),
            cards.headline(in_sample("Specificity", crossed["specificity"]), at_threshold["specificity"],
                           at_threshold["specificity_95ci"]),
            cards.headline("Expected calibration error (50 % prevalence)", validation["ece_calibrated"],
                           higher_is_better=False,
                           baseline={"uncalibrated": validation["ece_uncalibrated"]}),
        ],
        "confusion": cards.confusion(labels, (probabilities >= threshold).astype(int), LABELS, threshold),
        "curves": {"roc": cards.roc_points(labels, probabilities),
                   "reliability": cards.reliability_points(
                       labels, probabilities, weights=cal.prevalence_weights(labels, CALIBRATION_PREVALENCE))},
    }


def note_rates(member_logits: np.ndarray, labels: np.ndarray, calibrator: cal.PlattCalibrator,
                threshold: float) -> dict[str, dict[str, float]]:
    """How often each reading note (:mod:`medai.imaging.notes`) fires on validation, and how often the
    decision is wrong when it does and when it does not. ``member_logits`` is (N, n_members)."""
    probability = calibrator.predict(member_logits.mean(axis=1))
    wrong = (probability >= threshold).astype(int) != labels
    fired = {"members disagree": calibrator.predict(member_logits).std(axis=1) > DISAGREEMENT_SD,
             "near the threshold": np.abs(probability - threshold) < NEAR_THRESHOLD_MARGIN}
    return {name: {"share_of_films": round(float(on.mean()), 4),
                   "wrong_when_noted": round(float(wrong[on].mean()), 4) if on.any() else None,
                   "wrong_otherwise": round(float(wrong[~on].mean()), 4)} for name, on in fired.items()}


def validation_copies(files: np.ndarray) -> np.ndarray:
    """(N, 224, 224) uint8 squashed training copies of the validation films named ``files``, in order."""
    copies = load_training_set(TRAINING_COPY_SIZE)
    row = {name: index for index, name in enumerate(copies.files)}
    return copies.images[[row[name] for name in files]]


def finalize(model_dir: Path, members_info: list[dict]) -> dict:
    """Calibrate, choose the threshold, fit refusal, measure, and write ``spec.json`` + ``card.json``."""
    data = load_training_set(INPUT_SIZE)
    train, validation = split_by_patient(data, VALIDATION_FRACTION, SPLIT_SEED)
    member_files = [f"member_{i}.keras" for i in range(len(members_info))]
    members = [keras.saving.load_model(model_dir / name, compile=False) for name in member_files]
    member_logits = np.stack([predict_logits(m, validation.images) for m in members], axis=1)
    labels, groups = validation.labels.astype(int), validation.groups
    ensemble_logits = member_logits.mean(axis=1)
    calibrator = cal.PlattCalibrator().fit(ensemble_logits, labels, CALIBRATION_PREVALENCE)
    threshold = cal.youden_threshold(calibrator.predict(ensemble_logits), labels)

    train_images, validation_images = list(train.images / np.float32(255)), list(validation.images / np.float32(255))
    refusal = RefusalModel(XrayLikeness().fit(train_images).set_limits(validation_images), FeatureDistance(),
                           LinearDetector(), LinearDetector())
    classifier = ChestXrayClassifier(members, calibrator, threshold, refusal)
    refusal.typicality.fit(network_features(classifier, train.images)).set_limit(
        network_features(classifier, validation.images))
    adult_fit, adult_held_back, held_back_patients = adult_chest_xrays()
    negatives = [read_image(data).pixels for images in DETECTOR_NEGATIVES.values() for data in images()]
    fit_refusal(classifier, train_images, validation_images, [read_image(d).pixels for d in adult_fit], negatives)
    refusal.save(model_dir, REFUSAL_FILES)

    validation_outcomes = outcome_rates(classifier, [MedicalImage(i, "jpeg", "") for i in validation_images])
    samples = [read_image(path.read_bytes()) for path, _ in load_full_resolution_samples()]
    validation_probabilities = calibrator.predict(ensemble_logits)
    evaluation = {
        "validation": validation_metrics(member_logits, labels, groups, calibrator, threshold),
        "full_resolution_samples": full_resolution_check(classifier, dict(zip(data.files, data.images))),
        "shift_checks_on_validation": shift_checks(classifier, validation_copies(validation.files), labels,
                                                   CALIBRATION_PREVALENCE),
        "reading_notes_on_validation": note_rates(member_logits, labels, calibrator, threshold),
        "acquisition_groups": group_metrics(validation_probabilities, labels, validation.files, threshold),
        "refusal_rate_validation_xrays": validation_outcomes["refused"],
        "flag_rate_validation_xrays": validation_outcomes["flagged_out_of_population"],
        "refusal_rate_out_of_distribution": refusal_rates(classifier, OOD_SETS),
        "chest_xrays_refused_or_flagged": {
            "paediatric validation films (squashed training copies)": validation_outcomes,
            "paediatric full-resolution samples": outcome_rates(classifier, samples),
            "adult chest X-rays, held-back patients (COVID-19 CXR)": {
                **outcome_rates(classifier, [read_image(d) for d in adult_held_back]), "patients": held_back_patients},
            "adult chest X-rays, fit half (used to fit the detectors)": outcome_rates(
                classifier, [read_image(d) for d in adult_fit]),
        },
    }
    files = member_files + list(REFUSAL_FILES.values())
    spec = {
        "name": NAME, "version": VERSION, "task": "image-classification",
        "loader": "medai.imaging.loader:load_chest_xray_classifier", "trainer": "medai.imaging.fit_cxr:train",
        "labels": list(LABELS),
        "input": {"formats": ["png", "jpeg", "dicom"], "size": INPUT_SIZE, "channels": 1,
                  "preprocess": "grey [0,1] (a JPEG may be decoded at 1/2, 1/4 or 1/8 scale, never below "
                                "224 px a side); squash to 224x224 (bicubic) as train_224 was made, then "
                                f"{INPUT_SIZE}x{INPUT_SIZE} (bilinear); per-image standardisation inside the model"},
        "files": {name: sha256_of(model_dir / name) for name in files},
        "parameters": {"members": member_files, "refusal": REFUSAL_FILES, "threshold": round(threshold, 6),
                       "calibration": {"method": "platt", "slope": calibrator.slope_, "intercept": calibrator.intercept_}},
    }
    counts = {"train_images": len(train.labels), "validation_images": len(validation.labels),
              "train_patients": len(set(train.groups)), "validation_patients": len(set(validation.groups)),
              "validation_pneumonia_fraction": round(float(validation.labels.mean()), 4)}
    sections = card_sections(evaluation["validation"], validation_probabilities, labels, threshold)
    card = card_for(spec, counts, members_info, evaluation, sections, dt.date.today().isoformat())
    (model_dir / "spec.json").write_text(json.dumps(spec, indent=2) + "\n")
    (model_dir / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    return card


def train(model_dir: Path, members: int = 5, epochs: int = 12, reuse_members: bool = False,
          extra_data: Path | None = None) -> dict:
    """Train (or reuse) ``members`` ensemble members, then :func:`finalize`. Runs on the CPU.

    ``extra_data``: a feedback export folder whose images join each member's training split.
    """
    from medai.imaging.train_cxr import train_member

    infos = []
    for index in range(members):
        info_path = model_dir / f"member_{index}.json"
        if reuse_members:
            if not info_path.exists():
                raise MedAIError(f"No trained member {index} to reuse in {model_dir}.")
            infos.append(json.loads(info_path.read_text()))
            continue
        info = train_member(model_dir / f"member_{index}.keras", seed=100 + index, epochs=epochs, extra_data=extra_data)
        info_path.write_text(json.dumps(info) + "\n")
        infos.append(info)
    return finalize(model_dir, infos)
