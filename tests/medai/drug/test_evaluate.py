import numpy as np
import pytest

from medai.drug import evaluate


def test_notation_check_finds_classes_written_differently():
    # Class 0 written as protonated amines, class 1 neutral or as salts: the strings alone separate them.
    charged = ["C[NH3+]", "CC[NH3+]", "CCC[NH3+]", "CCCC(=O)[O-]"]
    neutral = ["CN", "CCN.Cl", "CCCN", "CCCCC(=O)O.[Na+]"]
    check = evaluate.notation_check(charged + neutral, np.array([0, 0, 0, 0, 1, 1, 1, 1], float))
    assert check["charged_share_label_0"] == 1.0
    assert check["salt_share_label_1"] == 0.5
    assert check["rule_roc_auc"] == pytest.approx(1.0)


def test_notation_check_is_chance_when_both_classes_are_written_alike():
    # The unmeasured last row (NaN) is left out.
    smiles = ["C[NH3+]", "CN", "CCN.Cl", "CCC"] * 2 + ["CC"]
    check = evaluate.notation_check(smiles, np.array([0, 0, 0, 0, 1, 1, 1, 1, np.nan]))
    assert check["rule_roc_auc"] == pytest.approx(0.5)
