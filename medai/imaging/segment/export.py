"""Export a segmentation: each mask as a PNG, the measurements as CSV rows, a DICOM Segmentation.

Everything here works at the image's original size (the size it was read at), at the validated
thresholds unless the caller passes other masks. The Segment page and ``python -m medai segment``
both call these functions, so a downloaded mask and a CLI mask of one image are the same file.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from medai.errors import MedAIError
from medai.imaging.segment.measure import LESION_CAVEAT, LESIONS

if TYPE_CHECKING:  # the service imports TensorFlow; a caller that only writes PNGs should not pay for it
    from medai.imaging.segment.service import SegmentOutcome

FINDING_COLUMNS = ("cardiothoracic_ratio", "right_lung_lesion_share", "left_lung_lesion_share")
MEASUREMENT_COLUMNS = ("file", "structure", "status", "message", "area_px", "area_mm2", "share_of_image",
                       "threshold", *FINDING_COLUMNS, "model", "model_version", "input_sha256")
log = logging.getLogger(__name__)
SEG_MANUFACTURER = "MedAI Workbench"
SEG_SERIES_NUMBER = 9901  # out of the way of a modality's own series numbers
SEG_DESCRIPTION = "MedAI automatic segmentation, research use only"  # LO: at most 64 characters


def mask_png(mask: np.ndarray) -> bytes:
    """A single-channel 8-bit PNG of ``mask``: 255 inside, 0 outside, exactly the mask's (H, W).

    Parameters
    ----------
    mask : np.ndarray
        (H, W) array; any non-zero value counts as inside.

    Returns
    -------
    bytes
        PNG file contents (mode ``L``).

    Raises
    ------
    ValueError
        The array is not two-dimensional.
    """
    if mask.ndim != 2:
        raise ValueError(f"A mask must be two-dimensional; got shape {mask.shape}.")
    buffer = io.BytesIO()
    Image.fromarray(np.where(mask != 0, 255, 0).astype(np.uint8), mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def original_shape(outcome: SegmentOutcome) -> tuple[int, int] | None:
    """(height, width) of the image as read: kept by :func:`for_display`, else the image's own; None on error."""
    if outcome.original_shape is not None:
        return outcome.original_shape
    return None if outcome.image is None else outcome.image.shape


def outcome_masks(outcome: SegmentOutcome, thresholds: dict[str, float] | None = None) -> dict[str, np.ndarray]:
    """Every structure's (H, W) bool mask at the original size; empty unless the outcome is ``"ok"``.

    Parameters
    ----------
    outcome : SegmentOutcome
        From :func:`medai.imaging.segment.service.segment` (full size or after ``for_display``).
    thresholds : dict, optional
        Structure → threshold overriding the validated ones (the page's sliders).
    """
    shape = original_shape(outcome)
    if outcome.status != "ok" or outcome.segmentation is None or shape is None:
        return {}
    return outcome.segmentation.masks(shape, thresholds)


def _number(value: float | None, digits: int) -> float | str:
    return "" if value is None else round(float(value), digits)


def measurement_rows(outcome: SegmentOutcome) -> list[dict[str, object]]:
    """CSV rows (keys :data:`MEASUREMENT_COLUMNS`): one per structure, or one for an input without masks.

    An ``"ok"`` outcome gives one row per structure of the model, in the model's order, with its area
    at the original size and validated threshold (``area_mm2`` blank without a pixel spacing) and, for
    chest X-ray models, the image's cardiothoracic ratio and lesion shares repeated on each row. A
    refused or failed input gives one row: ``status``, ``message``, and blank numbers.
    """
    common = {"file": outcome.name, "status": outcome.status, "message": outcome.message,
              "model": outcome.model_name, "model_version": outcome.model_version,
              "input_sha256": outcome.input_sha256}
    findings = {column: _number(outcome.findings.get(column), 4) for column in FINDING_COLUMNS}
    if outcome.status != "ok" or not outcome.measurements or outcome.segmentation is None:
        blank = dict.fromkeys(("structure", "area_px", "area_mm2", "share_of_image", "threshold"), "")
        return [{column: {**common, **blank, **findings}[column] for column in MEASUREMENT_COLUMNS}]
    thresholds = dict(zip(outcome.segmentation.structures, outcome.segmentation.thresholds))
    rows = []
    for measured in outcome.measurements:
        # A lesion row carries its caveat: the CSV travels without the page's warning.
        caveat = LESION_CAVEAT if measured.structure in LESIONS else ""
        row = {**common, **findings, "message": " ".join(filter(None, (common["message"], caveat))),
               "structure": measured.structure, "area_px": measured.area_px,
               "area_mm2": _number(measured.area_mm2, 2), "share_of_image": round(measured.share_of_image, 6),
               "threshold": _number(thresholds.get(measured.structure), 4)}
        rows.append({column: row[column] for column in MEASUREMENT_COLUMNS})
    return rows


