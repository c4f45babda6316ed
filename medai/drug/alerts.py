"""Structural alerts: PAINS (Baell & Holloway 2010) and Brenk (2008) substructures, named.

RDKit's FilterCatalog holds both lists; each match names the alert, so a chemist sees *which*
substructure was flagged, not only that one was. A pattern-fingerprint screen (RDKit's substructure
screen, which never drops a true match) picks the ~14 % of the 585 alerts worth matching per molecule.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rdkit import Chem, DataStructs
from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogEntry, FilterCatalogParams

CATALOGS = {"PAINS": FilterCatalogParams.FilterCatalogs.PAINS, "Brenk": FilterCatalogParams.FilterCatalogs.BRENK}
# Brenk's "hydroquinone" ([OH]c1ccc([OH,NH2,NH])cc1) also matches p-aminophenols such as paracetamol.
AMINOPHENOL_NOTE = "here a p-aminophenol, which can oxidise to a reactive quinone imine"
SCREEN_BITS = 2048


@dataclass(frozen=True)
class Alert:
    """One matched structural alert.

    Attributes
    ----------
    catalog : str
        ``"PAINS"`` or ``"Brenk"``.
    name : str
        The alert's name as the catalog gives it (e.g. ``"ene_rhod_A(235)"``, ``"Michael_acceptor_1"``).
    atoms : tuple of int
        Atom indices of the first match, for highlighting.
    note : str
        What the match is, where the catalog's name misleads ('' otherwise).
    """

    catalog: str
    name: str
    atoms: tuple[int, ...]
    note: str = ""


@lru_cache(maxsize=1)
def _catalogs() -> dict[str, FilterCatalog]:
    catalogs = {}
    for name, which in CATALOGS.items():
        params = FilterCatalogParams()
        params.AddCatalog(which)
        catalogs[name] = FilterCatalog(params)
    return catalogs


def _pattern_bits(mol: Chem.Mol) -> np.ndarray:
    """RDKit's pattern (substructure-screen) fingerprint as bytes, shape (SCREEN_BITS / 8,), uint8."""
    fingerprint = Chem.PatternFingerprint(mol, fpSize=SCREEN_BITS)
    return np.frombuffer(DataStructs.BitVectToBinaryText(fingerprint), dtype=np.uint8)


def _query_of(entry: FilterCatalogEntry) -> Chem.Mol | None:
    """The entry's SMARTS query, read from its serialised form (RDKit's Python API does not expose
    it): ``... <name length> <name> <pickle length> <pickled query> ...``; None when that fails."""
    raw, name = entry.Serialize(), entry.GetDescription().encode()
    try:
        start = raw.index(b" " + name + b" ") + len(name) + 2
        end = raw.index(b" ", start)
        return Chem.Mol(raw[end + 1:end + 1 + int(raw[start:end])])
    except (ValueError, RuntimeError):
        return None


@lru_cache(maxsize=1)
def _screened_entries() -> tuple[list[tuple[str, FilterCatalogEntry]], np.ndarray]:
    """Every entry, PAINS first in catalog order, and its query's pattern bits, shape (n_entries,
    SCREEN_BITS / 8); an entry whose query cannot be read gets no bits, so it is always matched."""
    entries, bits = [], []
    for catalog_name, catalog in _catalogs().items():
        for index in range(catalog.GetNumEntries()):
            entry = catalog.GetEntryWithIdx(index)
            query = _query_of(entry)
            entries.append((catalog_name, entry))
            bits.append(_pattern_bits(query) if query is not None else np.zeros(SCREEN_BITS // 8, np.uint8))
    return entries, np.stack(bits)


def find_alerts(mol: Chem.Mol) -> list[Alert]:
    """Every PAINS and Brenk alert matched by ``mol``, PAINS first, each catalog in its own order."""
    entries, query_bits = _screened_entries()
    molecule_bits = _pattern_bits(mol)
    alerts = []
    for position in np.flatnonzero(np.all(query_bits & molecule_bits == query_bits, axis=1)):
        catalog_name, entry = entries[position]
        matches = entry.GetFilterMatches(mol)
        if not matches:
            continue
        atoms = tuple(index for _, index in matches[0].atomPairs)
        name = entry.GetDescription()
        aminophenol = name == "hydroquinone" and any(mol.GetAtomWithIdx(i).GetAtomicNum() == 7 for i in atoms)
        alerts.append(Alert(catalog_name, name, atoms, AMINOPHENOL_NOTE if aminophenol else ""))
    return alerts


def alert_columns(alerts: list[Alert]) -> dict[str, object]:
    """CSV columns: counts per catalog and the names, ``;``-separated."""
    return {"pains_alerts": sum(a.catalog == "PAINS" for a in alerts),
            "brenk_alerts": sum(a.catalog == "Brenk" for a in alerts),
            "alerts": "; ".join(f"{a.catalog}: {a.name}" + (f" ({a.note})" if a.note else "") for a in alerts)}
