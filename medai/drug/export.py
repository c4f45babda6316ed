"""Pictures and files of screened molecules: SVG structures (alerts highlighted) and SD files."""

from __future__ import annotations

import base64
import io
from typing import Sequence

from rdkit import Chem
from rdkit.Chem.Draw import rdMolDraw2D

from medai.drug.service import MoleculeResult

HIGHLIGHT = (0.95, 0.45, 0.35)


def to_svg(smiles: str, highlight_atoms: Sequence[int] = (), width: int = 320, height: int = 220) -> str:
    """SVG drawing of ``smiles`` with ``highlight_atoms`` (indices in that SMILES) shaded; '' if invalid."""
    mol = Chem.MolFromSmiles(smiles) if smiles else None
    if mol is None:
        return ""
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    atoms = [a for a in highlight_atoms if a < mol.GetNumAtoms()]
    rdMolDraw2D.PrepareAndDrawMolecule(drawer, mol, highlightAtoms=atoms,
                                       highlightAtomColors={a: HIGHLIGHT for a in atoms})
    drawer.FinishDrawing()
    return drawer.GetDrawingText()


def thumbnail_uri(smiles: str) -> str:
    """A small structure picture as a ``data:`` URI (for table image columns); '' if invalid."""
    svg = to_svg(smiles, width=150, height=100)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode() if svg else ""


def to_sdf(results: Sequence[MoleculeResult], columns: Sequence[str]) -> str:
    """An SD file of the valid molecules (standardised parents) with every CSV column as a property."""
    buffer = io.StringIO()
    writer = Chem.SDWriter(buffer)
    for result in results:
        if not result.valid:
            continue
        mol = Chem.MolFromSmiles(result.canonical_smiles)
        mol.SetProp("_Name", _one_line(result.id))
        for column, value in result.row(columns).items():
            if value != "" and column != "id":
                mol.SetProp(_one_line(column).replace("<", "(").replace(">", ")"), _one_line(str(value)))
        writer.write(mol)
    writer.close()
    return buffer.getvalue()


def _one_line(text: str) -> str:
    """``text`` on one line: a line break in a record's name, or a blank line in a property (both from the
    input file), would end the record's header or the property early and leave the SD file unreadable."""
    return " ".join(text.splitlines())
