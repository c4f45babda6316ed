"""Validate a segmentation model at the images' original size, and write its model card.

The validation images are read from their original files through :func:`medai.imaging.io.read_image`
and segmented by the same :class:`Segmenter` the app uses, so the figures describe the shipped path,
resizing included. Each structure's threshold is the one with the best mean Dice on validation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image

from medai import cards
from medai.imaging.io import read_image
from medai.imaging.segment.data import dataset_root, read_index
from medai.imaging.segment.measure import chest_findings, dice
from medai.imaging.segment.model import Segmentation, Segmenter, probability_at
from medai.imaging.segment.recipes import Recipe

THRESHOLDS = np.round(np.arange(0.2, 0.81, 0.05), 2)
BOOTSTRAP_ROUNDS = 2000


def _mask_file(root, structure: str, image_id: str) -> np.ndarray | None:
    path = root / "masks" / structure / f"{image_id}.png"
    if not path.is_file():
        return None
    with Image.open(path) as opened:
        return np.asarray(opened.convert("L")) >= 128


def bootstrap_ci(values: np.ndarray, rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0) -> list[float]:
    """95 % percentile interval of the mean of ``values`` (resampled images)."""
    rng = np.random.default_rng(seed)
    means = rng.choice(values, (rounds, len(values)), replace=True).mean(axis=1)
    return [float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))]


def validation_report(segmenter: Segmenter, recipe: Recipe, ids: np.ndarray,
                      thresholds: list[float] | None = None) -> dict[str, Any]:
    """Thresholds, per-structure Dice (mean, 95 % CI, n) and extra comparisons on validation images.

    A structure counts on an image only when that image is annotated for it (or a missing mask
    means "absent" for it, per the recipe). CHASE_DB1's second observer is scored against the first
    on the same images, as the human reference. ``thresholds`` (one per structure, on the grid)
    fixes the operating points instead of choosing them.
    """
    root = dataset_root(recipe.dataset)
    index = {row["id"]: row for row in read_index(root)}
    # per structure and threshold: one (Dice, overlap px, predicted + true px, truth present) per image
    scores: dict[str, dict[float, list[tuple[float, int, int, bool]]]] = {
        s: {t: [] for t in THRESHOLDS} for s in recipe.structures}
    observer: list[float] = []
    kept: list[tuple[str, tuple[int, int], np.ndarray]] = []
    refused = 0
    for image_id in ids:
        image = read_image((root / index[image_id]["image_file"]).read_bytes(), keep_colour=recipe.channels == 3)
        probabilities, _ = segmenter.run(segmenter.network_input(image)[None])
        kept.append((image_id, image.shape, probabilities))
        if segmenter.rule_refusal(image):
            refused += 1
        for channel, structure in enumerate(recipe.structures):
            truth = _mask_file(root, structure, image_id)
            if truth is None and structure not in recipe.empty_when_missing:
                continue
            truth = np.zeros(image.shape, bool) if truth is None else truth
            full = probability_at(probabilities[..., channel], image.shape)
            for threshold in THRESHOLDS:
                predicted = full >= threshold
                scores[structure][threshold].append((dice(predicted, truth), int((predicted & truth).sum()),
                                                     int(predicted.sum() + truth.sum()), bool(truth.any())))
        second = _mask_file(root, "vessels_observer2", image_id)
        if second is not None:
            observer.append(dice(second, _mask_file(root, "vessels", image_id)))
    report: dict[str, Any] = {"thresholds": [], "dice": {}, "refused_by_rules": refused, "images": len(ids)}
    for channel, structure in enumerate(recipe.structures):
        lesion = structure in recipe.empty_when_missing
        chosen = {t: v for t, v in scores[structure].items() if v}
        # Lesions are absent from many images: choose and report on pooled overlap, and per-image Dice
        # only where the lesion is present (an empty prediction on an empty image is not a success to average).
        quality = {t: (_pooled(v) if lesion else float(np.mean([row[0] for row in v]))) for t, v in chosen.items()}
        best = max(quality, key=quality.get) if quality else 0.5
        if thresholds is not None:
            best = min(quality, key=lambda t: abs(t - thresholds[channel])) if quality else thresholds[channel]
        rows = chosen.get(best, [])
        values = np.array([row[0] for row in rows if row[3] or not lesion])
        report["thresholds"].append(float(best))
        report["dice"][structure] = {"mean": float(values.mean()) if values.size else None,
                                     "ci95": bootstrap_ci(values) if values.size > 1 else None,
                                     "n": int(values.size)}
        if lesion and rows:
            report["dice"][structure].update(
                pooled=_pooled(rows), images_without=int(sum(not row[3] for row in rows)),
                empty_when_absent=float(np.mean([row[2] == 0 for row in rows if not row[3]] or [np.nan])))
    if {"right_lung", "left_lung", "cardiomediastinum"} <= set(recipe.structures):
        report["cardiothoracic_ratio"] = ratio_agreement(root, recipe, kept, report["thresholds"])
    if observer:
        report["observer2_dice"] = {"mean": float(np.mean(observer)), "ci95": bootstrap_ci(np.array(observer)),
                                    "n": len(observer)}
    return report


def _pooled(rows: list[tuple[float, int, int, bool]]) -> float:
    """Dice over all images' pixels together: 2 x total overlap / total predicted and true pixels."""
    total = sum(row[2] for row in rows)
    return 1.0 if total == 0 else 2.0 * sum(row[1] for row in rows) / total


