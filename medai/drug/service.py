"""The one path every screen takes: molecules → standardise → describe → models → rows → audit record.

The Drug page, ``python -m medai screen`` and Python callers all call :func:`screen`.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Callable, Sequence

import numpy as np

from medai import registry
from medai.drug.alerts import Alert, alert_columns
from medai.drug.catalog import DRUG_MODELS
from medai.drug.descriptors import DESCRIPTOR_UNITS, Descriptors
from medai.drug.featurize import MORGAN_BITS, packed_bits
from medai.drug.io import MoleculeInput
from medai.drug.models import TaskPrediction
from medai.drug.pipeline import PreparedMolecule, map_chunks, prepare
from medai.drug.reference import descriptor_reference, percentile
from medai.store import AuditStore

SCREEN_MODELS = ("drug-solubility", "drug-lipophilicity", "drug-tox21", "drug-bbbp", "drug-clintox", "drug-bace")
PERCENTILE_DESCRIPTORS = tuple(DESCRIPTOR_UNITS)
SAME_MOLECULE_SIMILARITY = 0.9995  # Tanimoto 1, short of rounding


@dataclass(frozen=True)
class MoleculeResult:
    """Everything the screen says of one input molecule.

    Attributes
    ----------
    id, smiles : str
        As given.
    canonical_smiles : str
        Canonical SMILES of the standardised parent ('' when invalid).
    valid : bool
    message : str
        Why it is invalid, or notes (out of domain); '' when there is nothing to say.
    descriptors : Descriptors or None
    alerts : tuple of Alert
    predictions : dict
        Output column → (value, SD): probabilities for classification tasks, values in the task's
        unit for regression (logS in log10 mol/L, logD in log units).
    percentiles : dict
        Column → percentile (0–100) among approved drugs, for descriptors and predictions.
    nearest_train_similarity : float or None
        Tanimoto similarity to the nearest training molecule of the strictest model.
    in_domain : bool or None
        Whether every model's nearest-neighbour similarity reaches its validated cut-off.
    domain_by_model : dict
        Model name → (similarity, cut-off).
    carried : tuple of (str, str)
        The input record's own columns (see :attr:`MoleculeInput.carried`), under their output names.
    """

    id: str
    smiles: str
    canonical_smiles: str
    valid: bool
    message: str
    descriptors: Descriptors | None = None
    alerts: tuple[Alert, ...] = ()
    predictions: dict[str, tuple[float, float]] = field(default_factory=dict)
    percentiles: dict[str, float] = field(default_factory=dict)
    nearest_train_similarity: float | None = None
    in_domain: bool | None = None
    domain_by_model: dict[str, tuple[float, float]] = field(default_factory=dict)
    carried: tuple[tuple[str, str], ...] = ()

    @property
    def models_in_domain(self) -> str:
        """How many models' domains hold this molecule, e.g. ``"5 of 6"`` ('' when invalid)."""
        inside = sum(similarity >= cutoff for similarity, cutoff in self.domain_by_model.values())
        return f"{inside} of {len(self.domain_by_model)}" if self.valid else ""

    @property
    def tox21_max(self) -> float | None:
        """The highest of the Tox21 task probabilities: one column to sort a screen by its worst
        toxicity signal (None when invalid or screened without the Tox21 model)."""
        tox21 = [value for column, (value, _) in self.predictions.items() if column.startswith("tox21_")]
        return max(tox21) if tox21 else None

    def row(self, columns: Sequence[str]) -> dict[str, object]:
        """One CSV row with ``columns`` (see :attr:`ScreenResult.columns`); blanks where not applicable."""
        values: dict[str, object] = {**dict(self.carried), "id": self.id, "smiles": self.smiles,
                                     "canonical_smiles": self.canonical_smiles,
                                     "valid": self.valid, "message": self.message,
                                     "nearest_train_similarity": "" if self.nearest_train_similarity is None
                                     else round(self.nearest_train_similarity, 3),
                                     "in_domain": "" if self.in_domain is None else self.in_domain,
                                     "models_in_domain": self.models_in_domain,
                                     "tox21_max": "" if self.tox21_max is None else round(self.tox21_max, 4)}
        if self.descriptors is not None:
            values.update(self.descriptors.as_row())
            values.update(alert_columns(list(self.alerts)))
        for column, (value, std) in self.predictions.items():
            values[column], values[f"{column}_std"] = round(value, 4), round(std, 4)
        for column, pct in self.percentiles.items():
            values[f"{column}_approved_pct"] = round(pct, 1)
        return {column: values.get(column, "") for column in columns}


