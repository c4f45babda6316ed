"""Add the lung-focus check to the ``cxr-pneumonia`` card: where its Grad-CAM heat falls on validation films.

``python -m medai.imaging.lung_focus_card`` runs the shipped classifier (with Grad-CAM) and the
shipped ``cxr-lungs`` model on every validation X-ray of the classifier's own patient-grouped split,
as the app reads them, and writes the distribution of the share of heat inside the lung fields into
``card.json`` (``lung_focus``). The card is documentation, not a checksummed file: the model is unchanged.
"""

from __future__ import annotations

import json

import numpy as np

from medai import registry
from medai.imaging.datasets import ImageSet, kermany_root, list_training_files, patient_group, split_by_patient
from medai.imaging.io import read_image
from medai.imaging.lung_focus import LUNG_MODEL, lung_focus
from medai.imaging.train_cxr import SPLIT_SEED, VALIDATION_FRACTION

CLASSIFIER = "cxr-pneumonia"
BATCH = 32


def validation_files() -> list[tuple[str, int]]:
    """(path, label index) of the classifier's validation films (same split as its training)."""
    pairs = list_training_files(kermany_root())
    names = np.array([path.name for path, _ in pairs])
    index_only = ImageSet(np.zeros((len(pairs), 1, 1), np.uint8), np.array([label for _, label in pairs], np.int8),
                          np.array([patient_group(name) for name in names]), np.arange(len(pairs)).astype(str))
    _, validation = split_by_patient(index_only, VALIDATION_FRACTION, SPLIT_SEED)
    return [(str(pairs[int(i)][0]), pairs[int(i)][1]) for i in validation.files]


def heat_shares() -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(heat shares, lung-area shares, labels) over validation films with lung fields, and how many had none."""
    classifier = registry.load(CLASSIFIER)
    shares, areas, labels, missing = [], [], [], 0
    files = validation_files()
    for start in range(0, len(files), BATCH):
        chunk = files[start:start + BATCH]
        images = [read_image(open(path, "rb").read()) for path, _ in chunk]
        for image, diagnosis, (_, label) in zip(images, classifier.predict(images, explain=True), chunk):
            fields, share = lung_focus(image, diagnosis.heatmap)
            if share is None:
                missing += 1
                continue
            shares.append(share)
            areas.append(float(fields.mean()))
            labels.append(label)
    return np.array(shares), np.array(areas), np.array(labels), missing


def summary(shares: np.ndarray, areas: np.ndarray, labels: np.ndarray, missing: int) -> dict:
    """Quantiles of the share of heat inside the lungs, overall and per true label, beside the lungs' area share.

    The area share is what a flat heat map would score, the baseline a focused map should beat.
    """
    def quantiles(values: np.ndarray) -> dict[str, float]:
        return {f"p{q}": round(float(np.percentile(values, q)), 3) for q in (5, 25, 50, 75, 95)}

    return {"films": int(len(shares)), "no_lung_fields_found": missing,
            "share_of_heat_inside_lungs": quantiles(shares),
            "by_true_label": {name: quantiles(shares[labels == index])
                              for index, name in enumerate(registry.get_spec(CLASSIFIER).labels)
                              if (labels == index).any()},
            "lung_area_share_of_image": quantiles(areas),
            "how": f"Grad-CAM of the ensemble (evidence for pneumonia) vs both lungs from {LUNG_MODEL}, on the "
                   "classifier's validation split (patient-grouped), read as the app reads them. On films "
                   "called normal the map is weak and spread out, so its share says little there."}


def main() -> None:
    """Measure and write the ``lung_focus`` section of the classifier's card."""
    card_path = registry.get_spec(CLASSIFIER).directory / "card.json"
    card = json.loads(card_path.read_text())
    card["lung_focus"] = summary(*heat_shares())
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(card["lung_focus"], indent=2))


if __name__ == "__main__":
    main()
