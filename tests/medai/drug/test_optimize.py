"""Analogue proposals are valid, similar, alert-free and deterministic; the Pareto front is correct."""

from types import SimpleNamespace

import numpy as np
import pytest

from medai.drug.io import MoleculeInput
from medai.drug.lead import default_weights, objectives_of, weighted_score
from medai.drug.service import MoleculeResult, screen
from medai.drug.optimize import edit_analogues, pareto_front, propose
from medai.drug.standardize import to_mol

LEAD = "CC(=O)Nc1ccc(O)cc1"


def test_edits_make_known_analogues():
    found = edit_analogues(to_mol(LEAD))
    assert "CC(=O)Nc1ccc(O)c(F)c1" in found  # fluorine scan
    assert "CC(=O)Nc1ccc(O)nc1" in found or "CC(=O)Nc1ccc(O)cn1" in found  # aza scan
    assert LEAD not in found or found[LEAD]


def test_proposals_respect_the_similarity_bound_and_are_deterministic():
    partners = ["[1*]C(=O)C", "[16*]c1ccccc1", "[4*]CC"]
    first = propose(LEAD, 0.5, partners, seed=3)
    assert first and all(a.similarity >= 0.5 for a in first)
    assert LEAD not in {a.smiles for a in first}
    assert [a.smiles for a in propose(LEAD, 0.5, partners, seed=3)] == [a.smiles for a in first]


def test_alerted_analogues_are_dropped():
    kept = propose(LEAD, 0.0, alert_free=lambda mol: mol.GetNumAtoms() < 12)
    assert all(to_mol(a.smiles).GetNumAtoms() < 12 for a in kept)


def test_pareto_front():
    points = np.array([[1, 0], [0, 1], [0.5, 0.5], [0.4, 0.4], [1, 0]])
    assert pareto_front(points).tolist() == [True, True, True, False, True]


def test_weighted_score_ignores_zero_weights():
    objectives = {"activity": 1.0, "solubility": 0.0, "safety": 0.5, "qed": 0.5}
    assert weighted_score(objectives, {"activity": 1, "solubility": 0, "safety": 0, "qed": 0}) == 1.0
    assert weighted_score(objectives, {"activity": 1, "solubility": 1, "safety": 1, "qed": 1}) == 0.5
    assert weighted_score(objectives, {}) == 0.0


def test_a_lead_with_an_alert_still_gets_analogues_that_add_none():
    from medai.drug.alerts import find_alerts

    lead = "CN1C(=N)N[C@](C)(c2cc(NC(=O)c3ccc(F)cn3)ccc2F)CS1(=O)=O"  # verubecestat: Brenk imine_1
    analogues = propose(lead, 0.4)
    assert analogues
    for analogue in analogues:
        names = {(a.catalog, a.name) for a in find_alerts(to_mol(analogue.smiles))}
        assert names <= {("Brenk", "imine_1")}


CYCLOSPORIN = ("CC[C@H]1C(=O)N(CC(=O)N([C@H](C(=O)N[C@H](C(=O)N([C@H](C(=O)N[C@H](C(=O)N[C@@H](C(=O)N([C@H](C(=O)"
               "N([C@H](C(=O)N([C@H](C(=O)N([C@H](C(=O)N1)[C@@H]([C@H](C)C/C=C/C)O)C)C(C)C)C)CC(C)C)C)CC(C)C)C)C)C)"
               "CC(C)C)C)C(C)C)CC(C)C)C)C")


def test_brics_growth_is_bounded_and_starts_from_the_lead(monkeypatch):
    """Waiting for complete molecules only, BRICS enumeration ran for minutes on cyclosporin."""
    from rdkit import Chem
    from rdkit.Chem import BRICS

    from medai.drug import optimize
    from medai.drug.lead import approved_fragments
    from medai.drug.standardize import standardize_mol

    built, seeds_seen, original = [0], [], BRICS.BRICSBuild

    def counting(fragments, **options):  # the outer call only: BRICSBuild recurses through the module name
        seeds_seen.extend(Chem.MolToSmiles(m) for m in options["seeds"])
        monkeypatch.setattr(optimize.BRICS, "BRICSBuild", original)
        for product in original(fragments, **options):
            built[0] += 1
            yield product

    monkeypatch.setattr(optimize.BRICS, "BRICSBuild", counting)
    lead = standardize_mol(to_mol(CYCLOSPORIN), tautomer=False)
    found = optimize.brics_analogues(lead, approved_fragments(), seed=0)
    assert built[0] <= optimize.BRICS_STEPS
    own = {Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in BRICS.BRICSDecompose(lead)}
    assert seeds_seen and set(seeds_seen) <= own
    assert all("*" not in smiles for smiles in found)


