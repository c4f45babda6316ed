"""Model inputs of a molecule: Morgan count fingerprint + fast RDKit descriptors.

Only descriptors that cost well under a millisecond together are used, so that screening stays fast;
the slow ones (Ipc, BertzCT, QED, full ``CalcMolDescriptors``) bring little on these tasks.

The descriptor block only ever grows at its end: a model trained on the first ``n`` descriptors
(its scaler and tree columns say how many) keeps reading exactly those when later blocks are added.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from rdkit import Chem, DataStructs
from rdkit.Chem import Fragments, rdFingerprintGenerator, rdMolDescriptors, rdPartialCharges
from rdkit.Chem.EState import EState, EState_VSA

MORGAN_RADIUS = 2
MORGAN_BITS = 2048
_ESTATE_VSA = [getattr(EState_VSA, f"EState_VSA{i}") for i in range(1, 12)]
_VSA_ESTATE = [getattr(EState_VSA, f"VSA_EState{i}") for i in range(1, 11)]
_FRAGMENT_NAMES = sorted(name for name in dir(Fragments) if name.startswith("fr_"))
_FRAGMENTS = [getattr(Fragments, name) for name in _FRAGMENT_NAMES]
_BCUT_NAMES = ["BCUT2D_MWHI", "BCUT2D_MWLOW", "BCUT2D_CHGHI", "BCUT2D_CHGLO", "BCUT2D_LOGPHI", "BCUT2D_LOGPLOW",
               "BCUT2D_MRHI", "BCUT2D_MRLOW"]
_EXTREMES = ["max", "min", "max_abs", "min_abs"]


@lru_cache(maxsize=1)
def _generators() -> tuple:
    return (rdFingerprintGenerator.GetMorganGenerator(radius=MORGAN_RADIUS, fpSize=MORGAN_BITS),
            rdMolDescriptors.Properties())


def descriptor_names() -> list[str]:
    """Names of the descriptor block of :func:`to_features`, in order."""
    _, properties = _generators()
    return (list(properties.GetPropertyNames()) + [f"SlogP_VSA{i}" for i in range(1, 13)]
            + [f"SMR_VSA{i}" for i in range(1, 11)] + [f"PEOE_VSA{i}" for i in range(1, 15)]
            + [f"EState_VSA{i}" for i in range(1, 12)] + [f"MQN{i}" for i in range(1, 43)]
            + [f"AUTOCORR2D_{i}" for i in range(1, 193)]
            # Added in 1.1.0: fragment counts, BCUT, E-state and charge extremes (~1 ms together).
            + _FRAGMENT_NAMES + _BCUT_NAMES + [f"VSA_EState{i}" for i in range(1, 11)]
            + [f"EStateIndex_{e}" for e in _EXTREMES] + [f"GasteigerCharge_{e}" for e in _EXTREMES])


def _extremes(values: np.ndarray) -> list[float]:
    values = values[np.isfinite(values)]
    if not len(values):
        return [0.0] * len(_EXTREMES)
    return [values.max(), values.min(), np.abs(values).max(), np.abs(values).min()]


def _gasteiger_charges(mol: Chem.Mol) -> np.ndarray:
    copy = Chem.Mol(mol)  # the charges are stored as atom properties: keep the caller's molecule clean
    rdPartialCharges.ComputeGasteigerCharges(copy)
    return np.array([atom.GetDoubleProp("_GasteigerCharge") for atom in copy.GetAtoms()], np.float64)


def _bcut(mol: Chem.Mol) -> list[float]:
    try:
        return list(rdMolDescriptors.BCUT2D(mol))
    except (ValueError, RuntimeError):  # BCUT needs Crippen / Gasteiger parameters for every atom
        return [0.0] * len(_BCUT_NAMES)


def to_descriptor_vector(mol: Chem.Mol) -> np.ndarray:
    """The descriptor block, shape (n_descriptors,), float32."""
    _, properties = _generators()
    values = (list(properties.ComputeProperties(mol)) + rdMolDescriptors.SlogP_VSA_(mol)
              + rdMolDescriptors.SMR_VSA_(mol) + rdMolDescriptors.PEOE_VSA_(mol)
              + [f(mol) for f in _ESTATE_VSA] + rdMolDescriptors.MQNs_(mol)
              + rdMolDescriptors.CalcAUTOCORR2D(mol)
              + [f(mol) for f in _FRAGMENTS] + _bcut(mol) + [f(mol) for f in _VSA_ESTATE]
              # force=False reuses the E-state indices that EState_VSA above cached on the molecule.
              + _extremes(np.asarray(EState.EStateIndices(mol, force=False), np.float64))
              + _extremes(_gasteiger_charges(mol)))
    return np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)


def to_fp(mol: Chem.Mol) -> np.ndarray:
    """Morgan radius-2 count fingerprint, shape (2048,), uint8 (counts capped at 255)."""
    morgan, _ = _generators()
    return np.minimum(morgan.GetCountFingerprintAsNumPy(mol), 255).astype(np.uint8)


def to_features(mol: Chem.Mol) -> np.ndarray:
    """Fingerprint counts then descriptors, shape (2048 + n_descriptors,), float32."""
    return np.concatenate([to_fp(mol).astype(np.float32), to_descriptor_vector(mol)])


def packed_bits(fingerprints: np.ndarray) -> np.ndarray:
    """Presence bits of count fingerprints (n, 2048), packed to (n, 256) uint8 for similarity search."""
    return np.packbits(fingerprints > 0, axis=1)


def nearest_similarity(query: np.ndarray, reference: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Tanimoto similarity of each query to its nearest reference molecule.

    Parameters
    ----------
    query, reference : ndarray of uint8, shapes (n, 256) and (m, 256)
        Packed presence bits from :func:`packed_bits`.

    Returns
    -------
    ndarray of float32, shape (n,)
        Max over the reference set of |a ∧ b| / |a ∨ b| (0 when both are empty).
    """
    reference_bits = np.unpackbits(reference, axis=1).astype(np.float32)
    reference_counts = reference_bits.sum(axis=1)
    best = np.zeros(len(query), dtype=np.float32)
    for start in range(0, len(query), chunk):
        bits = np.unpackbits(query[start:start + chunk], axis=1).astype(np.float32)
        common = bits @ reference_bits.T
        union = bits.sum(axis=1, keepdims=True) + reference_counts[None, :] - common
        best[start:start + chunk] = np.max(common / np.maximum(union, 1.0), axis=1)
    return best


def to_bit_fp(mol: Chem.Mol) -> DataStructs.ExplicitBitVect:
    """Morgan radius-2 bit fingerprint (2048 bits: the count fingerprint's presence bits), for Tanimoto similarity."""
    morgan, _ = _generators()
    return morgan.GetFingerprint(mol)


def tanimoto(a: Chem.Mol, b: Chem.Mol) -> float:
    """Tanimoto similarity of two molecules on Morgan radius-2 bit fingerprints."""
    return DataStructs.TanimotoSimilarity(to_bit_fp(a), to_bit_fp(b))
