"""An external check of ``drug-solubility`` on Huuskonen's aqueous solubilities (RDKit's copy).

Huuskonen's compilation (J Chem Inf Comput Sci 40:773-777, 2000) and ESOL share over half of ESOL's
molecules, most with the same measured value. Its molecules outside our ESOL file may therefore include
ESOL's held-out rows: training on them would leak the held-out portion, so they are never trained on,
only predicted, to show how the model carries to molecules another compiler chose. Read from
``MEDAI_DATA_DIR/drug/rdkit_huuskonen``; ``python -m medai download huuskonen`` fetches RDKit's copy for users
with a network.

``python -m medai.drug.external`` writes the check into the shipped card (the model is unchanged);
``python -m medai train drug-solubility`` writes it too.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from rdkit import Chem, RDLogger

from medai import cards, config, registry
from medai.drug import datasets, evaluate
from medai.drug.featurize import MORGAN_BITS, packed_bits, to_features
from medai.drug.graphs import graphs_of
from medai.drug.models import PropertyModel
from medai.drug.standardize import standardize_mol, to_smiles
from medai.errors import DataNotFoundError, MedAIError

MODEL = "drug-solubility"
TASK = "logS"
HUUSKONEN_FILE = Path("drug") / "rdkit_huuskonen" / "solubility.train.sdf"
HUUSKONEN_URL = "https://raw.githubusercontent.com/rdkit/rdkit/master/Docs/Book/data/solubility.train.sdf"
HUUSKONEN_SHA256 = "184a7df425f4a5403d8572c7cf898d259801332f0b7f4fcfab91ccb9aba2994e"
SAME_VALUE = 0.01  # log units: two sources agree on a molecule's value


def huuskonen_path() -> Path:
    """The SD file under ``MEDAI_DATA_DIR``; raises :class:`DataNotFoundError` when missing."""
    path = config.data_dir() / HUUSKONEN_FILE
    if not path.is_file():
        raise DataNotFoundError(f"Huuskonen's solubility file not found under MEDAI_DATA_DIR ({config.data_dir()}).")
    return path


def read_huuskonen(path: Path | None = None) -> tuple[list[Chem.Mol], np.ndarray, np.ndarray]:
    """Standardised parents, their canonical SMILES (n,) and logS (n,) in log10 mol/L.

    Standardised as the training files are (largest fragment, neutralised, canonical tautomer); a
    molecule given twice keeps its first record, with the mean of its values.
    """
    RDLogger.DisableLog("rdApp.*")
    values: dict[str, list[float]] = defaultdict(list)
    parents: dict[str, Chem.Mol] = {}
    for mol in Chem.SDMolSupplier(str(path or huuskonen_path())):
        if mol is None or not mol.HasProp("SOL"):
            continue
        try:
            parent = standardize_mol(mol, keep_complexes=False)
        except MedAIError:
            continue
        smiles = to_smiles(parent)
        parents.setdefault(smiles, parent)
        values[smiles].append(float(mol.GetProp("SOL")))
    names = list(parents)
    return [parents[s] for s in names], np.array(names), np.array([np.mean(values[s]) for s in names])


def _family_means(model: PropertyModel, members: np.ndarray) -> dict[str, np.ndarray]:
    """Each family's mean prediction from (n_members, n) member outputs, in the model's member order."""
    sizes = {"mlp ensemble": len(model.networks), "graph networks": len(model.graph_networks),
             "boosted trees": len(model.trees)}
    means, start = {}, 0
    for family, size in sizes.items():
        if size:
            means[family] = members[start:start + size].mean(axis=0)
            start += size
    return means


def external_check(model: PropertyModel, known: dict[str, float], path: Path | None = None) -> dict[str, Any]:
    """The card's ``metrics.external`` section: ``model`` on Huuskonen's molecules outside its data file.

    Parameters
    ----------
    model : PropertyModel
        A solubility model (task ``logS``).
    known : dict
        Canonical SMILES → logS of every molecule in the model's data file (training and validation).
    """
    mols, smiles, logs = read_huuskonen(path)
    shared = np.array([s in known for s in smiles])
    difference = logs[shared] - np.array([known[s] for s in smiles[shared]])
    new = ~shared
    features = np.stack([to_features(mols[i]) for i in np.flatnonzero(new)])
    members = model.member_outputs(features, graphs_of(smiles[new]) if model.graph_networks else None)[:, :, 0]
    prediction = model.predict(features, graphs_of(smiles[new]) if model.graph_networks else None)[TASK]
    truth, mean, std = logs[new], prediction.value, prediction.std
    similarity = model.nearest_training_similarity(packed_bits(features[:, :MORGAN_BITS]))
    inside = similarity >= model.domain_cutoff
    families = _family_means(model, members)

    def scores(rows: np.ndarray) -> dict[str, Any]:
        return {"rows": int(rows.sum()), "rmse": evaluate.rmse(truth[rows], mean[rows]) if rows.any() else None,
                "baselines": {family: evaluate.rmse(truth[rows], values[rows]) for family, values in families.items()}
                if rows.any() else {}}

    metrics = {**evaluate.regression_metrics(truth, mean, std),
               "rmse_95ci": evaluate.bootstrap_interval(truth, mean, evaluate.rmse), **scores(np.ones_like(inside)),
               "in_domain": scores(inside), "out_of_domain": scores(~inside)}
    return cards.rounded({
        "source": "Huuskonen J, J Chem Inf Comput Sci 40:773-777 (2000); RDKit's copy (BSD-3-Clause)",
        "file": HUUSKONEN_FILE.as_posix(),
        "molecules": int(len(smiles)),
        "also_in_our_esol_file": {"rows": int(shared.sum()),
                             "values_rmse_between_sources": float(np.sqrt(np.mean(difference ** 2))),
                             "share_with_the_same_value": float(np.mean(np.abs(difference) < SAME_VALUE))},
        "checked": metrics,
        "how": "Predicted, never trained on and never used for any choice: the molecules of Huuskonen's training "
               "file that are not in our ESOL file (standardised alike). The two compilations share most of their "
               "values, so these may include ESOL's held-out rows; this check only reports. Baselines: each family "
               "of the ensemble alone, on the same rows."})


def known_values(name: str = "esol") -> dict[str, float]:
    """Canonical SMILES → target of every molecule in a regression data file (training and validation)."""
    data = datasets.load(name)
    return {str(s): float(v) for s, v in zip(data.smiles, data.targets[:, 0])}


def add_to_card(card: dict[str, Any], model: PropertyModel) -> None:
    """Write the check into ``card`` (metrics, a headline figure and a limitation)."""
    external = external_check(model, known_values())
    checked = external["checked"]
    card["metrics"]["external"] = external
    inside = checked["in_domain"]
    # Boosted trees first, the comparator of the validation headline (the page compares with the first).
    baselines = dict(sorted(checked["baselines"].items(), key=lambda item: item[0] != "boosted trees"))
    card["headline"] = [h for h in card["headline"] if not str(h.get("split", "")).startswith("external")] + [cards.headline(
        f"{TASK}: RMSE on Huuskonen's {checked['rows']} molecules outside our data ({inside['rows']} in domain: "
        f"{inside['rmse']:.2f})", checked["rmse"], checked["rmse_95ci"], split="external (another compilation)",
        higher_is_better=False, baseline=baselines)]
    card["limitations"] = [item for item in card["limitations"] if not item.startswith("On Huuskonen")] + [
        f"On Huuskonen's molecules outside our data ({checked['rows']}, an external check) the RMSE is "
        f"{checked['rmse']:.2f} (95 % CI {checked['rmse_95ci'][0]:.2f}-{checked['rmse_95ci'][1]:.2f}): "
        f"{checked['in_domain']['rmse']:.2f} on the {checked['in_domain']['rows']} inside the applicability domain. "
        "Expect errors nearer these than the validation figure on molecules unlike ESOL's."]


def download(destination: Path) -> dict[str, str]:
    """Fetch RDKit's copy of Huuskonen's training file into ``destination``, checked by its pinned SHA-256."""
    from medai.downloads import fetch

    return {str(HUUSKONEN_FILE): fetch(HUUSKONEN_URL, destination / HUUSKONEN_FILE, HUUSKONEN_SHA256)}


def main() -> None:
    """Measure the shipped model and write the check into its card."""
    card_path = registry.get_spec(MODEL).directory / "card.json"
    card = json.loads(card_path.read_text())
    add_to_card(card, registry.load(MODEL))
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(card["metrics"]["external"], indent=2))


if __name__ == "__main__":
    main()