def test_bace1_activity_is_weighed_only_for_a_lead_in_the_bace_models_domain():
    # Verubecestat is a BACE-1 inhibitor of the training chemotypes; paracetamol is no BACE-1 lead.
    bace_lead, other_lead = screen([MoleculeInput("verubecestat", "CN1C(=N)N[C@](C)(c2cc(NC(=O)c3ccc(F)cn3)ccc2F)"
                                                  "CS1(=O)=O"), MoleculeInput("paracetamol", LEAD)], workers=1).molecules
    assert default_weights(bace_lead) == {"activity": 1.0, "solubility": 1.0, "safety": 1.0, "qed": 1.0}
    assert default_weights(other_lead) == {"activity": 0.0, "solubility": 1.0, "safety": 1.0, "qed": 1.0}
    # Paracetamol is outside drug-bace's domain: that counts only while the activity objective is weighted.
    from medai.drug.lead import outside_weighted_domains

    assert "drug-bace" not in outside_weighted_domains(other_lead, default_weights(other_lead))
    assert "drug-bace" in outside_weighted_domains(other_lead, {"activity": 1.0})


def test_no_analogue_the_lead_beats_on_every_objective_is_on_the_pareto_front():
    from medai.drug.lead import optimize

    lead, ranked = optimize(LEAD, n=100, min_similarity=0.3)
    lead_values = objectives_of(lead)
    for item in ranked:
        dominated = all(lead_values[k] >= item.objectives[k] for k in ("solubility", "safety", "qed")) and any(
            lead_values[k] > item.objectives[k] for k in ("solubility", "safety", "qed"))
        assert not (item.pareto and dominated)
    assert any(item.pareto for item in ranked)


def test_no_analogue_drops_a_ring_of_the_leads_core():
    """BRICS recombination of celecoxib builds tolyl-benzenesulfonamides without the pyrazole: fragments
    of the lead that score well only by being less of it. They are not proposed."""
    from rdkit.Chem import rdMolDescriptors

    from medai.drug.lead import approved_fragments
    from medai.drug.optimize import brics_analogues
    from medai.drug.standardize import standardize_mol

    celecoxib = "Cc1ccc(-c2cc(C(F)(F)F)nn2-c2ccc(S(N)(=O)=O)cc2)cc1"
    built = brics_analogues(standardize_mol(to_mol(celecoxib), tautomer=False), approved_fragments(), 0)
    rings = {smiles: rdMolDescriptors.CalcNumRings(to_mol(smiles)) for smiles in built}
    assert min(rings.values()) < 3  # such fragments are built ...
    proposed = propose(celecoxib, 0.4, approved_fragments(), 0)
    assert proposed and all(rdMolDescriptors.CalcNumRings(to_mol(a.smiles)) >= 3 for a in proposed)  # ... not kept
    assert "Cc1ccc(-c2ccc(S(N)(=O)=O)cc2)cc1" not in {a.smiles for a in proposed}


def test_safety_is_one_minus_the_mean_predicted_toxicity():
    result = MoleculeResult("m", "CCO", "CCO", True, "", predictions={
        "clinical_toxicity": (0.8, 0.0), "tox21_NR-AR": (0.2, 0.0), "tox21_SR-p53": (0.4, 0.0)})
    assert objectives_of(result)["safety"] == pytest.approx(1 - (0.8 + (0.2 + 0.4) / 2) / 2)


def _result(name: str, solubility_percentile: float, toxicity: float) -> MoleculeResult:
    return MoleculeResult(name, "C", "C", True, "", predictions={"clinical_toxicity": (toxicity, 0.0)},
                          percentiles={"logS": solubility_percentile})


def test_each_analogue_carries_its_own_pareto_flag(monkeypatch):
    from medai.drug import lead
    from medai.drug.optimize import Analogue

    analogues = [Analogue("CCO", "worse", 0.6), Analogue("CCN", "better", 0.5)]
    results = [_result("lead", 90, 0.1), _result("worse", 10, 0.9), _result("better", 95, 0.05)]
    monkeypatch.setattr(lead, "propose", lambda *args, **kwargs: analogues)
    monkeypatch.setattr(lead, "screen", lambda *args, **kwargs: SimpleNamespace(molecules=results))
    _, ranked = lead.optimize("CCC", n=10)
    assert {item.analogue.edit: item.pareto for item in ranked} == {"better": True, "worse": False}


def test_no_analogue_carries_a_pains_alert_even_when_the_lead_does():
    from rdkit import Chem

    from medai.drug.alerts import find_alerts

    analogues = propose("S=C1SC(=Cc2ccccc2)C(=O)N1", min_similarity=0.2)  # a rhodanine: PAINS ene_rhod_A
    assert analogues
    for analogue in analogues:
        pains = [a for a in find_alerts(Chem.MolFromSmiles(analogue.smiles)) if a.catalog == "PAINS"]
        assert not pains, analogue.smiles


def test_an_analogue_exactly_at_the_similarity_bound_is_kept():
    from rdkit import Chem

    from medai.drug.featurize import tanimoto
    from medai.drug.standardize import standardize_mol

    found = propose(LEAD, min_similarity=0.3)
    lowest = min(found, key=lambda a: a.similarity)
    exact = tanimoto(standardize_mol(to_mol(LEAD), tautomer=False), Chem.MolFromSmiles(lowest.smiles))
    assert lowest.smiles in {a.smiles for a in propose(LEAD, min_similarity=exact)}  # similarity >= the bound
