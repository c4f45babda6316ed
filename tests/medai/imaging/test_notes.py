"""Reading notes say what they measure: members disagreeing vs a score near the threshold."""

from __future__ import annotations

import numpy as np
import pytest

from medai.imaging.classify import Diagnosis
from medai.imaging.notes import DISAGREEMENT_SD, NEAR_THRESHOLD_MARGIN, member_spread, reading_notes

THRESHOLD = 0.86


def _diagnosis(p: float, sd: float, status: str = "ok") -> Diagnosis:
    probabilities = np.array([1 - p, p]) if status == "ok" else None
    return Diagnosis(status, ("normal", "pneumonia"), probabilities, "pneumonia" if p >= THRESHOLD else "normal",
                     sd if status == "ok" else None, THRESHOLD, None, "")


def test_confident_answer_far_from_the_threshold_has_no_note():
    assert reading_notes(_diagnosis(0.02, 0.01)) == []


def test_high_score_with_spread_members_says_they_disagree_not_that_it_is_borderline():
    # the case: p = 0.98 against a threshold of 0.86 was called "close to the threshold"
    (note,) = reading_notes(_diagnosis(0.98, 0.12), members=5)
    assert note.startswith("The five members disagree") and "SD 12.0 percentage points" in note
    assert "threshold" not in note


def test_score_near_the_threshold_with_agreeing_members_says_near_the_threshold():
    (note,) = reading_notes(_diagnosis(THRESHOLD - NEAR_THRESHOLD_MARGIN / 2, 0.01))
    assert note.startswith("The score is near the threshold") and f"threshold {100 * THRESHOLD:.1f} %" in note


def test_both_notes_in_a_fixed_order():
    notes = reading_notes(_diagnosis(THRESHOLD + 0.01, DISAGREEMENT_SD + 0.05))
    assert [n.split(":")[0] for n in notes] == ["The ensemble members disagree", "The score is near the threshold"]


@pytest.mark.parametrize("p, sd", [(THRESHOLD + NEAR_THRESHOLD_MARGIN, 0.0), (0.5, DISAGREEMENT_SD)])
def test_limits_are_exclusive(p, sd):
    assert reading_notes(_diagnosis(p, sd)) == []


def test_refusal_gets_no_note():
    assert reading_notes(_diagnosis(0.5, 0.3, status="refused")) == []


def test_notes_print_in_the_pdf_core_fonts():
    for note in reading_notes(_diagnosis(THRESHOLD, 0.3), members=5):
        note.encode("latin-1")


def test_the_spread_is_said_as_the_members_range_never_as_plus_or_minus():
    # "p = 0.14 ± 0.22" read as a range below zero; the models' lowest and highest cannot, and the count
    # at or above the threshold says at once whether any of them would call it the other way
    diagnosis = _diagnosis(0.14, 0.22)
    assert member_spread(diagnosis) == "SD 22.0 percentage points across the ensemble's models"
    spread = Diagnosis(*[getattr(diagnosis, f) for f in ("status", "labels", "probabilities", "label", "uncertainty",
                                                         "threshold", "heatmap", "message")],
                       member_probabilities=(0.03, 0.05, 0.08, 0.1, 0.9))
    assert member_spread(spread) == ("the 5 models give 3.0–90.0 % (SD 22.0 percentage points); 1 of 5 at or above "
                                     "the threshold")
    assert member_spread(_diagnosis(0.5, 0.0, status="refused")) == ""


def test_a_probability_never_reads_as_certainty():
    from medai.imaging.notes import percent

    assert [percent(p) for p in (0.9998, 0.99999, 0.0004, 0.5234, 1.0)] == ["99.98 %", "99.999 %", "0.04 %", "52.3 %",
                                                                          "100.0 %"]


def test_the_members_range_runs_from_the_lowest_to_the_highest():
    from types import SimpleNamespace

    diagnosis = SimpleNamespace(uncertainty=0.2, member_probabilities=[0.6, 0.03, 0.3], threshold=0.5)
    assert member_spread(diagnosis).startswith("the 3 models give 3.0–60.0 %")
