"""Molecule files: CSV, .smi, SDF and pasted text; bad rows keep their place with a message."""

import gzip

import pytest
from rdkit import Chem

from medai.drug import io as drug_io
from medai.drug.io import MoleculeInput, read_csv, read_molecules, read_sdf, read_smiles_lines
from medai.errors import InputError


def test_csv_with_id_column_keeps_order_and_ids():
    rows = read_csv(b"name,smiles\naspirin,CC(=O)Oc1ccccc1C(=O)O\nbad,notasmiles\n,CCO\n")
    assert [r.id for r in rows] == ["aspirin", "bad", "row 3"]
    assert rows[1].smiles == "notasmiles"


def test_csv_semicolon_and_short_rows():
    rows = read_csv(b"id;SMILES;x\na;CCO;1\nb\n")
    assert rows[0].smiles == "CCO"
    assert rows[1].error and rows[1].id == "b"


@pytest.mark.parametrize("export, expected", [
    (b"CID,CanonicalSMILES,IsomericSMILES\n2244,CC(=O)OC1=CC=CC=C1C(=O)O,CC(=O)OC1=CC=CC=C1C(=O)O\n", "2244"),  # PubChem
    (b'"Molecule ChEMBL ID";"Molecule Name";"Smiles"\n"CHEMBL25";"ASPIRIN";"CC(=O)Oc1ccccc1C(=O)O"\n', "CHEMBL25"),
    (b"Compound name,Structure (SMILES),IC50 (nM)\naspirin,CC(=O)Oc1ccccc1C(=O)O,12\n", "aspirin"),
    (b"Title\tCanonical SMILES\naspirin\tCC(=O)Oc1ccccc1C(=O)O\n", "aspirin"),
])
def test_database_exports_are_read_with_their_ids(export, expected):
    (row,) = read_csv(export)
    assert row.id == expected and Chem.MolFromSmiles(row.smiles).GetNumAtoms() == 13


def test_csv_without_smiles_column_is_refused():
    with pytest.raises(InputError, match="SMILES column") as refused:
        read_csv(b"compound,structure\n1,CCO\n")
    assert "found 'compound', 'structure'" in str(refused.value) and ".smi" in str(refused.value)


def test_an_excel_unicode_text_export_is_read():
    rows = read_molecules("name\tsmiles\nethanol\tCCO\n".encode("utf-16"), "export.csv")
    assert [(r.id, r.smiles) for r in rows] == [("ethanol", "CCO")]


def test_a_gzipped_file_is_read_as_its_content_and_a_bomb_or_a_cut_one_refused(monkeypatch):
    table = b"smiles,name\nCCO,ethanol\nc1ccccc1,benzene\n"
    rows = read_molecules(gzip.compress(table), "tox21.csv.gz")  # as MoleculeNet ships its files
    assert [(r.id, r.smiles) for r in rows] == [("ethanol", "CCO"), ("benzene", "c1ccccc1")]
    lines = read_molecules(gzip.compress(b"CCO ethanol\n"), "list.smi.gz")  # the inner extension still counts
    assert [(r.id, r.smiles) for r in lines] == [("ethanol", "CCO")]
    with pytest.raises(InputError, match="ends early"):
        read_molecules(gzip.compress(table)[:-12], "x.csv.gz")
    monkeypatch.setattr(drug_io, "MAX_INPUT_BYTES", 1000)
    with pytest.raises(InputError, match="unpacks to more than"):
        read_molecules(gzip.compress(b"C" * 5000), "bomb.csv.gz")


def test_a_file_over_the_byte_cap_is_refused(monkeypatch):
    from medai.errors import InputTooLargeError

    monkeypatch.setattr(drug_io, "MAX_INPUT_BYTES", 100)
    with pytest.raises(InputTooLargeError):
        read_molecules(b"smiles\n" + b"CCO\n" * 100, "x.csv")


def test_binary_file_is_refused():
    with pytest.raises(InputError, match="binary"):
        read_molecules(b"\x89PNG\r\n\x1a\n\x00\x00\x00", "x.csv")


def test_a_broken_sd_file_is_told_as_one():  # it was told "The CSV has no SMILES column"
    with pytest.raises(InputError, match="not a readable SD file"):
        read_molecules(b"foo bar\nbaz", "garbage.sdf")


def test_smiles_lines_with_names_comments_and_header():
    rows = read_smiles_lines("smiles name\nCCO ethanol\n# comment\n\nc1ccccc1\n")
    assert [(r.smiles, r.id) for r in rows] == [("CCO", "ethanol"), ("c1ccccc1", "row 2")]