def ratio_agreement(root, recipe: Recipe, kept: list[tuple[str, tuple[int, int], np.ndarray]],
                    thresholds: list[float]) -> dict[str, Any]:
    """Cardiothoracic ratio from predicted masks (validated thresholds) vs from the manual masks.

    Returns the mean absolute difference with its 95 % interval, and the (manual, predicted) pairs.
    """
    pairs = []
    for image_id, shape, probabilities in kept:
        truth = {s: _mask_file(root, s, image_id) for s in ("right_lung", "left_lung", "cardiomediastinum")}
        if any(mask is None for mask in truth.values()):
            continue
        predicted = Segmentation("ok", "", recipe.structures, tuple(thresholds), probabilities).masks(shape)
        manual_ratio, predicted_ratio = chest_findings(truth)["cardiothoracic_ratio"], chest_findings(predicted)["cardiothoracic_ratio"]
        if manual_ratio is not None and predicted_ratio is not None:
            pairs.append((manual_ratio, predicted_ratio))
    if not pairs:
        return {"n": 0}
    differences = np.abs(np.subtract(*np.array(pairs).T))
    return {"mean_abs_difference": float(differences.mean()),
            "ci95": bootstrap_ci(differences) if len(differences) > 1 else None, "n": len(pairs),
            "pairs": [[round(a, 4), round(b, 4)] for a, b in sorted(pairs)]}


def prediction_text(recipe: Recipe, report: dict[str, Any]) -> str:
    """How the model predicts, in a sentence, with what the mirror-image mean adds on validation."""
    if not recipe.flip:
        return "one pass of the network over the whole image"
    single = ", ".join(f"{name.replace('_', ' ')} {dice_:.3f}" for name, dice_ in report["dice_single_view"].items())
    return ("the mean of four passes: the image and its left-right, up-down and double mirror images, each answer "
            f"mirrored back (validation Dice with one pass: {single})")


