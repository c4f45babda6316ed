"""Per-molecule work that needs no model (standardise, describe, find alerts, featurise), and the
chunked map that runs a screen's work in worker processes for large files.

Kept free of TensorFlow (the drug models run in NumPy and scikit-learn), so workers start fast.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Callable, Sequence, TypeVar

import numpy as np
from rdkit import Chem
from threadpoolctl import threadpool_limits

from medai.drug.alerts import Alert, find_alerts
from medai.drug.descriptors import Descriptors, describe_mol
from medai.drug.featurize import to_features
from medai.drug.graphs import MolGraph, to_graph
from medai.drug.standardize import canonical_tautomer, kept_whole, standardize_mol, to_mol, to_smiles
from medai.errors import MedAIError, WorkerError

PARALLEL_FROM = 2_000
INORGANIC_NOTE = ("No carbon atom: an inorganic species. The models learnt from organic molecules (and a few "
                  "inorganic ones in Tox21 and ClinTox), and the drug-likeness rules are for organic drugs: treat "
                  "every figure as a guess.")
METAL_COMPLEX_NOTE = ("A metal complex written as separate fragments: screened whole, not cut to its largest "
                      "fragment. Few training molecules hold such a metal: treat every figure as a guess.")
CHUNK = 500
PROGRESS_STEPS = 5  # a small screen still moves its progress bar this many times
T = TypeVar("T")


@dataclass(frozen=True)
class PreparedMolecule:
    """A standardised molecule's canonical SMILES, descriptors, alerts, model features and graph.

    Attributes
    ----------
    canonical_smiles : str
        Canonical SMILES of the standardised parent, in the tautomer as written ('' when invalid).
    error : str
        Why the molecule is invalid ('' when valid).
    descriptors : Descriptors or None
        Of the parent as written (its hydrogen-bond donors, not a canonical tautomer's).
    alerts : tuple of Alert
        Matched in the parent as written; atom indices follow ``canonical_smiles``.
    features : ndarray of float32, shape (n_features,), or None
        Model features of the parent's canonical tautomer, as the models were trained.
    note : str
        What standardisation changed that a reader should know (salt stripped, charges neutralised).
    graph : MolGraph or None
        The canonical tautomer's graph, for the message-passing members.
    """

    canonical_smiles: str
    error: str
    descriptors: Descriptors | None = None
    alerts: tuple[Alert, ...] = ()
    features: np.ndarray | None = None
    note: str = ""
    graph: MolGraph | None = None


def prepare(smiles: str) -> PreparedMolecule:
    """Everything about one SMILES that needs no model; an invalid one carries its reason."""
    try:
        given = to_mol(smiles)
        parent = standardize_mol(given, tautomer=False)
        canonical = to_smiles(parent)
        # Renumber atoms as the canonical SMILES writes them, so alert atom indices fit its drawing.
        order = [int(i) for i in parent.GetProp("_smilesAtomOutputOrder").strip("[],").split(",") if i]
        parent = Chem.RenumberAtoms(parent, order)
        tautomer = canonical_tautomer(parent)
        return PreparedMolecule(canonical, "", describe_mol(parent), tuple(find_alerts(parent)), to_features(tautomer),
                                standardisation_note(given, parent), to_graph(tautomer))
    except MedAIError as exc:
        return PreparedMolecule("", str(exc))
    except Exception:  # an RDKit failure on one odd molecule must cost one row, never the batch
        return PreparedMolecule("", "RDKit could not standardise or describe this molecule.")


def standardisation_note(given: Chem.Mol, parent: Chem.Mol) -> str:
    """What standardisation removed from ``given`` to reach ``parent``, and whether the parent is
    inorganic or a metal complex kept whole ('' when there is nothing to say)."""
    fragments = Chem.GetMolFrags(given, asMols=True)
    whole = kept_whole(given)
    largest = given if whole else max(fragments, key=lambda fragment: fragment.GetNumHeavyAtoms())

    def charged_atoms(mol: Chem.Mol) -> int:
        return sum(atom.GetFormalCharge() != 0 for atom in mol.GetAtoms())

    changes = []
    if len(fragments) > 1 and not whole:
        changes.append("kept the largest fragment of a salt or mixture")
    if charged_atoms(parent) < charged_atoms(largest):
        changes.append("neutralised charges")
    notes = [f"Standardised: {' and '.join(changes)}."] if changes else []
    organic = any(atom.GetAtomicNum() == 6 for atom in parent.GetAtoms())
    if whole and organic:
        notes.append(METAL_COMPLEX_NOTE)
    if not organic:
        notes.append(INORGANIC_NOTE)
    return " ".join(notes)


def _one_thread_each() -> None:
    """Each worker uses one BLAS / OpenMP thread: the workers already fill the cores, and an idle
    OpenMP thread of the boosted trees spins for CPU beside the RDKit work (5x slower screens)."""
    import sklearn.ensemble  # noqa: F401  loads the OpenMP runtime: threadpoolctl limits only loaded libraries

    threadpool_limits(1)


def map_chunks(function: Callable[[list[str]], T], smiles: Sequence[str],
               progress: Callable[[int], None] | None = None, workers: int = 2) -> list[T]:
    """``function`` over chunks of SMILES, in order; large batches use ``workers`` processes (chunks of
    ``CHUNK``), small ones run here in ``PROGRESS_STEPS`` chunks, so that ``progress`` moves.

    ``function`` must be importable by name (a worker process is spawned, not forked).
    """
    serial = len(smiles) < PARALLEL_FROM or workers < 2
    # In one process a chunk costs little more than its molecules, so a small screen is cut finer.
    size = max(1, min(CHUNK, -(-len(smiles) // PROGRESS_STEPS))) if serial else CHUNK
    chunks = [list(smiles[i:i + size]) for i in range(0, len(smiles), size)]
    results: list[T] = []
    if serial:
        for chunk in chunks:
            results.append(function(chunk))
            if progress:
                progress(len(chunk))
        return results
    # "spawn": the parent may hold TensorFlow threads, which a forked child must not inherit.
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"),
                                 initializer=_one_thread_each) as pool:
            for chunk, result in zip(chunks, pool.map(function, chunks)):
                results.append(result)
                if progress:
                    progress(len(chunk))
    except BrokenProcessPool as exc:
        raise WorkerError("A worker process stopped unexpectedly (out of memory, or a crash inside RDKit on one "
                          "molecule), so nothing was written. Split the input into smaller files and try again."
                          ) from exc
    return results