def _codes(structure: str):
    """(category, property type, anatomic region or None) coded concepts for one structure."""
    from highdicom.sr import CodedConcept
    from pydicom.sr.codedict import codes

    anatomy, abnormal = codes.SCT.AnatomicalStructure, codes.SCT.MorphologicallyAbnormalStructure
    known = {
        "right_lung": (anatomy, CodedConcept("3341006", "SCT", "Right lung"), None),
        "left_lung": (anatomy, CodedConcept("44029006", "SCT", "Left lung"), None),
        # The cardiomediastinal silhouette: the mediastinum, heart included.
        "cardiomediastinum": (anatomy, codes.SCT.Mediastinum, None),
        "ground_glass_opacity": (abnormal, CodedConcept("112120", "DCM", "Ground glass opacity"), codes.SCT.Lung),
        "consolidation": (abnormal, CodedConcept("95436008", "SCT", "Lung consolidation"), codes.SCT.Lung),
        "polyp": (abnormal, CodedConcept("68496003", "SCT", "Polyp of colon"), codes.SCT.Colon),
        "vessels": (anatomy, codes.SCT.BloodVessel, codes.SCT.Retina),
    }
    if structure in known:
        return known[structure]
    # A structure without a standard code gets a local one (a "99" scheme is private by definition).
    return codes.SCT.Tissue, CodedConcept(structure[:16], "99MEDAI", structure.replace("_", " ")[:64]), None


def _source_header(source_dicom_bytes: bytes, deidentify: bool):
    """The source's header (no pixel data) with the attributes a SEG copies, filled where absent."""
    import highdicom as hd

    from medai.imaging.dicom import open_dataset
    from medai.store import deid

    dataset = open_dataset(source_dicom_bytes)  # bounded inflation, raw datasets: as the image was read
    if "PixelData" in dataset:
        del dataset.PixelData
    if int(dataset.get("NumberOfFrames", 1) or 1) > 1:
        raise MedAIError("A DICOM SEG is written only for single-frame images; this file holds several frames.")
    if deidentify:
        deid.deidentify(dataset)
    if "SOPInstanceUID" not in dataset or "SOPClassUID" not in dataset:
        raise MedAIError("The DICOM file has no SOP Instance UID, so a DICOM SEG cannot refer to it.")
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID"):  # type 1: a new UID where the source has none
        if keyword not in dataset:
            setattr(dataset, keyword, hd.UID())
    for keyword in ("PatientID", "PatientName", "PatientBirthDate", "PatientSex", "AccessionNumber", "StudyID",
                    "StudyDate", "StudyTime"):  # type 2: present, may be empty
        if keyword not in dataset:
            setattr(dataset, keyword, None)
    if "FrameOfReferenceUID" not in dataset and "SliceThickness" not in dataset:
        # A projection image (CR, DX) has no frame of reference. highdicom would copy its Pixel Spacing
        # into a Pixel Measures item without Slice Thickness, which highdicom itself then cannot read;
        # the SEG corresponds pixel for pixel with the image it refers to, which keeps the spacing.
        for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
            if keyword in dataset:
                delattr(dataset, keyword)
    return dataset


