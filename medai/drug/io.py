"""Molecule lists in: CSV with a SMILES column, ``.smi``, SD files, or SMILES pasted as text.

Every input row becomes one :class:`MoleculeInput`, in input order — a row that cannot be read
keeps its place with a message, so nothing is dropped silently.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass

from rdkit import Chem

from medai.csv_input import csv_rows, decode_text, delimiter_of
from medai.errors import InputError, InputTooLargeError, TooManyMoleculesError

MAX_INPUT_BYTES = 50 * 1024 * 1024
MAX_MOLECULES = 200_000
# Header names compared lower-case without spaces or punctuation ("Canonical SMILES" = "canonicalsmiles"),
# in order of preference; then any header containing "smiles" (e.g. "Structure (SMILES)").
SMILES_COLUMNS = ("smiles", "isomericsmiles", "canonicalsmiles", "smi", "mol")
# As exported by ChEMBL ("ChEMBL ID", "Molecule ChEMBL ID"), PubChem ("CID") and MoleculeNet.
ID_COLUMNS = ("id", "name", "molid", "compoundid", "cmpdchemblid", "moleculechemblid", "chemblid", "cid",
              "pubchemcid", "moleculename", "compoundname", "title", "num",
              # then plain words a chemist types, MoleculeNet's FreeSolv ("iupac"), and French and Spanish
              "compound", "drug", "drugname", "iupac", "iupacname", "nom", "nombre")


@dataclass(frozen=True)
class MoleculeInput:
    """One molecule as given.

    Attributes
    ----------
    id : str
        The row's id or name (or ``"row N"``, 1-based, when the input has none).
    smiles : str
        The SMILES exactly as given ('' when the record had none).
    error : str
        Why the record could not be read ('' when it could); the molecule itself is checked later.
    carried : tuple of (str, str)
        The record's other CSV columns or SD properties, (name, value) as given, so that the results
        keep a chemist's own data (assay values, batch numbers) beside the predictions.
    """

    id: str
    smiles: str
    error: str = ""
    carried: tuple[tuple[str, str], ...] = ()


def _text(data: bytes) -> str:
    if len(data) > MAX_INPUT_BYTES:
        raise InputTooLargeError(f"The file is larger than {MAX_INPUT_BYTES // 2**20} MB.")
    return decode_text(data, "a CSV, SMILES or SD file")


def _check_count(rows: list[MoleculeInput], limit: int) -> None:
    """Refuse as soon as ``rows`` passes ``limit``: reading on would only build rows to be thrown away
    (a 60 MB paste took 2.6 GB before it was refused)."""
    if len(rows) > limit:
        raise TooManyMoleculesError(f"More than {limit:,} molecules; split the file.")


def _normalised(header: str) -> str:
    """A header name lower-case, without spaces or punctuation: "Molecule ChEMBL ID" → "moleculechemblid"."""
    return "".join(character for character in header.lower() if character.isalnum())


def _unique_names(header: list[str]) -> list[str]:
    """Header cells as column names: a blank one named by its position, a repeated one numbered."""
    names: list[str] = []
    for position, cell in enumerate(header, start=1):
        name = cell or f"column {position}"
        names.append(name if name not in names else f"{name} ({position})")
    return names


def read_csv(data: bytes, limit: int = MAX_MOLECULES) -> list[MoleculeInput]:
    """A CSV (or TSV) with a header naming a SMILES column and, optionally, an id/name column;
    the other columns are carried through (:attr:`MoleculeInput.carried`). More than ``limit``
    molecules raise :class:`TooManyMoleculesError`."""
    return _read_table(_text(data), limit)


def _read_table(text: str, limit: int) -> list[MoleculeInput]:
    """:func:`read_csv` of text already decoded."""
    reader = (cells for _, cells in csv_rows(text, delimiter_of(text)))  # SMILES never contain , ; or tab
    header = [cell.strip() for cell in next(reader, [])]
    names = [_normalised(cell) for cell in header]
    smiles_at = next((names.index(c) for c in SMILES_COLUMNS if c in names),
                     next((k for k, name in enumerate(names) if "smiles" in name), None))
    if smiles_at is None:
        found = ", ".join(f"'{cell[:30]}'" for cell in header[:8]) or "none"
        raise InputError(f"The CSV has no SMILES column (a header containing 'smiles' is expected; found {found}). "
                         "A list of SMILES without a header can be pasted, or uploaded as a .smi file.")
    id_at = next((names.index(c) for c in ID_COLUMNS if c in names), None)
    others = [(k, name) for k, name in enumerate(_unique_names(header)) if k not in (smiles_at, id_at)]
    rows = []
    for number, cells in enumerate(reader, start=1):
        if not any(cell.strip() for cell in cells):
            continue
        identifier = cells[id_at].strip() if id_at is not None and id_at < len(cells) else ""
        carried = tuple((name, cells[k] if k < len(cells) else "") for k, name in others)
        if smiles_at >= len(cells):
            rows.append(MoleculeInput(identifier or f"row {number}", "", f"Row {number} has no SMILES cell.", carried))
        elif any(cell.strip() for cell in cells[len(header):]):  # its cells may have moved: say so, never guess
            rows.append(MoleculeInput(identifier or f"row {number}", cells[smiles_at], (
                f"Row {number} has {len(cells)} cells, the header {len(header)} (a separator inside a name or "
                "a value? Quote that cell)."), carried))
        else:
            rows.append(MoleculeInput(identifier or f"row {number}", cells[smiles_at], "", carried))  # as given
        _check_count(rows, limit)
    return rows


def read_smiles_lines(data: bytes | str, limit: int = MAX_MOLECULES) -> list[MoleculeInput]:
    """``.smi`` or pasted text: one molecule a line, SMILES first, then an optional name (at most ``limit``)."""
    text = data if isinstance(data, str) else _text(data)
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.strip().split(maxsplit=1)
        if not parts or parts[0].startswith("#"):
            continue
        if number == 1 and _normalised(parts[0]) in SMILES_COLUMNS:
            continue  # a header line
        rows.append(MoleculeInput(parts[1].strip() if len(parts) > 1 else f"row {len(rows) + 1}", parts[0]))
        _check_count(rows, limit)
    return rows


def read_sdf(data: bytes, limit: int = MAX_MOLECULES) -> list[MoleculeInput]:
    """An SD file: each record's ``_Name`` (or an ``ID``/``Name`` property), its SMILES, and its other
    properties carried through (:attr:`MoleculeInput.carried`); at most ``limit`` records."""
    if len(data) > MAX_INPUT_BYTES:
        raise InputTooLargeError(f"The file is larger than {MAX_INPUT_BYTES // 2**20} MB.")
    supplier = Chem.ForwardSDMolSupplier(io.BytesIO(data), sanitize=True)
    rows = []
    for number, mol in enumerate(supplier, start=1):
        if mol is None:
            rows.append(MoleculeInput(f"record {number}", "", f"SD record {number} is not a valid molecule."))
            continue
        name = mol.GetProp("_Name").strip() if mol.HasProp("_Name") else ""
        named_by = ""
        for key in ("ID", "id", "Name", "name"):
            if not name and mol.HasProp(key):
                name, named_by = mol.GetProp(key).strip(), key
        carried = tuple((key, mol.GetProp(key)) for key in mol.GetPropNames() if key != named_by)
        rows.append(MoleculeInput(name or f"record {number}", Chem.MolToSmiles(mol), "", carried))
        _check_count(rows, limit)
    if not rows:
        raise InputError("The SD file holds no records.")
    return rows


def gunzipped(data: bytes) -> bytes:
    """The content of a gzip file (every member), refused once it passes :data:`MAX_INPUT_BYTES`: a small
    file can expand a thousandfold."""
    content, rest = bytearray(), data
    try:
        while rest:
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            content += inflater.decompress(rest, MAX_INPUT_BYTES + 1 - len(content))
            if len(content) > MAX_INPUT_BYTES:
                raise InputTooLargeError(f"The file unpacks to more than {MAX_INPUT_BYTES // 2**20} MB.")
            if not inflater.eof:
                raise InputError("This gzip file ends early (cut off in a copy?); it could not be unpacked.")
            rest = inflater.unused_data
    except zlib.error as exc:
        raise InputError("This gzip file is damaged; it could not be unpacked.") from exc
    return bytes(content)


def read_molecules(data: bytes, file_name: str = "", limit: int = MAX_MOLECULES) -> list[MoleculeInput]:
    """Read a molecule file, choosing the reader by content (an SD file has ``$$$$`` records; a gzip file is
    unpacked first, as MoleculeNet's are shipped), then by extension (``.smi``/``.txt`` are SMILES lines,
    unless their first line is a table's header naming a SMILES column), else CSV.

    Raises
    ------
    InputError
        When the file as a whole cannot be read (empty, binary, no SMILES column, too large).
    TooManyMoleculesError
        When it holds more than ``limit`` molecules (found as soon as it passes them).
    """
    if data[:2] == b"\x1f\x8b":
        data, file_name = gunzipped(data), file_name.removesuffix(".gz").removesuffix(".GZ")
    if not data.strip():
        raise InputError("The file is empty.")
    head = data[:1 << 16]
    if b"$$$$" in data or b"M  END" in head:
        return read_sdf(data, limit)
    if file_name.lower().endswith((".sdf", ".sd", ".mol")):
        raise InputError("This is not a readable SD file: no record ends with 'M  END' and '$$$$'. Export it "
                         "again from your chemistry software, or upload a CSV with a SMILES column.")
    if file_name.lower().endswith((".smi", ".smiles", ".txt")):
        text = _text(data)
        return _read_table(text, limit) if _is_table(text) else read_smiles_lines(text, limit)
    return read_csv(data, limit)


def _is_table(text: str) -> bool:
    """Whether the first line is a table's header naming a SMILES column: Excel saves "Unicode Text"
    (UTF-16, tab-separated) as ``.txt``. A SMILES line never holds a comma, semicolon or tab."""
    first_line = next(iter(text.splitlines()), "")
    cells = [_normalised(cell) for cell in first_line.split(delimiter_of(text))]
    return len(cells) > 1 and any(cell in SMILES_COLUMNS or "smiles" in cell for cell in cells)
