"""The one path every segmentation takes: bytes → image → U-Net → masks and measurements → audit record.

The Segment page, ``python -m medai segment`` and Python callers all call :func:`segment`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from typing import Sequence


from medai import registry
from medai.errors import MedAIError
from medai.imaging.explain import DISPLAY_SIDE_PX, display_copy, display_copy_rgb
from medai.imaging.io import MedicalImage, audit_metadata, file_digest, read_image, read_or_error
from medai.imaging.segment import SEGMENTATION_TASK, segmentation_spec
from medai.imaging.segment.measure import LUNGS, Measurement, areas, chest_findings
from medai.imaging.segment.model import Segmentation, colour_pixels
from medai.store import AuditStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SegmentOutcome:
    """The result for one input, whatever happened to it.

    Attributes
    ----------
    name : str
        The input's name as given (shown back; never stored or logged).
    status : str
        ``"ok"``, ``"refused"`` or ``"error"``.
    message : str
        A sentence for the user.
    model_name, model_version : str
        The model that answered.
    image : MedicalImage or None
        The decoded image (a display copy after :func:`for_display`).
    segmentation : Segmentation or None
        Probabilities and thresholds (None on error).
    measurements : list of Measurement
        Per structure at the original size and the validated thresholds (empty unless ``"ok"``).
    findings : dict
        Derived figures (``cardiothoracic_ratio``, ``<lung>_lesion_share``) for chest X-ray models.
    record_id : int or None
        Id of the audit record, when a store was given.
    original_shape : tuple of int or None
        (height, width) of the image as read.
    input_sha256 : str
        SHA-256 of the input's bytes, also for a file that could not be read (to trace it).
    """

    name: str
    status: str
    message: str
    model_name: str
    model_version: str
    image: MedicalImage | None = None
    segmentation: Segmentation | None = None
    measurements: list[Measurement] = field(default_factory=list)
    findings: dict[str, float | None] = field(default_factory=dict)
    record_id: int | None = None
    original_shape: tuple[int, int] | None = None
    input_sha256: str = ""


def measure(segmentation: Segmentation, shape: tuple[int, int], pixel_spacing_mm: tuple[float, float] | None,
            thresholds: dict[str, float] | None = None) -> tuple[list[Measurement], dict[str, float | None]]:
    """Areas per structure and (for chest models) derived findings, at ``shape`` (the original size)."""
    masks = segmentation.masks(shape, thresholds)
    findings = chest_findings(masks) if set(LUNGS) | {"cardiomediastinum"} <= set(masks) else {}
    return areas(masks, pixel_spacing_mm), findings


def segment(inputs: Sequence[tuple[str, bytes]], model_name: str, *, user: str = "anonymous",
            source: str = "python", store: AuditStore | None = None) -> list[SegmentOutcome]:
    """Segment a batch of images, one outcome per input, in input order.

    Parameters
    ----------
    inputs : sequence of (name, bytes)
        File contents with a display name each.
    model_name : str
        A registry name of task ``image-segmentation``, e.g. ``"cxr-lungs"``.
    user, source : str
        Who asked and through which door (``"ui"``, ``"cli"``, ``"python"``), for the audit trail.
    store : AuditStore, optional
        Where to record each outcome; nothing is recorded when omitted.

    Raises
    ------
    MedAIError
        Only when the model is not a segmentation model or cannot be loaded; a bad input becomes an
        ``"error"`` outcome.
    """
    spec = segmentation_spec(model_name)
    model = registry.load(model_name)
    colour = int(spec.input.get("channels", 1)) == 3
    outcomes = []
    for name, data in inputs:
        began = time.perf_counter()
        outcome = _one(name, data, spec, model, colour)
        outcome = replace(outcome, input_sha256=file_digest(outcome.image, data))
        if store is not None:
            outcome = _recorded(outcome, store, user, source, registry.weights_digest(spec), len(data),
                                (time.perf_counter() - began) * 1000)
        outcomes.append(outcome)
    return outcomes


def _one(name: str, data: bytes, spec: registry.ModelSpec, model, colour: bool) -> SegmentOutcome:
    image, error = read_or_error(data, keep_colour=colour)
    if image is None:
        return SegmentOutcome(name, "error", error, spec.name, spec.version)
    try:
        result = model.predict_one(image)
    except Exception as exc:  # a failure inside the model must cost one row, never the batch
        log.warning("unexpected %s while segmenting an input", type(exc).__name__)
        return SegmentOutcome(name, "error", "The image could not be segmented.", spec.name, spec.version, image)
    if result.status != "ok":
        return SegmentOutcome(name, result.status, result.message, spec.name, spec.version, image, result)
    measurements, findings = measure(result, image.shape, image.pixel_spacing_mm)
    return SegmentOutcome(name, "ok", result.message, spec.name, spec.version, image, result, measurements, findings)


def _recorded(outcome: SegmentOutcome, store: AuditStore, user: str, source: str, weights_sha256: str,
              size_bytes: int, duration_ms: float) -> SegmentOutcome:
    """Record one outcome: structures found and their areas, the model's digest, technical input facts."""
    image = outcome.image
    input_metadata = audit_metadata(image, size_bytes)
    summary: dict[str, object] = {"status": outcome.status, "message": outcome.message[:500]}
    if outcome.measurements:
        summary["structures"] = {m.structure: {"area_px": m.area_px, "area_mm2": m.area_mm2,
                                               "share_of_image": round(m.share_of_image, 6)}
                                 for m in outcome.measurements}
        summary["found"] = [m.structure for m in outcome.measurements if m.area_px > 0]
        summary["thresholds"] = dict(zip(outcome.segmentation.structures, outcome.segmentation.thresholds))
    if outcome.findings:
        summary["findings"] = outcome.findings
    found = summary.get("found")
    record_id = store.record_prediction(
        user=user, source=source, model_name=outcome.model_name, model_version=outcome.model_version,
        input_sha256=outcome.input_sha256 or None, status=outcome.status,
        label=", ".join(found) if found else None, weights_sha256=weights_sha256,
        input_metadata=input_metadata, output_summary=summary, duration_ms=duration_ms)
    return replace(outcome, record_id=record_id)


