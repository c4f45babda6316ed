"""The one path every diagnosis takes: bytes → image → model → result → audit record.

The Diagnose page, ``python -m medai diagnose`` and Python callers all call :func:`diagnose`, so they
give the same answer, record it the same way, and fail the same way.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Sequence

import numpy as np

from medai import registry
from medai.imaging.explain import DISPLAY_SIDE_PX, display_copy
from medai.imaging.io import MedicalImage, audit_metadata, file_digest, read_or_error
from medai.imaging.lung_focus import NO_LUNG_FIELDS, lung_focus, lung_model_installed
from medai.imaging.notes import reading_notes
from medai.store import AuditStore

if TYPE_CHECKING:  # classify imports TensorFlow; the page imports this module before the model is loaded
    from medai.imaging.classify import Diagnosis

DECODE_THREADS = 4  # Pillow releases the GIL while it decodes, so files decode side by side
CLASSIFICATION_TASK = "image-classification"


def csv_columns(labels: Sequence[str]) -> list[str]:
    """CSV header for a model with ``labels``: ``file``, one ``p_<label>`` each, then the rest."""
    return ["file", *(f"p_{label}" for label in labels), "label", "uncertainty", "status", "message",
            "threshold", "model", "model_version", "input_sha256", "heat_in_lungs"]


@dataclass(frozen=True)
class DiagnoseOutcome:
    """The result for one input, whatever happened to it.

    Attributes
    ----------
    name : str
        The input's name as given (shown back to the user; never stored or logged).
    status : str
        ``"ok"``, ``"refused"`` or ``"error"``.
    message : str
        A sentence for the user.
    model_name, model_version : str
        The model that answered.
    image : MedicalImage or None
        The decoded image (None when it could not be read).
    diagnosis : Diagnosis or None
        The model's answer (None on error).
    record_id : int or None
        Id of the audit record, when a store was given.
    original_shape : tuple of int or None
        (height, width) of the image as read, when ``image`` is a display copy (:func:`for_display`).
    lung_fields : np.ndarray or None
        (h, w) bool lung fields from ``cxr-lungs`` at its working size, when explained and installed.
    heat_in_lungs : float or None
        Share of the Grad-CAM heat inside ``lung_fields`` (see :mod:`medai.imaging.lung_focus`).
    input_sha256 : str
        SHA-256 of the input's bytes, also for a file that could not be read (to trace it).
    """

    name: str
    status: str
    message: str
    model_name: str
    model_version: str
    image: MedicalImage | None = None
    diagnosis: Diagnosis | None = None
    record_id: int | None = None
    original_shape: tuple[int, int] | None = None
    lung_fields: np.ndarray | None = None
    heat_in_lungs: float | None = None
    input_sha256: str = ""

    @property
    def full_message(self) -> str:
        """The message and the reading notes the page and the report print beside it (members disagree,
        near the threshold), for the CSV and the audit record, which have no other place for them."""
        members = self.diagnosis.member_probabilities if self.diagnosis else None
        notes = reading_notes(self.diagnosis, len(members) if members else None) if self.diagnosis else []
        return " ".join(part for part in (self.message, *notes) if part)

    def row(self, labels: Sequence[str]) -> dict[str, object]:
        """One CSV row with :func:`csv_columns`; probabilities blank unless ``status == "ok"``."""
        diagnosis = self.diagnosis
        probabilities = dict.fromkeys((f"p_{label}" for label in labels), "")
        if diagnosis is not None and diagnosis.probabilities is not None:
            probabilities.update({f"p_{label}": round(float(p), 6)
                                  for label, p in zip(diagnosis.labels, diagnosis.probabilities)})
        return {
            "file": self.name,
            **probabilities,
            "label": (diagnosis.label or "") if diagnosis else "",
            "uncertainty": round(diagnosis.uncertainty, 6) if diagnosis and diagnosis.uncertainty is not None else "",
            "status": self.status,
            "message": self.full_message,
            "threshold": round(diagnosis.threshold, 6) if diagnosis else "",
            "model": self.model_name,
            "model_version": self.model_version,
            "input_sha256": self.input_sha256,
            "heat_in_lungs": "" if self.heat_in_lungs is None else round(self.heat_in_lungs, 4),
        }


def classifier_spec(model_name: str) -> registry.ModelSpec:
    """The registry spec of ``model_name``; :class:`MedAIError` naming the classifiers when it is not one."""
    return registry.get_spec_of_task(model_name, CLASSIFICATION_TASK, "an image classifier")


def diagnose(inputs: Sequence[tuple[str, bytes]], model_name: str, *, user: str = "anonymous",
             source: str = "python", store: AuditStore | None = None,
             explain: bool = False) -> list[DiagnoseOutcome]:
    """Diagnose a batch of images, one outcome per input, in input order.

    Parameters
    ----------
    inputs : sequence of (name, bytes)
        File contents with a display name each.
    model_name : str
        A registry name, e.g. ``"cxr-pneumonia"``.
    user, source : str
        Who asked, and through which door (``"ui"``, ``"cli"``, ``"python"``), for the audit trail.
    store : AuditStore, optional
        Where to record each outcome; nothing is recorded when omitted.
    explain : bool
        Also compute Grad-CAM heat maps.

    Raises
    ------
    MedAIError
        Only when the model is not an image classifier or cannot be loaded; a bad input becomes an
        ``"error"`` outcome.
    """
    spec = classifier_spec(model_name)
    model = registry.load(model_name)
    # A model that reads few pixels lets a JPEG decode at reduced scale. It always reads that decode, so a
    # film gets the same answer with or without a heat map; a heat map to draw adds a full-size decode.
    least_side = getattr(model, "least_side", None)
    with ThreadPoolExecutor(max_workers=DECODE_THREADS) as pool:
        decoded = list(pool.map(lambda item: _read(item[1], least_side), inputs))
        shown = decoded
        if explain:  # the heat map is drawn on the film at full size: decode again what came reduced
            shown = list(pool.map(lambda item, first: _read(item[1], None) if _reduced(first[0]) else first,
                                  inputs, decoded))
    model_views = [image for image, _, _ in decoded]
    images = [image for image, _, _ in shown]
    errors = [error or again for (_, error, _), (_, again, _) in zip(decoded, shown)]
    took_ms = [first[2] + (again[2] if again is not first else 0.0) for first, again in zip(decoded, shown)]
    readable = [i for i, image in enumerate(model_views) if image is not None and images[i] is not None]
    began = time.perf_counter()
    diagnoses = dict(zip(readable, model.predict([model_views[i] for i in readable], explain=explain)))
    predict_share_ms = (time.perf_counter() - began) * 1000 / max(1, len(readable))
    outcomes = []
    for index, (name, _) in enumerate(inputs):
        diagnosis = diagnoses.get(index)
        status = diagnosis.status if diagnosis else "error"
        message = diagnosis.message if diagnosis else errors[index]
        outcome = DiagnoseOutcome(name, status, message, spec.name, spec.version, images[index], diagnosis,
                                  input_sha256=file_digest(images[index], inputs[index][1]))
        if explain and diagnosis is not None and diagnosis.heatmap is not None:
            fields, share = lung_focus(images[index], diagnosis.heatmap)
            outcome = replace(outcome, lung_fields=fields, heat_in_lungs=share)
            if fields is None and lung_model_installed():  # one model doubts the film: the reader must know
                outcome = replace(outcome, message=f"{outcome.message} {NO_LUNG_FIELDS}".strip())
        if store is not None:
            duration_ms = took_ms[index] + (predict_share_ms if diagnosis else 0.0)
            outcome = _recorded(outcome, store, user, source, registry.weights_digest(spec),
                                len(inputs[index][1]), duration_ms)
        outcomes.append(outcome)
    return outcomes


def _reduced(image: MedicalImage | None) -> bool:
    """Whether ``image`` was decoded below the size stored in its file."""
    return image is not None and image.stored_shape is not None


def _read(data: bytes, least_side: int | None) -> tuple[MedicalImage | None, str, float]:
    """(image or None, error message or "", milliseconds taken) for one input's bytes."""
    began = time.perf_counter()
    image, error = read_or_error(data, least_side=least_side)
    return image, error, (time.perf_counter() - began) * 1000


