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
    assert map_chunks(lengths, ["C"] * (CHUNK + 7), seen.append) == [CHUNK, 7] and seen == [CHUNK, 7]


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
