"""How the chest X-ray classifier does on each acquisition group of its own validation films.

The Kermany training films come in batches that file names give away: normal films named ``IM-…``
and ``NORMAL2-IM-…`` (two collection rounds), pneumonia films named ``…_bacteria_…`` and
``…_virus_…``. A model that learned a batch's look instead of the lungs would score its normal
batches differently; the independent evaluation found normal films of another hospital called
pneumonia. ``python -m medai.imaging.acquisition_groups`` measures the shipped model per group on the
patient-grouped validation split (as in training) and writes ``metrics.acquisition_groups`` into its
card; ``medai.imaging.fit_cxr`` writes the same section when it retrains.
"""

from __future__ import annotations

import json
import re

import numpy as np
from sklearn.metrics import roc_auc_score

from medai import registry

CLASSIFIER = "cxr-pneumonia"
GROUP_PATTERNS = {"normal, IM- files": r"^IM-", "normal, NORMAL2-IM- files": r"^NORMAL2-IM-",
                  "pneumonia, bacterial": r"_bacteria_", "pneumonia, viral": r"_virus_"}


def acquisition_group(file_name: str) -> str:
    """The acquisition group of a Kermany file name (``"other"`` when none matches)."""
    for group, pattern in GROUP_PATTERNS.items():
        if re.search(pattern, file_name):
            return group
    return "other"


def group_metrics(probabilities: np.ndarray, labels: np.ndarray, names: np.ndarray, threshold: float) -> dict:
    """Per acquisition group: films, share called correctly at ``threshold``, mean probability, and the
    ROC-AUC of that group against every film of the other class.

    Parameters
    ----------
    probabilities : ndarray, shape (n,)
        Calibrated probability of pneumonia per validation film.
    labels : ndarray of int, shape (n,)
        1 for pneumonia, 0 for normal.
    names : ndarray of str, shape (n,)
        File names, which carry the group.
    threshold : float
        The shipped decision threshold on ``probabilities``.
    """
    groups = np.array([acquisition_group(str(name)) for name in names])
    called = probabilities >= threshold
    result = {}
    for group in [g for g in GROUP_PATTERNS if (groups == g).any()]:
        chosen = groups == group
        label = int(labels[chosen][0])
        others = labels != label
        scores = np.concatenate([probabilities[chosen], probabilities[others]])
        truth = np.concatenate([np.full(chosen.sum(), label), labels[others]])
        result[group] = {"films": int(chosen.sum()),
                         "correct_at_threshold": round(float(np.mean(called[chosen] == bool(label))), 4),
                         "mean_probability_of_pneumonia": round(float(probabilities[chosen].mean()), 4),
                         "roc_auc_against_the_other_class": round(float(roc_auc_score(truth, scores)), 4)}
    return result


def measure() -> dict:
    """The ``acquisition_groups`` card section of the shipped classifier."""
    from medai.imaging.datasets import load_training_set, split_by_patient
    from medai.imaging.train_cxr import INPUT_SIZE, SPLIT_SEED, VALIDATION_FRACTION, predict_logits

    classifier = registry.load(CLASSIFIER)
    _, validation = split_by_patient(load_training_set(INPUT_SIZE), VALIDATION_FRACTION, SPLIT_SEED)
    logits = np.mean([predict_logits(member, validation.images) for member in classifier.members], axis=0)
    probabilities = classifier.calibrator.predict(logits)
    return group_metrics(probabilities, validation.labels.astype(int), validation.files, classifier.threshold)


def main() -> None:
    """Measure and write the ``metrics.acquisition_groups`` section of the classifier's card."""
    card_path = registry.get_spec(CLASSIFIER).directory / "card.json"
    card = json.loads(card_path.read_text())
    card["metrics"]["acquisition_groups"] = measure()
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(card["metrics"]["acquisition_groups"], indent=2))


if __name__ == "__main__":
    main()
