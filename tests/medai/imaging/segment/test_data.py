"""Segmentation data: the patient-grouped split, which structures count as annotated, and the read cache."""

from __future__ import annotations

import numpy as np

from medai.imaging.segment.data import SegmentationSet, load_set, split_by_group
from tests.medai.imaging.segment.conftest import square, toy_dataset


def _segmentation_set(groups: list[str]) -> SegmentationSet:
    n = len(groups)
    return SegmentationSet(np.array([f"img{i}" for i in range(n)]), np.zeros((n, 4, 4, 1), np.uint8),
                           np.zeros((n, 4, 4, 1), np.uint8), np.ones((n, 1), bool), np.array(groups))


def test_the_split_keeps_every_patient_on_one_side_and_validation_is_not_empty():
    data = _segmentation_set([f"p{i // 3}" for i in range(60)])  # 20 patients, 3 images each
    train, validation = split_by_group(data, 0.2, seed=0)
    assert len(validation.ids) == 12 and not set(train.groups) & set(validation.groups)


def test_another_seed_gives_another_split():
    data = _segmentation_set([f"p{i}" for i in range(40)])
    assert set(split_by_group(data, 0.2, 0)[1].ids) != set(split_by_group(data, 0.2, 1)[1].ids)


def test_a_missing_lesion_mask_means_absent_and_a_missing_structure_unannotated(tmp_path):
    lung = square() > 0.5
    root = toy_dataset(tmp_path, {"lung": {"a": lung, "b": lung}, "lesion": {"a": lung}})
    data = load_set("x", ("lung", "lesion", "vessels"), channels=1, size=None, empty_when_missing=("lesion",),
                    root=root)
    assert data.annotated.tolist() == [[True, True, False], [True, True, False]]


def test_grey_and_colour_reads_of_one_dataset_are_cached_apart(tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    toy_dataset(tmp_path, {"lung": {"a": square() > 0.5, "b": square() > 0.5}})
    (data_dir / "imaging" / "segmentation").mkdir(parents=True)
    (tmp_path / "ds").rename(data_dir / "imaging" / "segmentation" / "toy")
    monkeypatch.setenv("MEDAI_DATA_DIR", str(data_dir))
    monkeypatch.setenv("MEDAI_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    assert load_set("toy", ("lung",), channels=1, size=16).images.shape[-1] == 1
    assert load_set("toy", ("lung",), channels=3, size=16).images.shape[-1] == 3
