"""The MoleculeNet training files: where they are, what their targets are, how to split them.

Files are read from ``MEDAI_DATA_DIR/drug/moleculenet`` (never downloaded at run time);
``python -m medai download moleculenet`` fetches the public MoleculeNet copies for users who have a network.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit.Chem.Scaffolds import MurckoScaffold

from medai import config
from medai.drug.featurize import descriptor_names, to_features
from medai.drug.standardize import standardize_mol, to_mol, to_smiles
from medai.errors import DataNotFoundError, MedAIError

MOLECULENET_URL = "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets/{file}"
TOX21_TASKS = ("NR-AR", "NR-AR-LBD", "NR-AhR", "NR-Aromatase", "NR-ER", "NR-ER-LBD", "NR-PPAR-gamma",
               "SR-ARE", "SR-ATAD5", "SR-HSE", "SR-MMP", "SR-p53")


@dataclass(frozen=True)
class DatasetSpec:
    """One MoleculeNet file and its targets.

    Attributes
    ----------
    file : str
        File name in ``drug/moleculenet``.
    targets : tuple of str
        Target columns.
    kind : str
        ``"regression"`` or ``"classification"``.
    split : str
        ``"random"`` or ``"scaffold"`` — how the held-out portion was taken, and so how we validate.
    """

    file: str
    targets: tuple[str, ...]
    kind: str
    split: str


DATASETS = {
    "esol": DatasetSpec("delaney-processed.csv", ("measured log solubility in mols per litre",), "regression", "random"),
    "lipophilicity": DatasetSpec("Lipophilicity.csv", ("exp",), "regression", "random"),
    "tox21": DatasetSpec("tox21.csv", TOX21_TASKS, "classification", "random"),
    "bbbp": DatasetSpec("BBBP.csv", ("p_np",), "classification", "scaffold"),
    "clintox": DatasetSpec("clintox.csv", ("CT_TOX",), "classification", "random"),
    "bace": DatasetSpec("bace.csv", ("Class",), "classification", "scaffold"),
    "hiv": DatasetSpec("HIV.csv", ("HIV_active",), "classification", "scaffold"),
}


@dataclass
class MoleculeSet:
    """Standardised molecules of one file with their features and targets.

    Attributes
    ----------
    smiles : ndarray of str, shape (n,)
        Canonical SMILES of the standardised parents.
    features : ndarray of float32, shape (n, n_features)
        :func:`medai.drug.featurize.to_features` of each molecule.
    targets : ndarray of float32, shape (n, n_targets)
        Target values; NaN where not measured.
    scaffolds : ndarray of str, shape (n,)
        Bemis–Murcko scaffold SMILES ('' for acyclic molecules).
    """

    smiles: np.ndarray
    features: np.ndarray
    targets: np.ndarray
    scaffolds: np.ndarray

    def subset(self, index: np.ndarray) -> "MoleculeSet":
        """Rows ``index`` of every array."""
        return MoleculeSet(self.smiles[index], self.features[index], self.targets[index], self.scaffolds[index])


def data_root() -> Path:
    """``MEDAI_DATA_DIR/drug/moleculenet``; raises :class:`DataNotFoundError` when missing."""
    root = config.data_dir() / "drug" / "moleculenet"
    if not root.is_dir():
        raise DataNotFoundError(f"MoleculeNet files not found under MEDAI_DATA_DIR ({config.data_dir()}).")
    return root


def read_raw(name: str) -> pd.DataFrame:
    """Dataset ``name``'s file as written: SMILES unstandardised, one row per line."""
    return pd.read_csv(data_root() / DATASETS[name].file)


def _featurize_one(smiles: str) -> tuple[str, np.ndarray, str] | None:
    try:
        # Every mixture cut to its largest fragment, as when the shipped models were trained: keeping
        # complexes whole would merge fewer Tox21 parents and so reshuffle its random split.
        mol = standardize_mol(to_mol(smiles), keep_complexes=False)
    except MedAIError:
        return None
    scaffold = MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=False)
    return to_smiles(mol), to_features(mol), scaffold


