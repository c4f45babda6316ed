"""One verb per function, datamol-style: SMILES → Mol → standardised Mol → canonical SMILES.

Every model and every table sees molecules through :func:`standardize_mol`, so a salt and a charged
form of one compound give one answer; the models also read its :func:`canonical_tautomer`, so that
tautomers give one prediction, while descriptors and alerts describe the tautomer as written (a
canonical form can turn an amidine into an imine and raise an alert the compound does not carry).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from rdkit import Chem, RDLogger
from rdkit.Chem.MolStandardize import rdMolStandardize

from medai.errors import InvalidMoleculeError

RDLogger.DisableLog("rdApp.*")  # RDKit writes parse errors to stderr; we report them per row instead

MAX_SMILES_LENGTH = 1_000
MAX_HEAVY_ATOMS = 150
# A capped enumeration: canonical for the common keto/enol, amide/imidic and lactam cases, and no
# more than a millisecond or two for large, many-tautomer molecules.
MAX_TAUTOMERS = 20
MAX_TAUTOMER_TRANSFORMS = 50
# Metals that stand beside a drug as a salt's counter-ion (Li, Na, K, Rb, Cs, Mg, Ca, Sr, Ba); any other
# metal in a disconnected SMILES is taken as a complex written as fragments (cisplatin as N.N.Cl[Pt]Cl).
COUNTER_ION_METALS = frozenset({3, 11, 19, 37, 55, 12, 20, 38, 56})
NON_METALS = frozenset({1, 2, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 33, 34, 35, 36, 52, 53, 54, 85, 86})


@lru_cache(maxsize=1)
def _standardizers() -> tuple:
    enumerator = rdMolStandardize.TautomerEnumerator()
    enumerator.SetMaxTautomers(MAX_TAUTOMERS)
    enumerator.SetMaxTransforms(MAX_TAUTOMER_TRANSFORMS)
    enumerator.SetRemoveBondStereo(False)
    enumerator.SetRemoveSp3Stereo(False)
    return rdMolStandardize.LargestFragmentChooser(), rdMolStandardize.Uncharger(), enumerator


def to_mol(smiles: str) -> Chem.Mol:
    """Parse a SMILES string (sanitised); raises :class:`InvalidMoleculeError` with the reason."""
    text = (smiles or "").strip()
    if not text:
        raise InvalidMoleculeError("Empty SMILES.")
    if len(text) > MAX_SMILES_LENGTH:
        raise InvalidMoleculeError(f"SMILES longer than {MAX_SMILES_LENGTH} characters.")
    mol = Chem.MolFromSmiles(text, sanitize=False)
    if mol is None:
        raise InvalidMoleculeError("Not a valid SMILES (syntax error).")
    problems = Chem.DetectChemistryProblems(mol)
    if problems:
        raise InvalidMoleculeError(_problem_text(problems[0]))
    Chem.SanitizeMol(mol)
    return mol


def _problem_text(problem: Any) -> str:
    """RDKit's chemistry problem (one of ``Chem.DetectChemistryProblems``) in a chemist's words, atoms
    counted from 1 in the order written."""
    if problem.GetType() == "KekulizeException":
        atoms = ", ".join(str(index + 1) for index in problem.GetAtomIndices())
        return (f"Aromatic ring that cannot be drawn with alternating single and double bonds (atoms {atoms} as "
                "written): check the lower-case aromatic atoms, and write a pyrrole-type nitrogen as [nH].")
    found = re.search(r"atom # \d+ (\w+), (\d+)", problem.Message())  # "... for atom # 0 C, 5, is greater ..."
    if problem.GetType() == "AtomValenceException" and found:
        return (f"Impossible valence: atom {problem.GetAtomIdx() + 1} as written ({found[1]}) has valence "
                f"{found[2]}, more than {found[1]} allows.")
    return f"Invalid chemistry: {problem.Message()}."


def kept_whole(mol: Chem.Mol) -> bool:
    """Whether a disconnected ``mol`` must not be cut to one fragment: a metal complex written as
    fragments (a metal other than a salt's counter-ion), or a species without carbon, whose largest
    fragment would be a ligand or an ion (ammonia from cisplatin, HCl from NaCl)."""
    if len(Chem.GetMolFrags(mol)) < 2:
        return False
    numbers = {atom.GetAtomicNum() for atom in mol.GetAtoms()}
    return 6 not in numbers or bool(numbers - NON_METALS - COUNTER_ION_METALS)


def canonical_tautomer(mol: Chem.Mol) -> Chem.Mol:
    """RDKit's canonical tautomer (a capped enumeration), as the models were trained on."""
    return _standardizers()[2].Canonicalize(mol)


def standardize_mol(mol: Chem.Mol, tautomer: bool = True, keep_complexes: bool = True) -> Chem.Mol:
    """Largest fragment (unless ``keep_complexes`` and :func:`kept_whole`), neutralised, and (by
    default) its canonical tautomer.

    Raises
    ------
    InvalidMoleculeError
        When nothing is left (no atoms) or the molecule is too large to be a drug candidate.
    """
    chooser, uncharger, _ = _standardizers()
    parent = uncharger.uncharge(mol if keep_complexes and kept_whole(mol) else chooser.choose(mol))
    if parent.GetNumAtoms() == 0:
        raise InvalidMoleculeError("No atoms after removing salts and solvents.")
    if parent.GetNumHeavyAtoms() > MAX_HEAVY_ATOMS:
        raise InvalidMoleculeError(f"More than {MAX_HEAVY_ATOMS} heavy atoms: not a small molecule.")
    return canonical_tautomer(parent) if tautomer else parent


def to_smiles(mol: Chem.Mol) -> str:
    """Canonical isomeric SMILES."""
    return Chem.MolToSmiles(mol)


def standardize_smiles(smiles: str, tautomer: bool = True) -> str:
    """SMILES in, canonical SMILES of its standardised parent out."""
    return to_smiles(standardize_mol(to_mol(smiles), tautomer=tautomer))
