"""Structural alerts: PAINS (Baell & Holloway 2010) and Brenk (2008) substructures, named.

RDKit's FilterCatalog holds both lists; each match names the alert, so a chemist sees *which*
substructure was flagged, not only that one was.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rdkit import Chem
from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

CATALOGS = {"PAINS": FilterCatalogParams.FilterCatalogs.PAINS, "Brenk": FilterCatalogParams.FilterCatalogs.BRENK}
# Brenk's "hydroquinone" ([OH]c1ccc([OH,NH2,NH])cc1) also matches p-aminophenols such as paracetamol.
AMINOPHENOL_NOTE = "here a p-aminophenol, which can oxidise to a reactive quinone imine"


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


def find_alerts(mol: Chem.Mol) -> list[Alert]:
    """Every PAINS and Brenk alert matched by ``mol``, PAINS first."""
    alerts = []
    for catalog_name, catalog in _catalogs().items():
        if not catalog.HasMatch(mol):  # most molecules match nothing; this test is the cheaper one
            continue
        for entry in catalog.GetMatches(mol):
            matches = entry.GetFilterMatches(mol)
            atoms = tuple(index for _, index in matches[0].atomPairs) if matches else ()
            name = entry.GetDescription()
            aminophenol = name == "hydroquinone" and any(mol.GetAtomWithIdx(i).GetAtomicNum() == 7 for i in atoms)
            alerts.append(Alert(catalog_name, name, atoms, AMINOPHENOL_NOTE if aminophenol else ""))
    return alerts


def alert_columns(alerts: list[Alert]) -> dict[str, object]:
    """CSV columns: counts per catalog and the names, ``;``-separated."""
    return {"pains_alerts": sum(a.catalog == "PAINS" for a in alerts),
            "brenk_alerts": sum(a.catalog == "Brenk" for a in alerts),
            "alerts": "; ".join(f"{a.catalog}: {a.name}" + (f" ({a.note})" if a.note else "") for a in alerts)}
