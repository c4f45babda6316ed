"""A segmentation model's validation figures and card: thresholds, Dice and its interval, refusal and ratio text."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from medai.imaging.segment import evaluate
from tests.medai.imaging.segment.conftest import square, toy_dataset


class _FakeSegmenter:
    """Answers each image, in order, with the next of ``probabilities`` (one (H, W, S) array each)."""

    def __init__(self, probabilities: list[np.ndarray]):
        self.probabilities = probabilities

    def network_input(self, image):
        return image.pixels

    def run(self, batch):
        return self.probabilities.pop(0), None

    def rule_refusal(self, image):
        return None


def test_the_threshold_with_the_best_validation_dice_is_chosen(tmp_path, monkeypatch):
    truth = square() > 0.5
    root = toy_dataset(tmp_path, {"lung": {"a": truth, "b": truth}})
    monkeypatch.setattr(evaluate, "dataset_root", lambda name: root)
    recipe = SimpleNamespace(dataset="x", channels=1, structures=("lung",), empty_when_missing=())
    probabilities = [square(0.7, 0.3)[..., None] for _ in range(2)]  # exact for thresholds between 0.3 and 0.7
    report = evaluate.validation_report(_FakeSegmenter(probabilities), recipe, np.array(["a", "b"]))
    assert report["dice"]["lung"]["mean"] == pytest.approx(1.0) and 0.3 < report["thresholds"][0] <= 0.7


def test_lesion_dice_is_averaged_over_the_images_showing_the_lesion(tmp_path, monkeypatch):
    root = toy_dataset(tmp_path, {"lesion": {"a": square() > 0.5}})  # image b: no mask file, i.e. no lesion
    monkeypatch.setattr(evaluate, "dataset_root", lambda name: root)
    recipe = SimpleNamespace(dataset="x", channels=1, structures=("lesion",), empty_when_missing=("lesion",))
    probabilities = [square(0.9)[..., None], np.zeros((32, 32, 1), np.float32)]
    report = evaluate.validation_report(_FakeSegmenter(probabilities), recipe, np.array(["a", "b"]))
    assert report["dice"]["lesion"]["n"] == 1 and report["dice"]["lesion"]["images_without"] == 1


def test_pooled_dice_of_a_perfect_prediction_is_one():
    assert evaluate._pooled([(1.0, 10, 20, True), (1.0, 5, 10, True)]) == 1.0
    assert evaluate._pooled([(0.5, 5, 20, True)]) == 0.5


def test_the_dice_interval_is_a_two_sided_95_percent_one():
    values = np.random.default_rng(2).normal(0.8, 0.1, 400)
    low, high = evaluate.bootstrap_ci(values)
    se = values.std() / np.sqrt(400)
    assert 1.8 < (high - values.mean()) / se < 2.15 and 1.8 < (values.mean() - low) / se < 2.15


def test_the_card_says_a_grey_model_refuses_colour_images_and_a_colour_model_grey_ones():
    refusal = {"kind_check": None, "validation_refused": {"share": 0.0, "n": 10}, "other_kinds_refused": {}}
    grey = evaluate.refusal_text(SimpleNamespace(channels=1, required=()), refusal)
    colour = evaluate.refusal_text(SimpleNamespace(channels=3, required=()), refusal)
    assert "it is in colour" in grey and "grey-scale" not in grey
    assert "grey-scale" in colour and "it is in colour" not in colour


def test_a_larger_cardiothoracic_ratio_error_reads_as_worse_on_the_card():
    recipe = SimpleNamespace(structures=("right_lung", "left_lung", "cardiomediastinum"), kind="chest X-rays",
                             dataset="d", group_column="patient", validation_fraction=0.2, seed=0, widths=(8, 16),
                             working_size=256, flip=False, degrees=5, zoom=0.1, shift=0.05, crop=None, batch_size=4,
                             learning_rate=1e-3, limitations=[], citation="c", channels=1, required=())
    dice = {"mean": 0.9, "ci95": [0.85, 0.95], "n": 10}
    report = {"dice": {s: dict(dice) for s in recipe.structures}, "thresholds": [0.5, 0.5, 0.5],
              "refusal": {"kind_check": None, "validation_refused": {"share": 0.0, "n": 10}, "other_kinds_refused": {}},
              "cardiothoracic_ratio": {"mean_abs_difference": 0.03, "ci95": [0.02, 0.04], "n": 2,
                                       "pairs": [[0.4, 0.42], [0.5, 0.47]]}}
    training = {"trained_on": "2024-01-01", "training_images": 40, "validation_images": 10, "parameters": 1,
                "epochs": 1, "training_minutes": 1}
    card = evaluate.card_for("cxr-lungs", "1.0.0", recipe, report, training)
    (ratio,) = [h for h in card["headline"] if h["name"].startswith("Cardiothoracic ratio")]
    assert ratio["higher_is_better"] is False
    assert all(h["higher_is_better"] for h in card["headline"] if h["name"].startswith("Dice"))
