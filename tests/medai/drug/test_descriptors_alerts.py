"""Descriptors agree with RDKit; rules count violations; alerts are named with their atoms."""

import pytest
from rdkit.Chem import QED, Crippen, Descriptors, rdMolDescriptors

from medai.drug.alerts import alert_columns, find_alerts
from medai.drug.descriptors import describe_mol
from medai.drug.standardize import to_mol


def test_descriptors_match_rdkit():
    mol = to_mol("CC(C)Cc1ccc(cc1)C(C)C(=O)O")  # ibuprofen
    d = describe_mol(mol)
    assert d.mw == pytest.approx(Descriptors.MolWt(mol), abs=1e-3)
    assert d.clogp == pytest.approx(Crippen.MolLogP(mol))
    assert d.tpsa == pytest.approx(rdMolDescriptors.CalcTPSA(mol))
    assert d.qed == pytest.approx(QED.qed(mol))
    assert (d.hbd, d.hba) == (1, 1)
    assert 1 <= d.sa_score <= 3
    assert d.lipinski_violations == 0 and d.veber_violations == 0


def test_rule_violations_are_counted():
    big = to_mol("CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC(=O)O")
    d = describe_mol(big)
    assert d.lipinski_violations >= 1 and d.veber_violations >= 1


def test_each_rule_counts_on_its_own():
    donors = describe_mol(to_mol("NCCNCCNCCNCCNCCN"))  # pentaethylenehexamine: Lipinski's donors alone (6 > 5)
    assert (donors.hbd, donors.lipinski_violations) == (6, 1)
    icosane = describe_mol(to_mol("C" * 20))  # cLogP's rule alone
    assert icosane.clogp > 5 and icosane.mw < 500
    assert (icosane.hbd, icosane.hba, icosane.lipinski_violations) == (0, 0, 1)
    sucrose = describe_mol(to_mol("OC[C@H]1O[C@@](CO)(O[C@H]2O[C@H](CO)[C@@H](O)[C@H](O)[C@H]2O)[C@@H](O)[C@@H]1O"))
    assert sucrose.tpsa > 140 and sucrose.rotatable_bonds <= 10 and sucrose.veber_violations == 1


def test_alert_counts_keep_their_catalogues_apart():
    columns = alert_columns(find_alerts(to_mol("CC(=O)Nc1ccc(O)cc1")))  # paracetamol: one Brenk alert
    assert (columns["pains_alerts"], columns["brenk_alerts"]) == (0, 1)


def test_pains_and_brenk_alerts_are_named():
    alerts = find_alerts(to_mol("O=C1C(=Cc2ccccc2)SC(=S)N1"))
    names = {(a.catalog, a.name) for a in alerts}
    assert ("PAINS", "ene_rhod_A(235)") in names
    assert any(catalog == "Brenk" for catalog, _ in names)
    assert all(a.atoms for a in alerts)
    columns = alert_columns(alerts)
    assert columns["pains_alerts"] == 1 and "ene_rhod_A" in columns["alerts"]


def test_a_clean_drug_has_no_alerts():
    assert find_alerts(to_mol("CC(C)Cc1ccc(cc1)C(C)C(=O)O")) == []


def test_alert_atoms_index_the_canonical_smiles():
    from rdkit import Chem

    from medai.drug.pipeline import prepare

    # Written so that input order and canonical order differ.
    prepared = prepare("S=C1NC(=O)C(S1)=Cc1ccccc1")
    canonical = Chem.MolFromSmiles(prepared.canonical_smiles)
    rhodanine = next(a for a in prepared.alerts if a.catalog == "PAINS")
    pattern_atoms = {canonical.GetAtomWithIdx(i).GetSymbol() for i in rhodanine.atoms}
    assert "S" in pattern_atoms
    thiocarbonyl = next(a for a in prepared.alerts if a.name == "Thiocarbonyl_group")
    assert sorted(canonical.GetAtomWithIdx(i).GetSymbol() for i in thiocarbonyl.atoms) == ["C", "S"]
    assert canonical.GetBondBetweenAtoms(*thiocarbonyl.atoms).GetBondTypeAsDouble() == 2


def test_brenks_hydroquinone_on_a_p_aminophenol_says_what_it_is():
    (paracetamol,) = find_alerts(to_mol("CC(=O)Nc1ccc(O)cc1"))
    assert (paracetamol.catalog, paracetamol.name) == ("Brenk", "hydroquinone") and "p-aminophenol" in paracetamol.note
    assert "Brenk: hydroquinone (here a p-aminophenol" in alert_columns([paracetamol])["alerts"]
    (hydroquinone,) = find_alerts(to_mol("Oc1ccc(O)cc1"))
    assert hydroquinone.note == "" and alert_columns([hydroquinone])["alerts"] == "Brenk: hydroquinone"


def _catalog_alerts(mol):
    """What RDKit's FilterCatalog finds on its own, without the pattern-fingerprint screen."""
    from medai.drug.alerts import _catalogs

    found = []
    for catalog_name, catalog in _catalogs().items():
        for entry in catalog.GetMatches(mol):
            matches = entry.GetFilterMatches(mol)
            found.append((catalog_name, entry.GetDescription(), tuple(i for _, i in matches[0].atomPairs)))
    return found


def test_every_alert_query_is_read_for_the_screen():
    from medai.drug.alerts import _screened_entries

    entries, query_bits = _screened_entries()
    assert len(entries) == 585 and query_bits.any(axis=1).all()


def test_the_screen_finds_exactly_what_the_catalog_finds():
    import csv

    from medai import config
    from medai.drug.standardize import standardize_mol

    with open("sample_data/drug/molecules.csv") as handle:
        smiles = [row["smiles"] for row in csv.DictReader(handle)]
    clintox = config.data_dir() / "drug" / "moleculenet" / "clintox.csv"
    if clintox.exists():  # approved and failed drugs: many alerts of both catalogs
        with open(clintox) as handle:
            smiles += [row["smiles"] for row in csv.DictReader(handle)]
    mols = []
    for text in smiles:
        try:
            mols.append(standardize_mol(to_mol(text), tautomer=False))
        except Exception:
            continue
    found = [[(a.catalog, a.name, a.atoms) for a in find_alerts(mol)] for mol in mols]
    assert found == [_catalog_alerts(mol) for mol in mols]
    assert sum(map(len, found)) > 100  # the comparison covers many matches


def test_an_entry_whose_query_cannot_be_read_is_always_matched(monkeypatch):
    from medai.drug import alerts

    alerts._screened_entries.cache_clear()
    monkeypatch.setattr(alerts, "_query_of", lambda entry: None)
    try:
        rhodanine = to_mol("O=C1C(=Cc2ccccc2)SC(=S)N1")
        assert [(a.catalog, a.name, a.atoms) for a in find_alerts(rhodanine)] == _catalog_alerts(rhodanine)
    finally:
        alerts._screened_entries.cache_clear()