@dataclass(frozen=True)
class ScreenResult:
    """A screen's rows (input order), the models used, the audit record ids and the input's own
    columns carried through (their output names)."""

    molecules: list[MoleculeResult]
    models: dict[str, str]
    record_ids: list[int]
    carried_columns: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """The output columns: :func:`csv_columns` of the models used, then the carried ones."""
        return csv_columns(tuple(self.models)) + self.carried_columns


def prediction_columns(model_names: Sequence[str] = SCREEN_MODELS) -> list[str]:
    """Prediction output columns of the installed screen models, in model order."""
    installed = set(registry.names())
    return [task for name in model_names if name in installed for task in registry.get_spec(name).labels]


def prediction_units(model_names: Sequence[str] = SCREEN_MODELS) -> dict[str, str]:
    """Prediction output column → its unit (``"probability"`` for the classification tasks)."""
    return {task: DRUG_MODELS[name].unit for name in model_names if name in DRUG_MODELS
            for task in DRUG_MODELS[name].tasks}


def csv_columns(model_names: Sequence[str] = SCREEN_MODELS) -> list[str]:
    """The CSV header of ``python -m medai screen``."""
    predictions = prediction_columns(model_names)
    tox21_max = ["tox21_max"] if any(p.startswith("tox21_") for p in predictions) else []
    return (["id", "smiles", "canonical_smiles", "valid", "message", *DESCRIPTOR_UNITS, "lipinski_violations",
             "veber_violations", "pains_alerts", "brenk_alerts", "alerts"]
            + [c for p in predictions for c in (p, f"{p}_std")] + tox21_max
            + ["nearest_train_similarity", "in_domain", "models_in_domain"]
            + [f"{c}_approved_pct" for c in (*PERCENTILE_DESCRIPTORS, *predictions)])


def carried_names(inputs: Sequence[MoleculeInput], ours: Sequence[str]) -> dict[str, str]:
    """The input's own column names (first seen first) → their output names: ``input_<name>`` where
    the screen writes a column of that name itself, numbered where that name is taken too."""
    names = list(dict.fromkeys(name for item in inputs for name, _ in item.carried))
    taken, renamed = set(ours) | set(names), {}
    for name in names:
        output, number = name, 2
        if name in ours:
            output = f"input_{name}"
            while output in taken:
                output, number = f"input_{name}_{number}", number + 1
            taken.add(output)
        renamed[name] = output
    return renamed


def seen_in_training(domain: dict[str, tuple[float, float]]) -> str:
    """A sentence naming the models trained on a molecule with this one's fingerprint (nearest similarity
    1: the molecule itself, or a twin the fingerprint cannot tell apart, such as a stereoisomer or a
    longer chain), whose predictions then largely recall that molecule's measured label ('' for none)."""
    seen = [name for name, (similarity, _) in domain.items() if similarity >= SAME_MOLECULE_SIMILARITY]
    return (f"Same fingerprint as a training molecule of {', '.join(seen)} (Tanimoto 1.00: this molecule or a "
            "near-twin such as a stereoisomer): their predictions largely recall its measured label.") if seen else ""


