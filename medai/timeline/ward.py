"""A ward's worklist: each patient's risk of death in hospital, how it moved over the last hours, and
NEWS2, ranked so that the patient most at risk comes first.

The risk and NEWS2 are :func:`medai.timeline.service.assess_risk`'s (audited there, once per patient);
the ward adds the risk from the data up to :data:`CHANGE_OVER_H` before each patient's latest
observation, and the order. A patient whose data are too thin for a figure, or who could not be read,
is not ranked: an unknown is not a low risk, so those patients are listed apart, never at the bottom.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterable

from medai import registry
from medai.cards import outcomes_in_bin
from medai.store import AuditStore
from medai.timeline.io import Stay
from medai.timeline.mortality import too_little_data
from medai.timeline.news2 import HIGH, MEDIUM
from medai.timeline.service import BATCH, RISK_MODEL, Item, RiskResult, assess_risk

CHANGE_OVER_H = 6.0  # the risk now against the risk from the data up to this many hours before the latest
WARD_COLUMNS = ["rank", "patient_id", "mortality_risk", "scored_alike_died", "risk_change_6h", "news2_last",
                "news2_response", "news2_not_recorded", "news2_max", "hours_observed", "status", "message"]
# The RCP's clinical response to the latest NEWS2 (Royal College of Physicians, NEWS2 2017, chart 3).
RESPONSES = {"emergency": "emergency response (≥ 7)", "urgent": "urgent response (5–6)",
             "ward": "urgent ward review (a single 3)", "nurse": "nurse assessment (1–4)",
             "routine": "routine monitoring (0)"}
ACTING_ON = ("emergency", "urgent", "ward", "nurse")  # the RCP's responses to a NEWS2 above 0


@dataclass(frozen=True)
class WardEntry:
    """One patient's line of the worklist.

    Attributes
    ----------
    risk : RiskResult
        The patient's risk, NEWS2, status and message (and audit record id).
    risk_change : float or None
        Risk now minus the risk from the data up to :data:`CHANGE_OVER_H` before the latest observation
        (probability, −1 to 1); None when those earlier data are themselves too thin for a figure.
    hours_observed : float or None
        Hours since admission of the latest observation (None when the file could not be read: blank in
        the CSV, where 0 would read as a measurement).
    position : int
        Where the patient came in the input (0-based), so that a line leads back to its stay.
    rank : int or None
        1 for the highest risk; None for a patient not ranked (see :attr:`why_not_ranked`).
    why_not_ranked : str
        Empty for a ranked patient; else the reason (too little data, or the read error).
    duplicate : str
        Empty, or a note that the patient id came more than once in the input.
    evidence : dict or None
        How often validation stays scored in the same tenth died, with a 95 % interval
        (:func:`medai.cards.outcomes_in_bin`); None for a patient not ranked.
    """

    risk: RiskResult
    risk_change: float | None
    hours_observed: float | None
    position: int
    rank: int | None = None
    why_not_ranked: str = ""
    duplicate: str = ""
    evidence: dict | None = None

    @property
    def scored_alike(self) -> str:
        """The evidence in a few words: "50 % (35–65 %)" of validation stays scored alike died; '' without it."""
        if not self.evidence:
            return ""
        low, high = self.evidence["ci95"]
        return f"{100 * self.evidence['observed']:.0f} % ({100 * low:.0f}–{100 * high:.0f} %)"

    @property
    def news2_response(self) -> str:
        """The RCP's response to the latest NEWS2 (a key of :data:`RESPONSES`), or '' (too few of its parameters
        recorded to say)."""
        last = self.risk.news2_last
        if last is None or self.risk.news2_sparse:
            return ""
        if last >= HIGH:
            return "emergency"
        return "urgent" if last >= MEDIUM else "ward" if self.risk.news2_single_three else "nurse" if last else "routine"

    def row(self) -> dict[str, object]:
        """One CSV row (:data:`WARD_COLUMNS`); NEWS2 blank when most of its parameters were not recorded."""
        row = self.risk.row()  # NEWS2 already blank there when most of its parameters were not recorded
        thin = self.why_not_ranked and self.risk.status != "error"
        message = " ".join(filter(None, [self.duplicate, "Not ranked (too little data)." if thin else "",
                                         str(row["message"])]))
        return {"rank": "" if self.rank is None else self.rank, "patient_id": row["patient_id"],
                "mortality_risk": "" if self.rank is None else row["mortality_risk"],
                "scored_alike_died": self.scored_alike, "risk_change_6h": "" if self.risk_change is None else round(self.risk_change, 4),
                "news2_last": row["news2_last"],
                "news2_response": RESPONSES.get(self.news2_response, ""),
                "news2_not_recorded": row["news2_not_recorded"], "news2_max": row["news2_max"],
                "hours_observed": "" if self.hours_observed is None else round(self.hours_observed, 1),
                "status": row["status"], "message": message}


def _earlier_risks(stays: list[Stay]) -> dict[int, float]:
    """Risk from each stay's data up to :data:`CHANGE_OVER_H` before its latest observation, keyed by
    ``id(stay)``; only for stays whose earlier data hold enough for a figure."""
    earlier = {id(s): s.hours - CHANGE_OVER_H for s in stays}
    enough = [s for s in stays if not too_little_data(s.until(earlier[id(s)]))]
    if not enough:
        return {}
    model, risks = registry.load(RISK_MODEL), {}
    for start in range(0, len(enough), BATCH):  # in batches, as assess_risk: a ward of thousands stays small in memory
        batch = enough[start:start + BATCH]
        risks.update(zip(map(id, batch), map(float, model.predict(batch, [earlier[id(s)] for s in batch]))))
    return risks


def _duplicates(results: list[RiskResult]) -> dict[int, str]:
    """A note for each result (by position) whose patient id comes more than once in the input, or whose data
    come again under another id."""
    positions: dict[str, list[int]] = {}
    for position, result in enumerate(results):
        positions.setdefault(result.patient_id, []).append(position)
    notes = {}
    for patient, where in positions.items():
        if len(where) > 1:
            same = len({results[p].input_sha256 for p in where}) == 1
            notes.update({p: f"Patient id {patient} comes {len(where)} times in the input "
                             f"({'the same data each time' if same else 'with different data'})." for p in where})
    by_data: dict[str, list[int]] = {}
    for position, result in enumerate(results):
        if result.input_sha256:
            by_data.setdefault(result.input_sha256, []).append(position)
    for where in by_data.values():  # one stay under two ids (a file and its export, say): also said
        ids = sorted({results[p].patient_id for p in where})
        if len(ids) > 1:
            for p in where:
                others = ", ".join(i for i in ids if i != results[p].patient_id)
                notes[p] = f"The same data as patient {others}: one stay under {len(ids)} ids."
    return notes


def worklist(items: Iterable[Item], *, user: str = "anonymous", source: str = "python",
             store: AuditStore | None = None, progress: Callable[[int], None] | None = None) -> list[WardEntry]:
    """Every patient's worklist line: ranked ones first by risk (highest first; NEWS2 now breaks ties),
    then the patients not ranked, in input order. A patient id that comes more than once is noted on
    each of its lines (two files may hold the same patient, or two patients one id).

    Parameters
    ----------
    items : iterable of Stay or (name, MedAIError)
        As read by :func:`medai.timeline.sources.read_stays` or :func:`medai.timeline.sources.read_upload`.
    """
    items = list(items)
    results = list(assess_risk(items, user=user, source=source, store=store, progress=progress))
    earlier = _earlier_risks([item for result, item in zip(results, items)
                              if isinstance(item, Stay) and result.mortality_risk is not None])
    duplicates = _duplicates(results)
    entries = []
    for position, (result, item) in enumerate(zip(results, items)):
        stay = item if isinstance(item, Stay) else None
        why = result.message if result.status == "error" else "; ".join(too_little_data(stay))
        change = (result.mortality_risk - earlier[id(stay)]
                  if stay is not None and id(stay) in earlier and result.mortality_risk is not None else None)
        entries.append(WardEntry(result, None if why else change, stay.hours if stay is not None else None, position,
                                 why_not_ranked=why, duplicate=duplicates.get(position, "")))
    ranked = sorted((e for e in entries if not e.why_not_ranked),
                    key=lambda e: (-e.risk.mortality_risk, -(e.risk.news2_last or 0)))
    reliability = registry.card(RISK_MODEL)["curves"]["reliability"]
    ranked = [replace(e, rank=rank, evidence=outcomes_in_bin(e.risk.mortality_risk, reliability))
              for rank, e in enumerate(ranked, 1)]
    return ranked + [e for e in entries if e.why_not_ranked]


__all__ = ["ACTING_ON", "CHANGE_OVER_H", "RESPONSES", "WARD_COLUMNS", "WardEntry", "worklist"]
