"""The external solubility check: Huuskonen's molecules outside our file are predicted, never trained on."""

import numpy as np
import pytest
from rdkit import Chem

from medai import config, registry
from medai.drug import evaluate, external
from medai.drug.featurize import to_features
from medai.drug.graphs import graphs_of


def write_sdf(path, records):
    """An SD file of (SMILES, logS) records, as RDKit's copy of Huuskonen's file holds them."""
    writer = Chem.SDWriter(str(path))
    for smiles, logs in records:
        mol = Chem.MolFromSmiles(smiles)
        mol.SetProp("SOL", str(logs))
        writer.write(mol)
    writer.close()
    return path


def test_molecules_are_standardised_as_the_training_files_and_repeats_averaged(tmp_path):
    path = write_sdf(tmp_path / "s.sdf", [("CCO", -0.5), ("[Na+].CC(=O)[O-]", 0.6), ("OCC", -0.3)])
    mols, smiles, logs = external.read_huuskonen(path)
    assert list(smiles) == ["CCO", "CC(=O)O"]  # ethanol twice, written two ways; the salt's parent acid
    assert logs == pytest.approx([-0.4, 0.6])
    assert len(mols) == 2


def test_molecules_in_our_file_are_compared_not_predicted(tmp_path):
    records = [("CCO", -0.4), ("c1ccccc1", -1.6), ("Clc1ccc(Cl)cc1", -3.3), ("CCCCCCCC", -5.2), ("OCC(O)CO", 1.1)]
    path = write_sdf(tmp_path / "s.sdf", records)
    model = registry.load("drug-solubility")
    known = {"CCO": 0.0, "c1ccccc1": -1.64}  # two in "our file", one with another value
    check = external.external_check(model, known, path)
    assert check["molecules"] == 5
    assert check["also_in_our_esol_file"]["rows"] == 2
    assert check["also_in_our_esol_file"]["share_with_the_same_value"] == pytest.approx(0.0)  # 0.4 and 0.04 apart
    assert check["also_in_our_esol_file"]["values_rmse_between_sources"] == pytest.approx(np.sqrt((0.16 + 0.0016) / 2),
                                                                                     abs=1e-4)
    rest = ["Clc1ccc(Cl)cc1", "CCCCCCCC", "OCC(O)CO"]
    features = np.stack([to_features(Chem.MolFromSmiles(s)) for s in rest])
    predicted = model.predict(features, graphs_of(rest))["logS"].value
    truth = np.array([-3.3, -5.2, 1.1])
    assert check["checked"]["rows"] == 3
    assert check["checked"]["rmse"] == pytest.approx(evaluate.rmse(truth, predicted), abs=1e-3)
    assert check["checked"]["in_domain"]["rows"] + check["checked"]["out_of_domain"]["rows"] == 3
    assert set(check["checked"]["baselines"]) == {"mlp ensemble", "graph networks", "boosted trees"}


def test_the_shipped_card_carries_the_check_as_a_headline_and_a_limitation():
    card = registry.card("drug-solubility")
    checked = card["metrics"]["external"]["checked"]
    assert checked["rows"] > 400
    assert checked["rmse_95ci"][0] <= checked["rmse"] <= checked["rmse_95ci"][1]
    figure = next(h for h in card["headline"] if h["split"].startswith("external"))
    assert figure["value"] == checked["rmse"] and not figure["higher_is_better"]
    assert next(iter(figure["baseline"])) == "boosted trees", "the validation headline's comparator comes first"
    assert sum(item.startswith("On Huuskonen") for item in card["limitations"]) == 1


def test_the_card_check_is_reproduced_by_the_shipped_weights():
    if not (config.data_dir() / external.HUUSKONEN_FILE).is_file():
        pytest.skip("Huuskonen's file not available (MEDAI_DATA_DIR)")
    model = registry.load("drug-solubility")
    check = external.external_check(model, external.known_values())
    assert check["checked"]["rmse"] == pytest.approx(
        registry.card("drug-solubility")["metrics"]["external"]["checked"]["rmse"], abs=2e-3)


def test_writing_the_check_twice_replaces_it(monkeypatch):
    monkeypatch.setattr(external, "known_values", lambda: {})
    monkeypatch.setattr(external, "external_check", lambda model, known: {
        "checked": {"rows": 3, "rmse": 0.7, "rmse_95ci": [0.6, 0.8], "in_domain": {"rows": 2, "rmse": 0.6},
                    "baselines": {"mlp ensemble": 0.75, "boosted trees": 0.71}}})
    card = {"metrics": {}, "headline": [{"name": "logS: RMSE", "split": "validation"}], "limitations": ["As trained."]}
    for _ in range(2):  # `python -m medai.drug.external` may be run again on a card that has it
        external.add_to_card(card, model=None)
    assert [h["split"] for h in card["headline"]] == ["validation", "external (another compilation)"]
    assert len(card["limitations"]) == 2 and list(card["headline"][1]["baseline"])[0] == "boosted trees"