def dicom_seg(source_dicom_bytes: bytes, masks: dict[str, np.ndarray], *, model_name: str, model_version: str,
              deidentify: bool = False) -> bytes:
    """A binary DICOM Segmentation (highdicom) of ``masks``, referring to the source DICOM image.

    Parameters
    ----------
    source_dicom_bytes : bytes
        The DICOM file the masks were made from (single frame, as read for segmentation).
    masks : dict
        Structure name → (Rows, Columns) bool mask, in segment order (segment 1 first). Every
        structure gets a frame, an empty one included, so frame ``i`` is segment ``i + 1``.
    model_name, model_version : str
        The algorithm named in each segment description.
    deidentify : bool
        Refer to the de-identified image (the installation's salt, as ``MEDAI_KEEP_DEIDENTIFIED`` files
        are written) instead of the original. By default the SEG carries the source's patient, study
        and instance identifiers, so that a viewer attaches it to the image; it goes back to whoever
        supplied the image and is never stored here.

    Returns
    -------
    bytes
        A DICOM Part 10 file (Segmentation Storage, Explicit VR Little Endian).

    Raises
    ------
    MedAIError
        The source is not a readable DICOM image (a PNG or JPEG, say), holds several frames, has no
        SOP Instance UID, or the masks do not match its size.
    """
    import highdicom as hd
    from pydicom.sr.codedict import codes

    from medai.imaging.io import sniff_format

    if not masks:
        raise MedAIError("There are no masks to put in a DICOM SEG (the image was refused or not read).")
    try:
        is_dicom = sniff_format(source_dicom_bytes) == "dicom"
    except MedAIError:
        is_dicom = False
    if not is_dicom:
        raise MedAIError("A DICOM SEG can only be made for a DICOM input; this image is not DICOM.")
    source = _source_header(source_dicom_bytes, deidentify)
    shape = (int(source.Rows), int(source.Columns))
    stacked = np.stack([np.asarray(mask, dtype=bool) for mask in masks.values()], axis=-1)
    if stacked.shape[:2] != shape:
        raise MedAIError(f"The masks are {stacked.shape[1]}x{stacked.shape[0]} pixels but the DICOM image is "
                         f"{shape[1]}x{shape[0]}; a DICOM SEG needs masks at the image's own size.")
    algorithm = hd.AlgorithmIdentificationSequence(name=model_name, family=codes.DCM.ArtificialIntelligence,
                                                   version=model_version, source=SEG_MANUFACTURER)
    descriptions = []
    for number, structure in enumerate(masks, start=1):
        category, kind, region = _codes(structure)
        descriptions.append(hd.seg.SegmentDescription(
            segment_number=number, segment_label=structure[:64], segmented_property_category=category,
            segmented_property_type=kind, algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
            algorithm_identification=algorithm, anatomic_regions=[region] if region is not None else None))
    try:
        segmentation = hd.seg.Segmentation(
            source_images=[source], pixel_array=stacked[None].astype(np.uint8),
            segmentation_type=hd.seg.SegmentationTypeValues.BINARY, segment_descriptions=descriptions,
            series_instance_uid=hd.UID(), series_number=SEG_SERIES_NUMBER, sop_instance_uid=hd.UID(),
            instance_number=1, manufacturer=SEG_MANUFACTURER, manufacturer_model_name=model_name[:64],
            software_versions=model_version[:64], device_serial_number="n/a",
            content_description=SEG_DESCRIPTION, content_label="MEDAI_SEG", series_description=SEG_DESCRIPTION,
            omit_empty_frames=False)
    except (ValueError, TypeError, AttributeError) as exc:  # highdicom's checks of the source header
        # highdicom's message may quote a header value (a name, an ID): never pass it on.
        log.warning("DICOM SEG not built: %s", type(exc).__name__)
        raise MedAIError("A DICOM SEG cannot be made for this file: its header lacks what the standard "
                         "requires of a source image.") from exc
    buffer = io.BytesIO()
    segmentation.save_as(buffer)
    return buffer.getvalue()