def test_sdf_records_with_a_broken_one_in_the_middle():
    good = Chem.MolToMolBlock(Chem.MolFromSmiles("CCO"))
    named = Chem.MolFromSmiles("c1ccccc1")
    named.SetProp("_Name", "benzene")
    bad = good.replace("  3  2", "  9  2", 1)
    data = (good + "$$$$\n" + bad + "$$$$\n" + Chem.MolToMolBlock(named) + "$$$$\n").encode()
    rows = read_sdf(data)
    assert len(rows) == 3
    assert rows[0].smiles == "CCO" and rows[1].error and rows[2].id == "benzene"
    assert read_molecules(data, "anything.txt")[2].id == "benzene"


def test_csv_carries_its_other_columns_blank_and_repeated_names_included():
    rows = read_csv(b"name,smiles,IC50 (nM),,batch,batch\naspirin,CCO,12,x,B1,B2\nshort,CCC\n")
    assert rows[0].carried == (("IC50 (nM)", "12"), ("column 4", "x"), ("batch", "B1"), ("batch (6)", "B2"))
    assert rows[1].carried == (("IC50 (nM)", ""), ("column 4", ""), ("batch", ""), ("batch (6)", ""))


def test_sdf_carries_its_properties_but_not_the_one_naming_the_record():
    mol = Chem.MolFromSmiles("CCO")
    mol.SetProp("ID", "EtOH-1")
    mol.SetProp("pIC50", "6.2")
    (row,) = read_sdf((Chem.MolToMolBlock(mol) + "".join(f">  <{k}>\n{mol.GetProp(k)}\n\n" for k in ("ID", "pIC50"))
                       + "$$$$\n").encode())
    assert row.id == "EtOH-1" and row.carried == (("pIC50", "6.2"),)


@pytest.mark.parametrize("kind", ["csv", "smi", "sdf"])
def test_a_file_with_too_many_molecules_is_refused_as_soon_as_it_passes_the_limit(kind, monkeypatch):
    from medai.errors import TooManyMoleculesError

    built = []
    real = drug_io.MoleculeInput
    monkeypatch.setattr(drug_io, "MoleculeInput", lambda *args: built.append(args) or real(*args))
    ethanol = Chem.MolToMolBlock(Chem.MolFromSmiles("CCO"))
    data = {"csv": b"smiles\n" + b"CCO\n" * 1000, "smi": b"CCO\n" * 1000,
            "sdf": (ethanol + "\n$$$$\n").encode() * 1000}[kind]
    assert len(read_molecules(data, f"x.{kind}", limit=1000)) == 1000
    built.clear()
    with pytest.raises(TooManyMoleculesError, match="More than 10 molecules"):
        read_molecules(data, f"x.{kind}", limit=10)
    assert len(built) == 11  # stopped at the first row over the limit, not after reading the rest


def test_a_csv_from_excel_for_mac_and_a_damaged_one():
    rows = read_molecules(b"smiles,name\rCCO,ethanol\rc1ccccc1O,phenol\r", "mac.csv")  # lines end in CR alone
    assert [(r.id, r.smiles) for r in rows] == [("ethanol", "CCO"), ("phenol", "c1ccccc1O")]
    with pytest.raises(InputError, match="unclosed quotation mark"):
        read_molecules(b'smiles\nCCO\n"' + b"C" * 200_000 + b"\nCCN\n", "cut.csv")


def test_a_txt_file_whose_first_line_names_a_smiles_column_is_a_table():
    """Excel saves "Unicode Text" (UTF-16, tab-separated) as .txt: read as a table, not as SMILES lines."""
    data = "Nom\tSMILES\tpIC50\r\nAcide acétylsalicylique\tCC(=O)Oc1ccccc1C(=O)O\t4.2\r\n".encode("utf-16")
    rows = read_molecules(data, "export.txt")
    assert rows == [MoleculeInput("Acide acétylsalicylique", "CC(=O)Oc1ccccc1C(=O)O", "", (("pIC50", "4.2"),))]
    assert read_molecules(b"CCO\tethanol\nc1ccccc1 benzene\n", "list.txt") == [MoleculeInput("ethanol", "CCO"),
                                                                            MoleculeInput("benzene", "c1ccccc1")]


def test_a_row_with_more_cells_than_the_header_is_invalid_and_said():
    """An unquoted comma in a name moves the cells after it: the row is told, never read shifted."""
    rows = read_csv(b"smiles,compound,pIC50\nCCO,ethanol,5.1\nCCN,ethyl, amine,6.0\nCCC,propane,4.0,,\n")
    assert [r.id for r in rows] == ["ethanol", "ethyl", "propane"]
    assert rows[0].error == rows[2].error == ""
    assert rows[1].error == ("Row 2 has 4 cells, the header 3 (a separator inside a name or a value? Quote that "
                             "cell).")
