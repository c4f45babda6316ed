"""Leave one acquisition group out: which films a fold leaves out, and how a fold is scored."""

from __future__ import annotations

import json

import numpy as np
import pytest

from medai import calibration as cal
from medai import registry
from medai.imaging.datasets import ImageSet
from medai.imaging.fit_cxr import CALIBRATION_PREVALENCE
from medai.imaging.leave_group_out import NORMAL_GROUPS, in_group, scored


def test_a_group_is_picked_by_file_name():
    files = np.array(["IM-0001-0001.jpeg", "NORMAL2-IM-0002-0001.jpeg", "person1_virus_6.jpeg"])
    data = ImageSet(np.zeros((3, 2, 2), np.uint8), np.array([0, 0, 1], np.int8), files.copy(), files)
    assert in_group(data, "normal, NORMAL2-IM- files").tolist() == [False, True, False]
    assert in_group(data, "normal, IM- files").tolist() == [True, False, False]


def test_a_fold_is_scored_at_its_own_threshold_with_intervals():
    labels = np.array([0] * 6 + [1] * 6)
    probabilities = np.array([0.1, 0.2, 0.3, 0.6, 0.2, 0.1, 0.7, 0.8, 0.9, 0.4, 0.95, 0.85])
    result = scored(probabilities, labels, np.array([f"p{i}" for i in range(12)]), threshold=0.5)
    assert result["specificity"] == pytest.approx(5 / 6) and result["sensitivity"] == pytest.approx(5 / 6)
    assert result["roc_auc"] == pytest.approx(35 / 36)  # only 0.4 below one negative (0.6)
    low, high = result["specificity_95ci"]
    assert low <= 5 / 6 <= high and result["films"] == 12


def test_a_folds_calibration_error_is_weighted_to_the_calibrations_prior():
    labels = np.array([1] * 30 + [0] * 10)
    probabilities = np.r_[np.linspace(0.55, 0.95, 30), np.linspace(0.05, 0.6, 10)]
    result = scored(probabilities, labels, np.array([f"p{i}" for i in range(40)]), threshold=0.5)
    weighted = cal.expected_calibration_error(probabilities, labels, prevalence=CALIBRATION_PREVALENCE)
    assert weighted != pytest.approx(cal.expected_calibration_error(probabilities, labels))  # the weighting matters here
    assert result["ece"] == pytest.approx(weighted)


def test_the_shipped_card_reports_each_normal_group_left_out():
    card = json.loads((registry.get_spec("cxr-pneumonia").directory / "card.json").read_text())
    section = card["leave_one_group_out"]
    for group in NORMAL_GROUPS:
        unseen = section[group]["unseen_group_against_validation_of_other_class"]
        assert 0.5 < unseen["roc_auc"] <= 1 and unseen["films"] > section[group]["left_out_films"]
