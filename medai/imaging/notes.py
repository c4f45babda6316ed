"""Reading notes: when to tell the reader that one answer deserves extra care, and why, in one place.

Two questions, kept apart because they fail differently:

* **the members disagree** — the standard deviation of the calibrated probability across the ensemble
  members is above :data:`DISAGREEMENT_SD`. On the 759 validation films of ``cxr-pneumonia`` 1.0.0 this
  flags 6.7 % of films, of which 31 % were decided wrongly (0.9 % of the others);
* **the score is near the threshold** — ``|p - threshold|`` is below :data:`NEAR_THRESHOLD_MARGIN`: a small
  change in the image could flip the decision. On the same films this flags 1.4 %, 18 % of them wrong.

Each version's model card measures both on its validation films (``reading_notes_on_validation``).
The Diagnose page and the PDF report both call :func:`reading_notes`, so they say the same thing. The
sentences use Latin-1 characters only, so the PDF's core fonts can print them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from medai.imaging.classify import Diagnosis

# The population flag's sentence (set by the classifier, shown by the page, the PDF and the CSV); kept in
# this light module so that drawing it never imports the refusal models' scikit-learn.
OUT_OF_POPULATION_MESSAGE = (
    "Outside the validated population: this chest X-ray is unlike the children's films (aged 1 to 5) "
    "the model was trained and validated on, e.g. an adult's; the result is untested for it."
)
DISAGREEMENT_SD = 0.10
NEAR_THRESHOLD_MARGIN = 0.05
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def percent_number(p: float) -> str:
    """``p`` (0-1) in per cent, with as many decimals (1 to 3) as it takes not to read 0 or 100 unless it is."""
    for digits in (1, 2, 3):
        text = f"{100 * p:.{digits}f}"
        if 0 < float(text) < 100 or p in (0.0, 1.0):
            return text
    return "> 99.999" if p > 0.5 else "< 0.001"


def percent(p: float) -> str:
    """A probability for a reader: ``0.9998`` → ``"99.98 %"``, never rounded to certainty."""
    return f"{percent_number(p)} %"


def points(sd: float) -> str:
    """A spread of probabilities in percentage points: ``0.22`` → ``"22.0 percentage points"``."""
    return f"{100 * sd:.1f} percentage points" if sd >= 0.0005 else "under 0.1 percentage points"


def _members(count: int | None) -> str:
    if count is None:
        return "ensemble members"
    return f"{NUMBER_WORDS[count] if count < len(NUMBER_WORDS) else count} members"


def reading_notes(diagnosis: Diagnosis, members: int | None = None) -> list[str]:
    """Sentences that tell the reader why this answer needs extra care; empty when none applies.

    Parameters
    ----------
    diagnosis : Diagnosis
        The model's answer; refusals and answers without probabilities get no notes.
    members : int, optional
        Number of ensemble members, to name them ("the five members disagree").

    Returns
    -------
    list of str
        At most two sentences: the members disagree (ensemble SD above :data:`DISAGREEMENT_SD`), then the
        score is near the threshold (``|p - t|`` below :data:`NEAR_THRESHOLD_MARGIN`).
    """
    p = diagnosis.positive_probability
    if diagnosis.status != "ok" or p is None:
        return []
    notes = []
    if diagnosis.uncertainty is not None and diagnosis.uncertainty > DISAGREEMENT_SD:
        notes.append(f"The {_members(members)} disagree: their probabilities spread by SD "
                     f"{points(diagnosis.uncertainty)} (above {100 * DISAGREEMENT_SD:.0f}), so this answer is less "
                     "certain than most. Read with care.")
    if abs(p - diagnosis.threshold) < NEAR_THRESHOLD_MARGIN:
        notes.append(f"The score is near the threshold: {percent(p)} is within {100 * NEAR_THRESHOLD_MARGIN:.0f} "
                     f"percentage points of the threshold {percent(diagnosis.threshold)}, so a small change in the "
                     "image could flip the decision.")
    return notes


def member_spread(diagnosis: Diagnosis) -> str:
    """The ensemble's spread in words, e.g. ``"the 5 models give 3.0–61.0 % (SD 22.0 percentage points);
    1 of 5 at or above the threshold"``; ``""`` when refused."""
    if diagnosis.uncertainty is None:
        return ""
    members = diagnosis.member_probabilities
    if not members:
        return f"SD {points(diagnosis.uncertainty)} across the ensemble's models"
    above = sum(p >= diagnosis.threshold for p in members)
    return (f"the {len(members)} models give {percent_number(min(members))}–{percent(max(members))} "
            f"(SD {points(diagnosis.uncertainty)}); {above} of {len(members)} at or above the threshold")