def _recorded(outcome: DiagnoseOutcome, store: AuditStore, user: str, source: str, weights_sha256: str,
              size_bytes: int, duration_ms: float) -> DiagnoseOutcome:
    """Record one outcome: the answer, the model's weights digest, technical input facts, the time taken."""
    diagnosis, image = outcome.diagnosis, outcome.image
    input_metadata = audit_metadata(image, size_bytes)
    output_summary = {"status": outcome.status, "message": outcome.full_message[:500]}
    if diagnosis is not None:
        output_summary.update({"label": diagnosis.label, "threshold": float(diagnosis.threshold),
                               "out_of_population": bool(diagnosis.out_of_population)})
    if outcome.heat_in_lungs is not None:
        output_summary["heat_in_lungs"] = round(outcome.heat_in_lungs, 4)
    probabilities = None
    if diagnosis is not None and diagnosis.probabilities is not None:
        probabilities = {label: float(p) for label, p in zip(diagnosis.labels, diagnosis.probabilities)}
    record_id = store.record_prediction(
        user=user, source=source, model_name=outcome.model_name, model_version=outcome.model_version,
        input_sha256=outcome.input_sha256 or None, status=outcome.status,
        label=diagnosis.label if diagnosis else None, probabilities=probabilities,
        uncertainty=diagnosis.uncertainty if diagnosis else None, weights_sha256=weights_sha256,
        input_metadata=input_metadata, output_summary=output_summary, duration_ms=duration_ms)
    return replace(outcome, record_id=record_id)


def repeated_images(outcomes: Sequence[DiagnoseOutcome]) -> list[list[str]]:
    """Names of inputs that are the same image (same SHA-256 of the file), one list per image seen twice or more."""
    names: dict[str, list[str]] = {}
    for outcome in outcomes:
        if outcome.image is not None:
            names.setdefault(outcome.input_sha256, []).append(outcome.name)
    return [group for group in names.values() if len(group) > 1]


def for_display(outcome: DiagnoseOutcome, max_side: int = DISPLAY_SIDE_PX) -> DiagnoseOutcome:
    """The outcome with its image shrunk to ``max_side`` on the long side, for a page to keep and redraw.

    The full-resolution pixels are dropped; ``original_shape`` keeps their size, so a full-size heat
    map can still be made from the (coarse) ``diagnosis.heatmap`` with
    :func:`medai.imaging.explain.heatmap_png`.
    """
    image = outcome.image
    if image is None or outcome.original_shape is not None:
        return outcome
    return replace(outcome, image=replace(image, pixels=display_copy(image.pixels, max_side)),
                   original_shape=image.full_shape)

