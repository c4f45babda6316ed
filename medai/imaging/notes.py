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
        notes.append(f"The {_members(members)} disagree: their probabilities spread by SD {diagnosis.uncertainty:.2f} "
                     f"(above {DISAGREEMENT_SD:.2f}), so this answer is less certain than most. Read with care.")
    if abs(p - diagnosis.threshold) < NEAR_THRESHOLD_MARGIN:
        notes.append(f"The score is near the threshold: p = {p:.2f} is within {NEAR_THRESHOLD_MARGIN:.2f} of the "
                     f"threshold {diagnosis.threshold:.2f}, so a small change in the image could flip the decision.")
    return notes


def member_spread(diagnosis: Diagnosis) -> str:
    """The ensemble's spread in words, e.g. ``"the 5 models give 0.03–0.61 (SD 0.22); 1 of 5 at or above
    the threshold"``; ``""`` when refused."""
    if diagnosis.uncertainty is None:
        return ""
    members = diagnosis.member_probabilities
    if not members:
        return f"SD {diagnosis.uncertainty:.2f} across the ensemble's models"
    above = sum(p >= diagnosis.threshold for p in members)
    return (f"the {len(members)} models give {min(members):.2f}–{max(members):.2f} (SD {diagnosis.uncertainty:.2f}); "
            f"{above} of {len(members)} at or above the threshold")
