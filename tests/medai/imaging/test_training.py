"""Training pieces that run in seconds: patient keys, the grouped split, the folders' labels, the augmented
pipeline, the refusal limits and the card sections."""

from types import SimpleNamespace

import numpy as np

from medai.imaging.datasets import LABELS, ImageSet, list_training_files, patient_group, split_by_patient
from medai.imaging.fit_cxr import POPULATION_FLAG_QUANTILE, card_sections, cross_fitted_metrics, fit_refusal
from medai.imaging.ood import FeatureDistance, LinearDetector, RefusalModel, XrayLikeness
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


def test_the_split_groups_films_by_patient_not_by_file():
    n = 60
    groups = np.array([f"person{i // 3}" for i in range(n)])
    files = np.array([f"person{i // 3}_bacteria_{i}.jpeg" for i in range(n)])  # three films a patient
    data = ImageSet(np.zeros((n, 4, 4), np.uint8), np.zeros(n, np.int8), groups, files)
    for seed in (0, 1, 2):
        train, validation = split_by_patient(data, 0.25, seed)
        assert len(validation.files) and not set(train.groups) & set(validation.groups)


def test_normal_films_are_label_0_and_pneumonia_films_label_1(tmp_path):
    for folder, name in (("NORMAL", "IM-0001-0001.jpeg"), ("PNEUMONIA", "person1_bacteria_1.jpeg")):
        (tmp_path / "train_224" / folder).mkdir(parents=True)
        (tmp_path / "train_224" / folder / name).write_bytes(b"")
    assert [(path.parent.name, LABELS[label]) for path, label in list_training_files(tmp_path)] == [
        ("NORMAL", "normal"), ("PNEUMONIA", "pneumonia")]


def test_training_batches_are_augmented_and_weighted():
    data = _image_set()
    boxes = np.tile([0.2, 0.1, 0.9, 0.9], (len(data.labels), 1)).astype(np.float32)
    images, labels, weights = next(iter(training_dataset(data, seed=1, boxes=boxes)))
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


def _blobs(rng, count: int, width: float) -> list[np.ndarray]:
    """(64, 64) bright blobs in [0, 1]; ``width`` stands in for the patient's size."""
    axis = np.linspace(-1, 1, 64)
    return [np.exp(-((axis[:, None] - rng.normal(0, 0.1)) ** 2 + axis[None, :] ** 2) / width).astype(np.float32)
            for _ in range(count)]


def test_fit_refusal_limits_follow_their_rules():
    rng = np.random.default_rng(0)
    children, validation, adults = _blobs(rng, 120, 0.2), _blobs(rng, 200, 0.2), _blobs(rng, 40, 0.6)
    noise = [rng.random((64, 64)).astype(np.float32) for _ in range(40)]

    def features(images: np.ndarray) -> np.ndarray:  # (N, S, S, 1) -> (N, 3): brightness, spread, edge energy
        flat = images.reshape(len(images), -1)
        edges = np.abs(np.diff(images[..., 0], axis=1)).mean(axis=(1, 2))
        return np.column_stack([flat.mean(axis=1), flat.std(axis=1), edges])

    refusal = RefusalModel(XrayLikeness(n_components=4).fit(children).set_limits(validation), FeatureDistance(),
                           LinearDetector(), LinearDetector())
    classifier = SimpleNamespace(refusal=refusal, features=features, input_size=32)
    refusal.typicality.fit(features(np.stack(children)[..., None])).set_limit(features(np.stack(validation)[..., None]))
    fit_refusal(classifier, children, validation, adults, noise)

    described = {name: refusal.describe([np.asarray(i) for i in images], features(np.stack(images)[..., None]))
                 for name, images in {"children": children, "adults": adults, "noise": noise,
                                      "validation": validation}.items()}
    assert refusal.chest_xray.is_positive(described["children"]).all()  # every fitted chest X-ray passes
    assert refusal.chest_xray.is_positive(described["adults"]).all()
    assert not refusal.chest_xray.is_positive(described["noise"]).any()
    flagged = refusal.adult_like.is_positive(described["validation"]).mean()
    assert flagged <= 1 - POPULATION_FLAG_QUANTILE + 0.01
    assert refusal.adult_like.is_positive(described["adults"]).mean() > 0.9


def test_card_sections_follow_the_shared_schema():
    rng = np.random.default_rng(0)
    probabilities = rng.random(200)
    labels = (rng.random(200) < probabilities).astype(int)
    interval = [0.8, 0.9]
    validation = {"roc_auc": 0.85, "roc_auc_95ci": interval, "ece_calibrated": 0.02, "ece_uncalibrated": 0.05,
                  "at_threshold_in_sample": {"accuracy": 0.8, "sensitivity": 0.8, "specificity": 0.8,
                                             "accuracy_95ci": interval, "sensitivity_95ci": interval,
                                             "specificity_95ci": interval},
                  "at_threshold_cross_fitted": {"accuracy": 0.78, "sensitivity": 0.77, "specificity": 0.79}}
    sections = card_sections(validation, probabilities, labels, 0.5)
    named = {h["name"].split(" at the threshold")[0]: h for h in sections["headline"]}
    assert set(named) >= {"ROC-AUC", "Sensitivity", "Specificity"}
    assert named["Sensitivity"]["name"].endswith("(chosen on these films; cross-fitted 0.770)"), "beside its honest one"
    assert all(set(h) == {"name", "value", "ci95", "split", "higher_is_better", "baseline"}
               for h in sections["headline"])
    assert sections["confusion"]["labels"] == ["normal", "pneumonia"]
    assert np.sum(sections["confusion"]["matrix"]) == 200
    assert set(sections["curves"]) == {"roc", "reliability"}
    assert sum(sections["curves"]["reliability"]["count"]) == 200
