"""DICOM decoding with pydicom: modality LUT, VOI LUT, MONOCHROME1 inversion, pixel spacing.

Only technical tags are kept; patient identifiers are never copied out of the dataset.
"""

from __future__ import annotations

import io

import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_modality_lut, apply_voi_lut

from medai.errors import InputError
from medai.imaging.io import check_pixel_count, colorfulness, rescale_to_unit

TECHNICAL_TAGS = ("Modality", "PhotometricInterpretation", "BitsStored", "ViewPosition", "BodyPartExamined")


def decode_dicom(data: bytes) -> tuple[np.ndarray, tuple[float, float] | None, dict[str, str], float]:
    """Decode a DICOM file to grey-scale pixels.

    Parameters
    ----------
    data : bytes
        A DICOM Part 10 file (with the 128-byte preamble and ``DICM``).

    Returns
    -------
    pixels : np.ndarray
        (H, W) float32 in [0, 1]; the first frame of a multi-frame file.
    spacing : tuple of float or None
        (row, column) pixel spacing in mm.
    metadata : dict
        Technical tags only (see ``TECHNICAL_TAGS``).
    colour : float
        Colourfulness of a colour image (0 for MONOCHROME).
    """
    try:
        dataset = pydicom.dcmread(io.BytesIO(data))
        rows, columns = int(dataset.Rows), int(dataset.Columns)
    except (InvalidDicomError, AttributeError, ValueError, TypeError, EOFError, OSError) as exc:
        raise InputError("The DICOM file is damaged or holds no image.") from exc
    frames = int(getattr(dataset, "NumberOfFrames", 1) or 1)
    check_pixel_count(columns, rows * frames)
    photometric = str(getattr(dataset, "PhotometricInterpretation", "MONOCHROME2"))
    try:
        raw = dataset.pixel_array
    except Exception as exc:  # pydicom raises many types for missing codecs and broken data
        raise InputError(
            "The DICOM image data cannot be decoded (damaged, or a compression this installation cannot read)."
        ) from exc
    if frames > 1:
        raw = raw[0]
    colour = 0.0
    if photometric.startswith("MONOCHROME"):
        values = apply_voi_lut(apply_modality_lut(raw, dataset), dataset)
        pixels = rescale_to_unit(np.asarray(values, dtype=np.float32))
        if photometric == "MONOCHROME1":
            pixels = 1.0 - pixels
    else:
        rgb = pydicom.pixels.convert_color_space(raw, photometric, "RGB") if photometric != "RGB" else raw
        rgb = np.asarray(rgb, dtype=np.float32)
        colour = colorfulness(rescale_to_unit(rgb) * 255.0)
        pixels = rescale_to_unit(rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32))
    spacing = _pixel_spacing(dataset)
    metadata = {tag: str(dataset.get(tag)) for tag in TECHNICAL_TAGS if tag in dataset}
    return pixels.astype(np.float32), spacing, metadata, colour


def _pixel_spacing(dataset: pydicom.Dataset) -> tuple[float, float] | None:
    for tag in ("PixelSpacing", "ImagerPixelSpacing"):
        value = dataset.get(tag)
        if value is not None and len(value) == 2:
            return float(value[0]), float(value[1])
    return None
