"""SD files and pictures of screened molecules."""

import io

from rdkit import Chem

from medai.drug.export import thumbnail_uri, to_sdf
from medai.drug.io import MoleculeInput, read_sdf
from medai.drug.service import screen


def test_sdf_holds_valid_molecules_with_predictions_and_the_inputs_own_properties():
    result = screen([MoleculeInput("ethanol", "CCO", carried=(("pIC50", "4.2"),)), MoleculeInput("bad", "C1CC")],
                    ["drug-solubility"], workers=1)
    text = to_sdf(result.molecules, result.columns)
    (mol,) = list(Chem.ForwardSDMolSupplier(io.BytesIO(text.encode())))
    assert mol.GetProp("_Name") == "ethanol" and mol.GetProp("pIC50") == "4.2"
    assert float(mol.GetProp("logS")) == round(result.molecules[0].predictions["logS"][0], 4)
    (again,) = read_sdf(text.encode())  # the file reads back with its properties carried
    assert dict(again.carried)["pIC50"] == "4.2" and again.id == "ethanol"


def test_thumbnail_of_an_invalid_smiles_is_empty():
    assert thumbnail_uri("C1CC") == "" and thumbnail_uri("CCO").startswith("data:image/svg+xml;base64,")


def test_line_breaks_from_the_input_cannot_break_the_sd_records():
    inputs = [MoleculeInput("ethyl\namine", "CCN", carried=(("note", "first\n\nsecond"), ("a\nb>", "x"))),
              MoleculeInput("ethanol", "CCO")]
    result = screen(inputs, ["drug-solubility"], workers=1)
    read = list(Chem.ForwardSDMolSupplier(io.BytesIO(to_sdf(result.molecules, result.columns).encode())))
    assert [mol.GetProp("_Name") for mol in read] == ["ethyl amine", "ethanol"]
    assert read[0].GetProp("note") == "first  second" and read[0].GetProp("a b)") == "x"


def test_false_and_zero_properties_are_written_not_left_out():
    from medai.drug.service import MoleculeResult

    result = MoleculeResult("m1", "CCO", "CCO", True, "", predictions={"logS": (0.0, 0.1)}, in_domain=False)
    sdf = to_sdf([result], ["id", "smiles", "canonical_smiles", "valid", "message", "logS", "logS_std", "in_domain"])
    assert sdf.split("<in_domain>")[1].splitlines()[1].strip() == "False"
    assert sdf.split("<logS>")[1].splitlines()[1].strip() == "0.0"