def input_hash(inputs: Sequence[MoleculeInput]) -> str:
    """SHA-256 of the SMILES as given, one per line (what was screened, without ids)."""
    return hashlib.sha256("\n".join(item.smiles for item in inputs).encode()).hexdigest()


@dataclass(frozen=True)
class EvaluatedChunk:
    """One chunk of a screen, as a worker process returns it (no features or graphs: they stay in the worker).

    Attributes
    ----------
    prepared : list of PreparedMolecule
        One per SMILES of the chunk, in order, ``features`` and ``graph`` dropped.
    valid : list of int
        Positions in the chunk of the valid molecules, the rows of every array below.
    predictions : dict
        Model name → task → :class:`TaskPrediction` over the valid molecules.
    similarity : dict
        Model name → nearest-training Tanimoto similarity, shape (n_valid,).
    """

    prepared: list[PreparedMolecule]
    valid: list[int]
    predictions: dict[str, dict[str, TaskPrediction]]
    similarity: dict[str, np.ndarray]


def evaluate_chunk(model_names: tuple[str, ...], smiles: list[str]) -> EvaluatedChunk:
    """Prepare a chunk of SMILES and run every model on its valid molecules (in a worker for large screens)."""
    prepared = [prepare(text) for text in smiles]
    valid = [k for k, molecule in enumerate(prepared) if not molecule.error]
    predictions, similarity = {}, {}
    if valid:
        features = np.stack([prepared[k].features for k in valid])
        graphs = [prepared[k].graph for k in valid]
        bits = packed_bits(features[:, :MORGAN_BITS])
        for name in model_names:
            model = registry.load(name)
            predictions[name] = model.predict(features, graphs)
            similarity[name] = model.nearest_training_similarity(bits)
    return EvaluatedChunk([replace(molecule, features=None, graph=None) for molecule in prepared], valid, predictions,
                          similarity)


def _joined(chunks: list[EvaluatedChunk], models: dict) -> tuple[dict[str, dict[str, TaskPrediction]],
                                                                   dict[str, np.ndarray]]:
    """The chunks' predictions and similarities end to end, over every valid molecule of the screen."""
    predictions = {name: {task: TaskPrediction(np.concatenate([c.predictions[name][task].value for c in chunks]),
                                               np.concatenate([c.predictions[name][task].std for c in chunks]))
                          for task in chunks[0].predictions[name]} for name in models} if chunks else {}
    similarity = {name: np.concatenate([c.similarity[name] for c in chunks]) for name in models} if chunks else {}
    return predictions, similarity


