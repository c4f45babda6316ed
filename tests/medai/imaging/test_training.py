"""Training pieces that run in seconds: patient keys, the grouped split, the augmented pipeline."""

import numpy as np

from medai.imaging.datasets import ImageSet, patient_group, split_by_patient
from medai.imaging.fit_cxr import cross_fitted_metrics
from medai.imaging.train_cxr import training_dataset


def _image_set(n: int = 60) -> ImageSet:
    rng = np.random.default_rng(0)
    groups = np.array([f"person{i // 3}" for i in range(n)])
    labels = np.array([i // 3 % 2 for i in range(n)], dtype=np.int8)
    return ImageSet(rng.integers(0, 256, (n, 32, 32), dtype=np.uint8), labels, groups, groups)


def test_patient_keys():
    assert patient_group("person1946_bacteria_4874.jpeg") == "person1946"
    assert patient_group("person20_virus_51.jpeg") == "person20"
    assert patient_group("NORMAL2-IM-1427-0001.jpeg") == "NORMAL2-IM-1427"
    assert patient_group("IM-0117-0001.jpeg") == "IM-0117"


def test_split_keeps_each_patient_on_one_side():
    train, validation = split_by_patient(_image_set(), 0.25, seed=0)
    assert not set(train.groups) & set(validation.groups)
    assert len(train.labels) + len(validation.labels) == 60


def test_training_batches_are_augmented_and_weighted():
    data = _image_set()
    images, labels, weights = next(iter(training_dataset(data, seed=1)))
    assert images.shape == (32, 32, 32, 1) and labels.shape == (32, 1) and weights.shape == (32,)
    assert 0.0 <= float(images.numpy().min()) and float(images.numpy().max()) <= 1.0
    original = data.images[..., None] / 255.0
    assert not any(np.allclose(image, o, atol=1e-3) for image in images.numpy() for o in original)
    assert np.allclose(np.unique(weights.numpy()), [1.0])  # balanced classes get equal weights


def test_cross_fitted_metrics_on_separable_scores():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 100)
    logits = np.where(labels == 1, 3.0, -3.0) + rng.normal(0, 0.5, 200)
    metrics = cross_fitted_metrics(logits, labels, np.arange(200) // 2)
    assert metrics["accuracy"] > 0.98 and metrics["ece"] < 0.1