def load(name: str) -> MoleculeSet:
    """Read, standardise and featurise dataset ``name`` (cached under ``MEDAI_CACHE_DIR``).

    Rows that cannot be standardised (SMILES RDKit cannot parse, molecules too large to screen: a handful
    in Tox21, ClinTox, HIV) are dropped, and duplicated parents merged by averaging (regression) or max
    (classification); the card gives the count left (``molecules_after_standardisation``).
    """
    spec = DATASETS[name]
    path = data_root() / spec.file
    # The file and the feature layout both name the cache: new descriptors never meet stale rows.
    digest = hashlib.md5(path.read_bytes() + "|".join(descriptor_names()).encode()).hexdigest()[:12]
    cache = config.cache_dir() / f"drug_{name}_{digest}.npz"
    if cache.exists():
        with np.load(cache, allow_pickle=False) as saved:
            return MoleculeSet(saved["smiles"], saved["features"], saved["targets"], saved["scaffolds"])
    table = read_raw(name)
    with ProcessPoolExecutor(max_workers=2) as pool:
        rows = list(pool.map(_featurize_one, table["smiles"].astype(str), chunksize=64))
    groups: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(rows):
        if row is not None:
            groups[row[0]].append(index)
    values = table[list(spec.targets)].to_numpy(dtype=np.float32)
    merge = np.nanmean if spec.kind == "regression" else np.nanmax
    smiles, features, targets, scaffolds = [], [], [], []
    for parent, indices in groups.items():
        smiles.append(parent)
        features.append(rows[indices[0]][1])
        scaffolds.append(rows[indices[0]][2])
        block = values[indices]
        targets.append(np.array([merge(c) if np.isfinite(c).any() else np.nan for c in block.T], np.float32))
    result = MoleculeSet(np.array(smiles), np.stack(features), np.stack(targets), np.array(scaffolds))
    np.savez_compressed(cache, smiles=result.smiles, features=result.features, targets=result.targets,
                        scaffolds=result.scaffolds)
    return result


def split(data: MoleculeSet, kind: str, validation_fraction: float = 0.15,
          seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Train and validation row indices.

    ``"random"``: a seeded random split. ``"scaffold"``: whole Bemis–Murcko groups, the rarest
    scaffolds to validation, as the held-out portion of BBBP, BACE and HIV was taken; ties are broken
    by a seeded shuffle.
    """
    rng = np.random.default_rng(seed)
    n = len(data.smiles)
    if kind == "random":
        order = rng.permutation(n)
        cut = int(round(n * validation_fraction))
        return np.sort(order[cut:]), np.sort(order[:cut])
    groups: dict[str, list[int]] = defaultdict(list)
    for index, scaffold in enumerate(data.scaffolds):
        groups[scaffold].append(index)
    keys = list(groups)
    rng.shuffle(keys)
    keys.sort(key=lambda key: len(groups[key]))  # stable: the shuffle breaks ties
    validation: list[int] = []
    for key in keys:
        if len(validation) >= n * validation_fraction:
            break
        validation.extend(groups[key])
    train = np.setdiff1d(np.arange(n), validation)
    return train, np.sort(np.array(validation))


def download(destination: Path) -> dict[str, str]:
    """Fetch the public MoleculeNet copy of every file in :data:`DATASETS` into ``destination/drug/moleculenet``.

    The upstream files are the full originals (this project's copies lack the held-out rows), so no
    SHA-256 is pinned; the ones returned are what was fetched.
    """
    from medai.downloads import fetch

    folder = destination / "drug" / "moleculenet"
    return {f"drug/moleculenet/{spec.file}": fetch(MOLECULENET_URL.format(file=spec.file), folder / spec.file)
            for spec in DATASETS.values()}
