"""The train/validation split of a molecule set: a seeded partition, with whole scaffolds on one side."""

import numpy as np

from medai.drug.datasets import MoleculeSet, split


def _molecules(scaffolds: list[str]) -> MoleculeSet:
    n = len(scaffolds)
    return MoleculeSet(np.array([f"C{'C' * i}" for i in range(n)]), np.zeros((n, 2), np.float32),
                       np.zeros((n, 1), np.float32), np.array(scaffolds))


def test_another_seed_gives_another_split():
    data = _molecules([f"s{i}" for i in range(100)])  # every scaffold once: ties everywhere
    for kind in ("random", "scaffold"):
        assert not np.array_equal(split(data, kind, seed=0)[1], split(data, kind, seed=1)[1]), kind


def test_a_random_split_is_a_partition():
    train, validation = split(_molecules(["a"] * 100), "random", seed=0)
    assert len(validation) == 15 and not set(train) & set(validation)
    assert sorted([*train, *validation]) == list(range(100))


def test_no_scaffold_split_validation_molecule_is_in_training():
    train, validation = split(_molecules(["x"] + ["y"] * 4 + ["z"] * 15), "scaffold", seed=0)
    assert len(validation) and not set(train) & set(validation)
    assert sorted([*train, *validation]) == list(range(20))


def test_a_scaffold_split_keeps_each_scaffold_wholly_on_one_side():
    scaffolds = np.array(["x"] + ["y"] * 4 + ["z"] * 15)  # rarest first: x (1), then y (4) reaches 15 %
    train, validation = split(_molecules(list(scaffolds)), "scaffold", seed=0)
    assert not set(scaffolds[train]) & set(scaffolds[validation])
    assert sorted(validation.tolist()) == [0, 1, 2, 3, 4]
