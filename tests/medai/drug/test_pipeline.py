"""The chunked map of a screen: in order, serial below PARALLEL_FROM, and a worker that dies is a plain error."""

from __future__ import annotations

import os

import pytest

from medai.drug.pipeline import CHUNK, PARALLEL_FROM, map_chunks
from medai.errors import WorkerError


def lengths(smiles: list[str]) -> int:
    return len(smiles)


def die(smiles: list[str]) -> int:
    os._exit(3)  # what an out-of-memory kill or a crash inside RDKit looks like to the parent


def test_chunks_come_back_in_order_with_progress():
    seen = []
    assert map_chunks(lengths, ["C"] * 14, seen.append) == [3, 3, 3, 3, 2] == seen  # a small screen's bar moves
    seen = []
    assert map_chunks(lengths, ["C"] * (PARALLEL_FROM + 7), seen.append, workers=2) == (
        [CHUNK] * (PARALLEL_FROM // CHUNK) + [7]) == seen


def test_a_worker_that_dies_gives_a_plain_error_not_a_traceback():
    with pytest.raises(WorkerError, match="worker process stopped"):
        map_chunks(die, ["C"] * PARALLEL_FROM, workers=2)


def test_a_salt_is_standardised_with_a_note_saying_so():
    from medai.drug.pipeline import prepare

    salt = prepare("CC(=O)[O-].[Na+]")
    assert salt.canonical_smiles == "CC(=O)O"
    assert "largest fragment" in salt.note and "neutralised" in salt.note
    assert prepare("CC(=O)O").note == ""


@pytest.mark.parametrize("smiles", ["[Na+].[Cl-]", "O", "O=S(=O)(O)O"])
def test_an_inorganic_species_is_screened_but_said_to_be_a_guess(smiles):
    from medai.drug.pipeline import INORGANIC_NOTE, prepare

    inorganic = prepare(smiles)
    assert not inorganic.error and INORGANIC_NOTE in inorganic.note
    assert INORGANIC_NOTE not in prepare("C").note


def test_a_metal_complex_written_as_fragments_is_screened_whole_with_a_note():
    from medai.drug.pipeline import INORGANIC_NOTE, METAL_COMPLEX_NOTE, prepare

    cisplatin = prepare("N.N.Cl[Pt]Cl")
    assert "Pt" in cisplatin.canonical_smiles and INORGANIC_NOTE in cisplatin.note
    assert "largest fragment of a salt" not in cisplatin.note
    carboplatin = prepare("C1CC(C1)(C(=O)O)C(=O)O.N.N.[Pt]")
    assert "Pt" in carboplatin.canonical_smiles and METAL_COMPLEX_NOTE in carboplatin.note


def test_alerts_and_donors_describe_the_tautomer_as_written_and_the_models_read_the_canonical_one():
    """The canonical tautomer of a BACE amidine is an imine: Brenk's imine alert and a third donor
    would describe a structure the chemist did not write."""
    from medai.drug.featurize import to_features
    from medai.drug.pipeline import prepare
    from medai.drug.standardize import standardize_mol, to_mol, to_smiles

    amidine = "O=C(Nc1ccc(F)c(c1)[C@]12CSC(N)=N[C@@H]1COC2)c1ccc(F)cn1"  # LY2886721
    prepared = prepare(amidine)
    assert "C(N)=N" in prepared.canonical_smiles or "NC1=N" in prepared.canonical_smiles
    assert prepared.descriptors.hbd == 2 and not any("imine" in alert.name for alert in prepared.alerts)
    canonical = standardize_mol(to_mol(amidine))
    assert "N=C" in to_smiles(canonical)  # the form the models were trained on differs ...
    assert prepared.features.tobytes() == to_features(canonical).tobytes()  # ... and is what they read


def test_alert_atoms_are_numbered_as_the_canonical_smiles_writes_them():
    """The page draws the canonical SMILES and highlights these atoms: they must be its atoms."""
    from rdkit import Chem

    from medai.drug.alerts import find_alerts
    from medai.drug.pipeline import prepare

    prepared = prepare("c1ccc(cc1)CCCCCC=O")  # an aldehyde written from its far end
    assert prepared.alerts
    drawn = Chem.MolFromSmiles(prepared.canonical_smiles)
    assert [a.atoms for a in prepared.alerts] == [a.atoms for a in find_alerts(drawn)]