def refusal_text(recipe: Recipe, refusal: dict[str, Any]) -> str:
    """What the model refuses and how often, in plain words (the figures are in metrics.validation.refusal)."""
    reasons = ["it is grey-scale (the model reads colour images)" if recipe.channels == 3 else "it is in colour"]
    if refusal["kind_check"]:
        reasons.append(f"a 16 × 16 thumbnail check ({refusal['kind_check']}) does not accept it")
    reasons.append("its network features lie beyond the training images'")
    if recipe.required:
        reasons.append(f"no {' or '.join(name.replace('_', ' ') for name in recipe.required)} is found")
    own = refusal["validation_refused"]
    others = "; ".join(f"{name} {round(row['share'] * row['n'])} of {row['n']}"
                       for name, row in refusal["other_kinds_refused"].items())
    listed = ", when ".join(reasons[:-1]) + ", or when " + reasons[-1]
    return (f"An image gets a message instead of a segmentation when {listed}. Refused: "
            f"{round(own['share'] * own['n'])} of {own['n']} validation images; of other kinds of image, {others}.")


def card_for(name: str, version: str, recipe: Recipe, report: dict[str, Any], training: dict[str, Any]) -> dict[str, Any]:
    """The model card: what it marks, on which data, how it was trained, validation Dice per structure."""
    headline = []
    for structure, result in report["dice"].items():
        if result["mean"] is None:
            continue
        baseline = {}
        if structure == "vessels" and "observer2_dice" in report:
            baseline = {"second human observer": report["observer2_dice"]["mean"]}
        images = "images showing it, " if "pooled" in result else ""
        headline.append(cards.headline(f"Dice, {structure.replace('_', ' ')} ({images}n={result['n']})", result["mean"],
                                       result["ci95"], baseline=baseline))
    ratio = report.get("cardiothoracic_ratio", {})
    curves = {}
    if ratio.get("n"):
        headline.append(cards.headline(f"Cardiothoracic ratio, mean |predicted − manual| (n={ratio['n']})",
                                       ratio["mean_abs_difference"], ratio["ci95"], higher_is_better=False))
        manual, predicted = zip(*ratio["pairs"])
        curves["parity"] = {"x": list(manual), "y": list(predicted)}
    return {
        "name": name, "version": version, "date": training["trained_on"],
        "summary": f"A U-Net that marks {', '.join(s.replace('_', ' ') for s in recipe.structures)} on {recipe.kind}.",
        "regulatory_status": "Research use only. Not a medical device.",
        "intended_use": "Research and teaching: an outline drawn for a person to check, with its area.",
        "not_intended_for": ["diagnosis or treatment decisions", f"images other than {recipe.kind}"],
        "data": {"dataset": recipe.dataset, "split": f"grouped by {recipe.group_column}, "
                 f"{recipe.validation_fraction:.0%} of groups for validation (seed {recipe.seed})",
                 "training_images": training["training_images"], "validation_images": training["validation_images"]},
        "recipe": {"network": f"U-Net, widths {list(recipe.widths)}, batch norm momentum 0.9",
                   "parameters": training["parameters"], "input": recipe.working_size,
                   "loss": "soft Dice + binary cross-entropy over annotated structures",
                   "prediction": prediction_text(recipe, report),
                   "refusal": refusal_text(recipe, report["refusal"]),
                   "augmentation": (f"rotation ±{recipe.degrees:g}°, zoom ±{recipe.zoom:.0%}, shift ±{recipe.shift:.0%}"
                                    f"{', flips' if recipe.flip else ''}{f', {recipe.crop}-px patches' if recipe.crop else ''}"
                                    ", gamma, contrast, brightness, noise"),
                   "schedule": f"{training['epochs']} epochs, batch {recipe.batch_size}, Adam with cosine decay "
                               f"from {recipe.learning_rate:g}",
                   "training_minutes_on_2_cpu_cores": training["training_minutes"],
                   "retrain": f"python -m medai train {name}", "trained_on": training["trained_on"]},
        "thresholds": dict(zip(recipe.structures, report["thresholds"])),
        "metrics": {"validation": cards.rounded(report)},
        "headline": headline,
        "curves": curves,
        "limitations": [
            "Dice is measured at each validation image's original size, with thresholds chosen on the same images.",
            "Validation sets are small; the intervals say how small.",
            *recipe.limitations,
        ],
        "citation": recipe.citation,
    }