def screen(inputs: Sequence[MoleculeInput], model_names: Sequence[str] = SCREEN_MODELS, *,
           user: str = "anonymous", source: str = "python", store: AuditStore | None = None,
           progress: Callable[[int], None] | None = None, workers: int = 2, purpose: str = "") -> ScreenResult:
    """Screen molecules: one :class:`MoleculeResult` per input, in input order.

    Parameters
    ----------
    inputs : sequence of MoleculeInput
        From :mod:`medai.drug.io`; records that could not be read keep their place as invalid rows.
    model_names : sequence of str
        Registry names of the property models to run (those installed).
    store : AuditStore, optional
        Records one audit row per model: version, input hash, molecule counts.
    purpose : str
        Said in the records' label when the screen serves something else (a lead optimisation).
    progress : callable, optional
        Called with the number of molecules just prepared.
    """
    began = time.perf_counter()
    installed = set(registry.names())
    names = tuple(name for name in model_names if name in installed)
    models = {name: registry.load(name) for name in names}
    to_read = [item.smiles.strip() if not item.error else "" for item in inputs]  # the rows keep them as given
    chunks = map_chunks(partial(evaluate_chunk, names), to_read, progress, workers)
    prepared = [molecule for chunk in chunks for molecule in chunk.prepared]
    valid = [i for i, p in enumerate(prepared) if not p.error]
    predictions, similarity = _joined([chunk for chunk in chunks if chunk.valid], models)
    prediction_pcts = {task: percentile(prediction.value, models[name].approved_quantiles[task])
                       for name, tasks in predictions.items() for task, prediction in tasks.items()}
    reference = descriptor_reference()
    descriptor_rows = [prepared[i].descriptors.as_row() for i in valid]
    descriptor_pcts = {c: percentile(np.array([row[c] for row in descriptor_rows], float), reference[c])
                       for c in PERCENTILE_DESCRIPTORS} if valid else {}
    ours = csv_columns(names)
    renamed = carried_names(inputs, ours)
    results: list[MoleculeResult] = []
    position = {row: k for k, row in enumerate(valid)}
    first_of: dict[str, str] = {}  # canonical SMILES → id of its first row: a repeat says so
    for index, (item, prep) in enumerate(zip(inputs, prepared)):
        carried = tuple((renamed[name], value) for name, value in item.carried)
        if index not in position:
            results.append(MoleculeResult(item.id, item.smiles, "", False, item.error or prep.error,
                                          carried=carried))
            continue
        k = position[index]
        values = {task: (float(prediction.value[k]), float(prediction.std[k]))
                  for tasks in predictions.values() for task, prediction in tasks.items()}
        pcts = {c: float(descriptor_pcts[c][k]) for c in PERCENTILE_DESCRIPTORS} | {
            task: float(pct[k]) for task, pct in prediction_pcts.items()}
        domain = {name: (float(similarity[name][k]), models[name].domain_cutoff) for name in names}
        strictest = min(domain, key=lambda n: domain[n][0] - domain[n][1]) if domain else None
        in_domain = all(s >= c for s, c in domain.values()) if domain else None
        outside = [name for name, (s, c) in domain.items() if s < c]
        message = "" if in_domain in (None, True) else (
            f"Out of the applicability domain of {', '.join(outside)} ({len(outside)} of {len(domain)} models; "
            f"strictest {strictest}: nearest training molecule has Tanimoto {domain[strictest][0]:.2f} < "
            f"{domain[strictest][1]:.2f}); treat their predictions as guesses.")
        repeat = (f"Same molecule, once standardised, as {first_of[prep.canonical_smiles]}."
                  if prep.canonical_smiles in first_of else "")
        first_of.setdefault(prep.canonical_smiles, item.id)
        message = " ".join(part for part in (prep.note, repeat, message, seen_in_training(domain)) if part)
        results.append(MoleculeResult(item.id, item.smiles, prep.canonical_smiles, True, message, prep.descriptors,
                                      prep.alerts, values, pcts, domain[strictest][0] if strictest else None,
                                      in_domain, domain, carried))
    versions = {name: registry.get_spec(name).version for name in names}
    record_ids = []
    if store is not None:
        digest = input_hash(inputs)
        summary = f"{len(valid)} valid of {len(inputs)} molecules" + (f" ({purpose})" if purpose else "")
        duration_ms = (time.perf_counter() - began) * 1000  # the whole screen, the same on each model's row
        input_metadata = {"molecules": len(inputs), "unreadable": sum(1 for item in inputs if item.error)}
        shared = {"valid": len(valid), "invalid": len(inputs) - len(valid),
                  "with_alerts": sum(1 for r in results if r.alerts)}
        for name, version in versions.items():
            outside = sum(1 for r in results if r.valid and r.domain_by_model[name][0] < r.domain_by_model[name][1])
            record_ids.append(store.record_prediction(  # each model's record counts its own domain
                user=user, source=source, model_name=name, model_version=version, input_sha256=digest, status="ok",
                label=summary, weights_sha256=registry.weights_digest(registry.get_spec(name)),
                input_metadata=input_metadata, output_summary={**shared, "out_of_domain": outside},
                duration_ms=duration_ms))
    return ScreenResult(results, versions, record_ids, list(renamed.values()))
