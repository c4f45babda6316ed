"""Optimise a lead: propose analogues, screen them, score them by user-weighted objectives.

Objectives, each scaled to 0–1 and to be maximised: ``activity`` (P(BACE-1 IC50 ≤ 100 nM)),
``solubility`` (logS as a percentile among approved drugs), ``safety`` (1 − the mean of the
clinical-toxicity probability and the mean Tox21 activity probability) and ``qed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Mapping

import numpy as np

from medai.drug.io import MoleculeInput
from medai.drug.optimize import Analogue, pareto_front, propose
from medai.drug.service import MoleculeResult, screen
from medai.store import AuditStore

OBJECTIVES = ("activity", "solubility", "safety", "qed")
OBJECTIVE_LABELS = {"activity": "BACE-1 activity", "solubility": "solubility (vs approved drugs)",
                    "safety": "safety (1 − toxicity)", "qed": "drug-likeness (QED)"}
# Output column of each objective: "activity" alone read as any target's, for a lead of any series.
OBJECTIVE_COLUMNS = {"activity": "activity_bace1", "solubility": "solubility", "safety": "safety", "qed": "qed"}
DEFAULT_WEIGHTS = {"activity": 1.0, "solubility": 1.0, "safety": 1.0, "qed": 1.0}
OBJECTIVE_MODELS = {"activity": ("drug-bace",), "solubility": ("drug-solubility",),
                    "safety": ("drug-clintox", "drug-tox21"), "qed": ()}  # whose predictions each objective reads
FRAGMENTS_FILE = Path(__file__).with_name("approved_brics_fragments.txt")
PREDICTION_COLUMNS = ("logS", "logD", "clinical_toxicity", "bbb_penetration")  # P(BACE-1) is activity_bace1
ANALOGUE_COLUMNS = ("smiles", "edit", "similarity_to_lead", "score", "better_than_lead", "lead_score", "lead_smiles",
                    "pareto_front",
                    *OBJECTIVE_COLUMNS.values(), "in_domain", *PREDICTION_COLUMNS)  # of :meth:`RankedAnalogue.row`


@dataclass(frozen=True)
class RankedAnalogue:
    """An analogue with its screen result, objective values, score, Pareto membership, and the lead's score
    and canonical SMILES (so that a saved table names what its analogues are analogues of)."""

    analogue: Analogue
    result: MoleculeResult
    objectives: dict[str, float]
    score: float
    pareto: bool
    lead_score: float
    lead_smiles: str

    def row(self) -> dict[str, object]:
        """One CSV row of ``python -m medai optimize``."""
        return {"smiles": self.analogue.smiles, "edit": self.analogue.edit,
                "similarity_to_lead": self.analogue.similarity, "score": round(self.score, 4),
                "better_than_lead": self.score > self.lead_score, "lead_score": round(self.lead_score, 4),
                "lead_smiles": self.lead_smiles, "pareto_front": self.pareto,
                **{OBJECTIVE_COLUMNS[k]: round(v, 4) for k, v in self.objectives.items()},
                "in_domain": self.result.in_domain,
                **{k: round(v[0], 4) for k, v in self.result.predictions.items() if k in PREDICTION_COLUMNS}}


@lru_cache(maxsize=1)
def approved_fragments() -> tuple[str, ...]:
    """BRICS fragments of approved drugs, shipped as data (``approved_brics_fragments.txt``)."""
    if not FRAGMENTS_FILE.exists():
        return ()
    return tuple(line for line in FRAGMENTS_FILE.read_text().splitlines() if line.strip())


def objectives_of(result: MoleculeResult) -> dict[str, float]:
    """The four objectives (0–1, higher is better) of a screened molecule."""
    predictions = result.predictions
    tox21 = [v[0] for k, v in predictions.items() if k.startswith("tox21_")]
    toxicity = np.mean([predictions.get("clinical_toxicity", (0.0, 0))[0], float(np.mean(tox21)) if tox21 else 0.0])
    return {"activity": predictions.get("bace1_active", (0.0, 0))[0],
            "solubility": result.percentiles.get("logS", 50.0) / 100.0,
            "safety": float(1.0 - toxicity),
            "qed": result.descriptors.qed if result.descriptors else 0.0}


def default_weights(lead: MoleculeResult) -> dict[str, float]:
    """Every objective weighted 1, except BACE-1 activity for a lead outside ``drug-bace``'s domain (0).

    The activity objective is one target's model, trained on BACE-1 programmes: for another chemotype
    its probability is a guess, and ranking analogues by it would reward noise.
    """
    similarity, cutoff = lead.domain_by_model.get("drug-bace", (0.0, 1.0))
    return {**DEFAULT_WEIGHTS, "activity": DEFAULT_WEIGHTS["activity"] if similarity >= cutoff else 0.0}


def outside_weighted_domains(result: MoleculeResult, weights: Mapping[str, float]) -> list[str]:
    """The models behind the weighted objectives whose applicability domain excludes ``result``."""
    behind = {name for key, names in OBJECTIVE_MODELS.items() if weights.get(key, 0.0) > 0 for name in names}
    return [name for name, (similarity, cutoff) in result.domain_by_model.items()
            if name in behind and similarity < cutoff]


def weighted_score(objectives: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Σ wᵢ·objectiveᵢ / Σ wᵢ over the weighted objectives (0 when every weight is 0)."""
    total = sum(max(weights.get(k, 0.0), 0.0) for k in OBJECTIVES)
    return sum(max(weights.get(k, 0.0), 0.0) * objectives[k] for k in OBJECTIVES) / total if total else 0.0


