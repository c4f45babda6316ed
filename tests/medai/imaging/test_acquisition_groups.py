"""Acquisition groups of the Kermany file names, the per-group figures, and the shipped card's section."""

from __future__ import annotations

import json

import numpy as np
import pytest

from medai import config
from medai.imaging.acquisition_groups import GROUP_PATTERNS, acquisition_group, group_metrics


@pytest.mark.parametrize(("name", "group"), [
    ("IM-0117-0001.jpeg", "normal, IM- files"), ("NORMAL2-IM-1436-0001.jpeg", "normal, NORMAL2-IM- files"),
    ("person1946_bacteria_4874.jpeg", "pneumonia, bacterial"), ("person1_virus_6.jpeg", "pneumonia, viral"),
    ("scan.png", "other")])
def test_file_names_give_the_group(name, group):
    assert acquisition_group(name) == group


def test_a_batch_the_model_finds_harder_shows_up():
    names = np.array(["IM-1-1.jpeg"] * 4 + ["NORMAL2-IM-1-1.jpeg"] * 4 + ["p_bacteria_1.jpeg"] * 4)
    labels = np.array([0] * 8 + [1] * 4)
    probabilities = np.array([0.1, 0.1, 0.2, 0.1, 0.6, 0.75, 0.2, 0.92, 0.8, 0.9, 0.95, 0.7])
    result = group_metrics(probabilities, labels, names, threshold=0.5)
    assert list(result) == ["normal, IM- files", "normal, NORMAL2-IM- files", "pneumonia, bacterial"]
    assert result["normal, IM- files"]["correct_at_threshold"] == 1.0
    assert result["normal, NORMAL2-IM- files"]["correct_at_threshold"] == 0.25
    assert result["normal, NORMAL2-IM- files"]["roc_auc_against_the_other_class"] == 0.75  # 12 of 16 pairs
    assert result["pneumonia, bacterial"]["films"] == 4


def test_the_shipped_card_reports_every_group():
    card = json.loads((config.MODELS_DIR / "cxr-pneumonia" / "card.json").read_text())
    groups = card["metrics"]["acquisition_groups"]
    assert list(groups) == list(GROUP_PATTERNS)
    assert sum(group["films"] for group in groups.values()) == card["data"]["validation_images"]
