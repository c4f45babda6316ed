"""Molecules as graphs for the message-passing member, and its forward pass in NumPy.

Atoms are nodes and each bond two directed edges, as in chemprop's D-MPNN (Yang K et al., J Chem Inf
Model 59:3370-3388, 2019): messages travel along directed bonds, and a bond's message never flows
straight back along its reverse. Featurising needs RDKit only; screening needs no TensorFlow (the
Keras network in :mod:`medai.drug.message_passing` is for training).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from rdkit import Chem
from scipy import sparse

ELEMENTS = (1, 5, 6, 7, 8, 9, 11, 14, 15, 16, 17, 34, 35, 53)
HYBRIDISATIONS = (Chem.HybridizationType.SP, Chem.HybridizationType.SP2, Chem.HybridizationType.SP3,
                  Chem.HybridizationType.SP3D, Chem.HybridizationType.SP3D2)
BOND_TYPES = (Chem.BondType.SINGLE, Chem.BondType.DOUBLE, Chem.BondType.TRIPLE, Chem.BondType.AROMATIC)
RING_SIZES = (3, 4, 5, 6, 7)


def _one_hot(value: object, choices: Sequence[object]) -> list[float]:
    """One-hot over ``choices`` plus a last slot for anything else."""
    slots = [0.0] * (len(choices) + 1)
    slots[choices.index(value) if value in choices else -1] = 1.0
    return slots


def atom_features(atom: Chem.Atom) -> list[float]:
    """Element, degree, formal charge, chirality, hydrogens, hybridisation, aromaticity, ring sizes, mass / 100."""
    return (_one_hot(atom.GetAtomicNum(), ELEMENTS) + _one_hot(atom.GetTotalDegree(), (0, 1, 2, 3, 4, 5))
            + _one_hot(atom.GetFormalCharge(), (-1, 0, 1)) + _one_hot(int(atom.GetChiralTag()), (0, 1, 2))
            + _one_hot(atom.GetTotalNumHs(), (0, 1, 2, 3, 4)) + _one_hot(atom.GetHybridization(), HYBRIDISATIONS)
            + [float(atom.GetIsAromatic()), float(atom.IsInRing()), atom.GetMass() * 0.01]
            + [float(atom.IsInRingSize(size)) for size in RING_SIZES])


def bond_features(bond: Chem.Bond) -> list[float]:
    """Bond type, conjugation, ring membership, stereo (any)."""
    return (_one_hot(bond.GetBondType(), BOND_TYPES)[:-1]
            + [float(bond.GetIsConjugated()), float(bond.IsInRing()),
               float(bond.GetStereo() != Chem.BondStereo.STEREONONE)])


ATOM_FEATURES = len(atom_features(Chem.MolFromSmiles("C").GetAtomWithIdx(0)))
BOND_FEATURES = len(bond_features(Chem.MolFromSmiles("CC").GetBondWithIdx(0)))


@dataclass(frozen=True)
class MolGraph:
    """One molecule's graph.

    Attributes
    ----------
    atoms : ndarray of float32, shape (n_atoms, ATOM_FEATURES)
    source, target : ndarray of int32, shape (2 · n_bonds,)
        Directed bond 2k runs source → target; 2k + 1 is its reverse.
    bonds : ndarray of float32, shape (2 · n_bonds, BOND_FEATURES)
    """

    atoms: np.ndarray
    source: np.ndarray
    target: np.ndarray
    bonds: np.ndarray


def to_graph(mol: Chem.Mol) -> MolGraph:
    """The heavy-atom graph of ``mol`` (hydrogens implicit, counted on their atom)."""
    atoms = np.array([atom_features(atom) for atom in mol.GetAtoms()], np.float32).reshape(-1, ATOM_FEATURES)
    source, target, bonds = [], [], []
    for bond in mol.GetBonds():
        begin, end, features = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx(), bond_features(bond)
        source += [begin, end]
        target += [end, begin]
        bonds += [features, features]
    return MolGraph(atoms, np.array(source, np.int32), np.array(target, np.int32),
                    np.array(bonds, np.float32).reshape(-1, BOND_FEATURES))


def _parse(smiles: str) -> Chem.Mol:
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:  # a few standardised parents (Tox21's c1cccc1 and [SbH9]) do not parse back sanitised
        mol = Chem.MolFromSmiles(smiles, sanitize=False)
        mol.UpdatePropertyCache(strict=False)
        Chem.FastFindRings(mol)
    return mol


def graphs_of(smiles: Sequence[str]) -> list[MolGraph]:
    """Graphs of canonical SMILES of standardised molecules (as :class:`medai.drug.datasets.MoleculeSet` holds)."""
    return [to_graph(_parse(text)) for text in smiles]


@dataclass(frozen=True)
class GraphBatch:
    """Several molecules' graphs as one disconnected graph.

    Attributes
    ----------
    atoms : ndarray, shape (n_atoms, ATOM_FEATURES)
    source, target, reverse : ndarray of int32, shape (n_directed_bonds,)
        Endpoints of each directed bond and the index of its reverse.
    bonds : ndarray, shape (n_directed_bonds, BOND_FEATURES)
    molecule : ndarray of int32, shape (n_atoms,)
        Which molecule (0 … n_molecules - 1) each atom belongs to.
    molecules : int
    """

    atoms: np.ndarray
    source: np.ndarray
    target: np.ndarray
    reverse: np.ndarray
    bonds: np.ndarray
    molecule: np.ndarray
    molecules: int


def batch_graphs(graphs: Sequence[MolGraph]) -> GraphBatch:
    """Join ``graphs`` into one :class:`GraphBatch`, atom and bond indices offset per molecule."""
    atom_counts = np.array([len(g.atoms) for g in graphs])
    bond_counts = np.array([len(g.source) for g in graphs])
    atom_offsets = np.repeat(np.cumsum(atom_counts) - atom_counts, bond_counts)
    bond_total = int(bond_counts.sum())
    return GraphBatch(
        atoms=np.concatenate([g.atoms for g in graphs]),
        source=(np.concatenate([g.source for g in graphs]) + atom_offsets).astype(np.int32),
        target=(np.concatenate([g.target for g in graphs]) + atom_offsets).astype(np.int32),
        # Bond pairs (2k, 2k + 1) stay adjacent in every molecule, so XOR 1 finds the reverse.
        reverse=(np.arange(bond_total) ^ 1).astype(np.int32),
        bonds=np.concatenate([g.bonds for g in graphs]),
        molecule=np.repeat(np.arange(len(graphs)), atom_counts).astype(np.int32),
        molecules=len(graphs))


class GraphNetwork:
    """A trained D-MPNN member's forward pass in NumPy (dropout off).

    Parameters
    ----------
    weights : list of ndarray
        As :meth:`medai.drug.message_passing.DirectedMPNN.ordered_weights` gives them: input kernel (ATOM + BOND, h), message
        kernel (h, h), atom kernel (ATOM + h, h) and bias, hidden kernel (h, h) and bias, output
        kernel (h, n_tasks) and bias.
    depth : int
        Message-passing steps.
    """

    def __init__(self, weights: list[np.ndarray], depth: int):
        self.weights = [np.asarray(w, np.float32) for w in weights]
        self.depth = depth

    def get_weights(self) -> list[np.ndarray]:
        """The arrays, in the order the constructor takes them."""
        return self.weights

    def __call__(self, batch: GraphBatch) -> np.ndarray:
        """Outputs (n_molecules, n_tasks): logits or standardised values."""
        w_input, w_message, w_atom, b_atom, w_hidden, b_hidden, w_out, b_out = self.weights
        n_atoms, n_bonds = len(batch.atoms), len(batch.source)
        into_atom = sparse.csr_matrix((np.ones(n_bonds, np.float32), (batch.target, np.arange(n_bonds))),
                                      shape=(n_atoms, n_bonds))
        initial = np.concatenate([batch.atoms[batch.source], batch.bonds], axis=1) @ w_input
        hidden = np.maximum(initial, 0.0)
        for _ in range(self.depth - 1):
            incoming = into_atom @ hidden
            hidden = np.maximum(initial + (incoming[batch.source] - hidden[batch.reverse]) @ w_message, 0.0)
        atom_states = np.maximum(np.concatenate([batch.atoms, into_atom @ hidden], axis=1) @ w_atom + b_atom, 0.0)
        counts = np.bincount(batch.molecule, minlength=batch.molecules).astype(np.float32)
        pooled = sparse.csr_matrix((np.ones(n_atoms, np.float32), (batch.molecule, np.arange(n_atoms))),
                                   shape=(batch.molecules, n_atoms)) @ atom_states / np.maximum(counts, 1.0)[:, None]
        return np.maximum(pooled @ w_hidden + b_hidden, 0.0) @ w_out + b_out