def optimize(lead_smiles: str, n: int = 20, weights: Mapping[str, float] | None = None,
             min_similarity: float = 0.4, seed: int = 0, *, user: str = "anonymous", source: str = "python",
             store: AuditStore | None = None, progress: Callable[[int], None] | None = None,
             planned: Callable[[int], None] | None = None) -> tuple[MoleculeResult, list[RankedAnalogue]]:
    """Screen the lead and its analogues; return the lead's result and the top ``n`` analogues.

    Analogues are ranked by :func:`weighted_score` (ties by similarity); ``pareto`` marks those that
    neither the lead nor another analogue beats on every weighted objective. ``weights`` default to
    :func:`default_weights` of the lead. ``planned`` is called once with the number of molecules to screen
    (the lead and its analogues), before the screen; ``progress`` with the number just screened.
    Raises :class:`InvalidMoleculeError` for an invalid lead.
    """
    analogues = propose(lead_smiles, min_similarity, approved_fragments(), seed)
    inputs = [MoleculeInput("lead", lead_smiles)] + [MoleculeInput(f"analogue {i + 1}", a.smiles)
                                                       for i, a in enumerate(analogues)]
    if planned is not None:
        planned(len(inputs))
    screened = screen(inputs, user=user, source=source, store=store, workers=1, progress=progress,
                      purpose="lead optimisation: the lead and its analogues").molecules
    lead_result, results = screened[0], screened[1:]
    weights = dict(default_weights(lead_result) if weights is None else weights)
    kept = [(a, r) for a, r in zip(analogues, results) if r.valid]
    if not kept:
        return lead_result, []
    values = [objectives_of(r) for _, r in kept]
    active = [k for k in OBJECTIVES if weights.get(k, 0.0) > 0] or list(OBJECTIVES)
    lead_values = objectives_of(lead_result) if lead_result.valid else None
    # The lead takes part: an analogue the lead beats on every weighted objective is no trade-off worth showing.
    points = ([[lead_values[k] for k in active]] if lead_values else []) + [[v[k] for k in active] for v in values]
    front = pareto_front(np.array(points))[1 if lead_values else 0:]
    lead_score = weighted_score(lead_values, weights) if lead_values else 0.0
    lead_named = lead_result.canonical_smiles or lead_smiles
    ranked = [RankedAnalogue(a, r, v, weighted_score(v, weights), bool(p), lead_score, lead_named)
              for (a, r), v, p in zip(kept, values, front)]
    ranked.sort(key=lambda x: (-x.score, -x.analogue.similarity, x.analogue.smiles))
    return lead_result, ranked[:n]
