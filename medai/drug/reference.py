"""Approved drugs as the yardstick: where a molecule's value sits among FDA-approved drugs.

The reference set is ClinTox's ``FDA_APPROVED == 1`` rows (about 1,300 approved drugs), as ADMET-AI
uses DrugBank. Each property's distribution is kept as 101 quantiles, so a percentile is a lookup.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem
from rdkit.Chem import BRICS

from medai.drug import datasets
from medai.drug.descriptors import describe_mol
from medai.drug.featurize import to_features
from medai.drug.graphs import MolGraph, to_graph
from medai.drug.standardize import standardize_mol, to_mol
from medai.errors import MedAIError

DESCRIPTOR_REFERENCE = Path(__file__).with_name("approved_drugs.json")
QUANTILES = np.linspace(0, 100, 101)


def approved_drug_mols(tautomer: bool = True) -> list:
    """Standardised molecules of the approved drugs in ClinTox (unparsable rows skipped): canonical
    tautomers, as the models read them, or (``tautomer=False``) as written, as the screen describes them."""
    table = pd.read_csv(datasets.data_root() / datasets.DATASETS["clintox"].file)
    mols = []
    for smiles in table.loc[table["FDA_APPROVED"] == 1, "smiles"].astype(str):
        try:
            mols.append(standardize_mol(to_mol(smiles), tautomer=tautomer))
        except MedAIError:
            continue
    return mols


def approved_drug_inputs() -> tuple[np.ndarray, list[MolGraph]]:
    """Model features of the approved drugs, shape (n_drugs, n_features), and their graphs."""
    mols = approved_drug_mols()
    return np.stack([to_features(mol) for mol in mols]), [to_graph(mol) for mol in mols]


def quantiles(values: np.ndarray) -> list[float]:
    """The 0th, 1st, …, 100th percentiles of ``values`` (NaNs ignored), rounded."""
    return [round(float(v), 5) for v in np.nanpercentile(values, QUANTILES)]


def percentile(value: float | np.ndarray, reference: list[float]) -> np.ndarray:
    """Percentile (0–100) of ``value`` among the reference distribution given by its 101 quantiles."""
    grid = np.asarray(reference)
    # Interpolating the inverse CDF; ties (flat stretches of integer counts) take their midpoint.
    low = np.searchsorted(grid, value, side="left")
    high = np.searchsorted(grid, value, side="right")
    return np.clip((low + high) / 2 - 0.5, 0, 100)


def build_descriptor_reference(path: Path = DESCRIPTOR_REFERENCE) -> dict[str, list[float]]:
    """Write the approved drugs' descriptor quantiles (``approved_drugs.json``) and their BRICS
    fragments of at most 25 heavy atoms (``approved_brics_fragments.txt``, for the optimiser)."""
    mols = approved_drug_mols(tautomer=False)
    fragments = sorted({f for mol in mols for f in BRICS.BRICSDecompose(mol)
                        if (m := Chem.MolFromSmiles(f)) is not None and m.GetNumHeavyAtoms() <= 25})
    path.with_name("approved_brics_fragments.txt").write_text("\n".join(fragments) + "\n")
    rows = [describe_mol(mol).as_row() for mol in mols]
    table = pd.DataFrame(rows)
    reference = {column: quantiles(table[column].to_numpy(float)) for column in table.columns}
    path.write_text(json.dumps({"source": "ClinTox FDA_APPROVED == 1", "drugs": len(rows),
                                "quantiles": reference}, indent=1) + "\n")
    return reference


@lru_cache(maxsize=1)
def _reference_file() -> dict:
    return json.loads(DESCRIPTOR_REFERENCE.read_text())


def descriptor_reference() -> dict[str, list[float]]:
    """Descriptor name → 101 quantiles over approved drugs."""
    return _reference_file()["quantiles"]


def approved_drug_count() -> int:
    """How many approved drugs the reference distributions describe."""
    return int(_reference_file()["drugs"])


if __name__ == "__main__":
    build_descriptor_reference()
