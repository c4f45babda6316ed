"""The screen path: one row per input in order, invalid rows kept, predictions with uncertainty,
domain and percentiles, one audit record per model."""

import numpy as np
import pytest

from medai import registry
from medai.drug.io import MoleculeInput
from medai.drug.service import SCREEN_MODELS, csv_columns, prediction_columns, screen
from medai.store import AuditStore

INPUTS = [MoleculeInput("aspirin", "CC(=O)Oc1ccccc1C(=O)O"), MoleculeInput("junk", "not a smiles"),
          MoleculeInput("salt", "CC(=O)Oc1ccccc1C(=O)[O-].[Na+]"), MoleculeInput("empty", ""),
          MoleculeInput("unreadable", "", "Row 5 has no SMILES cell."),
          MoleculeInput("steroid-like", "C[C@]12CC[C@H]3[C@@H](CC=C4C[C@@H](O)CC[C@@]43C)[C@@H]1CC[C@@H]2O")]


@pytest.fixture(scope="module")
def screened():
    return screen(INPUTS)


def test_every_shipped_screen_model_is_registered():
    assert set(SCREEN_MODELS) <= set(registry.names())


def test_rows_in_input_order_with_invalid_rows_kept(screened):
    rows = screened.molecules
    assert [r.id for r in rows] == [i.id for i in INPUTS]
    assert [r.valid for r in rows] == [True, False, True, False, False, True]
    assert "syntax" in rows[1].message and "Empty" in rows[3].message and "no SMILES" in rows[4].message
    assert rows[0].canonical_smiles == rows[2].canonical_smiles  # the salt is its parent
    assert "Same molecule, once standardised, as aspirin." in rows[2].message
    assert "Same molecule" not in rows[0].message


def test_predictions_have_the_contract_columns_and_uncertainty(screened):
    columns = prediction_columns()
    assert {"logS", "logD", "bbb_penetration", "clinical_toxicity", "bace1_active"} <= set(columns)
    assert "tox21_NR-AR" in columns and "tox21_SR-p53" in columns and len([c for c in columns if c.startswith("tox21_")]) == 12
    aspirin = screened.molecules[0]
    for column in columns:
        value, std = aspirin.predictions[column]
        assert np.isfinite(value) and std >= 0
        if column not in ("logS", "logD"):
            assert 0 <= value <= 1
    assert -4 < aspirin.predictions["logS"][0] < 1  # measured about -1.7


def test_domain_and_percentiles(screened):
    aspirin = screened.molecules[0]
    assert 0 < aspirin.nearest_train_similarity <= 1 and aspirin.in_domain in (True, False)
    assert set(aspirin.domain_by_model) == set(SCREEN_MODELS)
    assert 0 <= aspirin.percentiles["mw"] <= 100 and 0 <= aspirin.percentiles["logS"] <= 100
    assert aspirin.percentiles["mw"] < 30  # aspirin (180 g/mol) is smaller than most approved drugs


def test_csv_row_has_every_column(screened):
    columns = csv_columns()
    row = screened.molecules[0].row(columns)
    assert list(row) == columns
    assert row["logS_std"] != "" and row["in_domain"] in (True, False)
    assert screened.molecules[1].row(columns)["logS"] == ""


def test_the_worst_tox21_signal_and_the_models_in_domain_are_columns_of_the_screen(screened):
    """What the page's table shows ('max P(Tox21)', 'models in domain') the CLI writes too."""
    columns = csv_columns()
    assert columns.index("tox21_max") == columns.index("bace1_active_std") + 1
    assert columns.index("models_in_domain") == columns.index("in_domain") + 1
    aspirin = screened.molecules[0]
    tox21 = [value for column, (value, _) in aspirin.predictions.items() if column.startswith("tox21_")]
    row = aspirin.row(columns)
    assert len(tox21) == 12 and row["tox21_max"] == round(max(tox21), 4)
    inside = sum(similarity >= cutoff for similarity, cutoff in aspirin.domain_by_model.values())
    assert row["models_in_domain"] == f"{inside} of {len(SCREEN_MODELS)}"
    assert screened.molecules[1].row(columns)["tox21_max"] == screened.molecules[1].row(columns)["models_in_domain"] == ""
    assert "tox21_max" not in csv_columns(["drug-solubility"])