def for_display(outcome: SegmentOutcome, max_side: int = DISPLAY_SIDE_PX) -> SegmentOutcome:
    """The outcome with its image shrunk to ``max_side`` on the long side, for a page to keep and redraw.

    The segmentation's probabilities stay at the working resolution, so masks can be redrawn at the
    display size or made again at ``original_shape`` for export.
    """
    image = outcome.image
    if image is None or outcome.original_shape is not None:
        return outcome
    rgb = None if image.rgb is None else display_copy_rgb(image.rgb, max_side)
    return replace(outcome, image=replace(image, pixels=display_copy(image.pixels, max_side), rgb=rgb),
                   original_shape=image.shape)


def models_that_take(data: bytes, refused_by: str, load_others: bool = False) -> list[str]:
    """The other segmentation models whose colour rule and thumbnail kind check would take these image
    bytes: what to suggest after a refusal (e.g. ``colon-polyp`` for a colonoscopy frame that
    ``retina-vessels`` refused). Only those already loaded are asked unless ``load_others`` (the CLI,
    which loads one model); nothing is segmented here.
    """
    try:
        image = read_image(data, keep_colour=True)
    except MedAIError:
        return []
    takers = []
    for name in registry.names(SEGMENTATION_TASK):
        if name == refused_by or not (load_others or registry.is_loaded(name)):
            continue
        model = registry.load(name)
        if model.kind_check is not None and model.rule_refusal(image) is None and \
                model.kind_check.accepts(colour_pixels(image)):
            takers.append(name)
    return takers