def test_one_audit_record_per_model(tmp_path):
    store = AuditStore(f"sqlite:///{tmp_path / 'a.sqlite'}")
    result = screen(INPUTS[:2], store=store, user="chemist", source="test")
    records = store.recent_predictions()
    assert len(records) == len(SCREEN_MODELS) == len(result.record_ids)
    assert {r.model_name for r in records} == set(SCREEN_MODELS)
    assert all(r.label == "1 valid of 2 molecules" and r.user == "chemist" and len(r.input_sha256) == 64
               for r in records)


def test_the_inputs_own_columns_come_back_beside_the_predictions():
    """A chemist's assay column is carried to the output; one named like ours gets an ``input_`` prefix."""
    inputs = [MoleculeInput("a", "CCO", carried=(("pIC50", "6.1"), ("logS", "-0.2"))),
              MoleculeInput("b", "", "Row 2 has no SMILES cell.", (("pIC50", "5.0"), ("logS", "")))]
    result = screen(inputs, ["drug-solubility"], workers=1)
    assert result.carried_columns == ["pIC50", "input_logS"]
    assert result.columns[-2:] == ["pIC50", "input_logS"] and "logS" in result.columns
    first, second = (m.row(result.columns) for m in result.molecules)
    assert first["pIC50"] == "6.1" and first["input_logS"] == "-0.2" and first["logS"] not in ("", "-0.2")
    assert second["pIC50"] == "5.0" and second["valid"] is False


def test_a_molecule_the_model_trained_on_is_said_to_be_so():
    """Celecoxib is in ClinTox (a toxicity failure there): its prediction recalls that label, and the row says so."""
    from medai.drug.service import seen_in_training

    (celecoxib,) = screen([MoleculeInput("celecoxib", "Cc1ccc(-c2cc(C(F)(F)F)nn2-c2ccc(S(N)(=O)=O)cc2)cc1")],
                          ["drug-clintox", "drug-bace"], workers=1).molecules
    assert celecoxib.domain_by_model["drug-clintox"][0] == pytest.approx(1.0)
    assert "Same fingerprint as a training molecule of drug-clintox (Tanimoto 1.00" in celecoxib.message
    assert "drug-bace (" not in celecoxib.message.split("Same fingerprint")[1]
    assert seen_in_training({"drug-bbbp": (0.99, 0.4)}) == ""


def test_a_carried_name_never_lands_on_another():
    from medai.drug.service import carried_names

    inputs = [MoleculeInput("a", "CCO", carried=(("logS", "-1.7"), ("input_logS", "x"), ("Notes", "n")))]
    assert carried_names(inputs, ["id", "logS"]) == {"logS": "input_logS_2", "input_logS": "input_logS",
                                                     "Notes": "Notes"}


def test_smiles_come_back_as_given_even_with_spaces_around_them():
    """ESOL's file has trailing spaces in 190 of its SMILES: the output's ``smiles`` keeps them, so a
    reader can join the results to the input on it, while the molecule is read without them."""
    from medai.drug.io import read_csv

    rows = read_csv(b"name,smiles\nethanol,CCO  \nbenzene, c1ccccc1\nblank,  \n")
    assert [r.smiles for r in rows] == ["CCO  ", " c1ccccc1", "  "]
    ethanol, benzene, blank = screen(rows, ["drug-solubility"], workers=1).molecules
    assert ethanol.row(["smiles", "canonical_smiles", "valid"]) == {"smiles": "CCO  ", "canonical_smiles": "CCO",
                                                                    "valid": True}
    assert benzene.smiles == " c1ccccc1" and benzene.canonical_smiles == "c1ccccc1"
    assert not blank.valid and "Empty" in blank.message


def test_the_similarity_column_is_the_strictest_model_s():
    result = screen([MoleculeInput("a", "CCO"), MoleculeInput("b", "c1ccccc1C(=O)Nc1ccc(F)cc1")], workers=1)
    for molecule in result.molecules:
        domain = molecule.domain_by_model  # model -> (nearest similarity, cut-off)
        strictest = min(domain, key=lambda name: domain[name][0] - domain[name][1])
        assert molecule.nearest_train_similarity == domain[strictest][0]
        assert len({similarity - cutoff for similarity, cutoff in domain.values()}) > 1, "the models differ"
