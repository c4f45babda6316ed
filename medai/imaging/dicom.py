"""DICOM decoding with pydicom: modality LUT, VOI LUT, MONOCHROME1 inversion, pixel spacing.

Two things happen before pydicom sees a whole file, because it would otherwise trust the file:

* a *Deflated Explicit VR Little Endian* dataset is inflated here, in bounded steps, and refused
  once it grows past what an image within the pixel cap can need (pydicom inflates all of it in
  one call, so a 2 MB upload could take gigabytes of memory);
* a raw dataset (no 128-byte preamble and ``DICM``, as some PACS exports write) is accepted only
  when its first element looks like DICOM, and only then read with ``force=True``.

Every dataset is de-identified (:func:`medai.store.deid.deidentify`, PS3.15 Annex E basic profile)
as soon as it is parsed, before any tag is read; then only technical tags are kept. With
``MEDAI_KEEP_DEIDENTIFIED=1`` the de-identified file (never the original) is kept.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import zlib

import numpy as np
import pydicom
from pydicom.errors import BytesLengthException, InvalidDicomError
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_file_meta_info
from pydicom.pixels import apply_modality_lut, apply_voi_lut
from pydicom.uid import (DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian, ExplicitVRLittleEndian,
                         ImplicitVRLittleEndian)
from pydicom.valuerep import VR

from medai import config
from medai.errors import InputError, InputTooLargeError
from medai.imaging.io import check_pixel_count, colorfulness, rescale_to_unit
from medai.store import deid

TECHNICAL_TAGS = ("Modality", "PhotometricInterpretation", "BitsStored", "ViewPosition", "BodyPartExamined")
PREAMBLE_BYTES, PREFIX = 128, b"DICM"
# A dataset's elements are sorted by tag: a raw export starts with its file meta (0002) or, without
# one, with the SOP common module (0008).
RAW_FIRST_GROUPS = (0x0002, 0x0008)
EXPLICIT_VRS = frozenset(vr.value.encode("ascii") for vr in VR if len(vr.value) == 2)
# Inflated size allowed beyond the pixels themselves: tags, overlays, icon images, private data.
HEADER_MARGIN_BYTES = 8 * 1024 * 1024
INFLATE_STEP_BYTES = 4 * 1024 * 1024
COMPRESSED_STEP_BYTES = 64 * 1024
COLOUR_SAMPLE_SIDE = 512  # colourfulness is a summary statistic: a subsample measures it well
LUMA_WEIGHTS = (0.299, 0.587, 0.114)  # ITU-R BT.601, as PIL's convert("L")
DAMAGED = "The DICOM file is damaged or holds no image."
DAMAGED_VALUES = (AttributeError, ValueError, TypeError, NotImplementedError, KeyError, IndexError,
                  BytesLengthException)


def no_image(dataset: pydicom.Dataset) -> str:
    """Why a DICOM that reads well has nothing to show, naming what it is (a structured report, an RT plan)."""
    try:
        uid = pydicom.uid.UID(str(dataset.SOPClassUID))
        kind = uid.name.removesuffix(" Storage") if uid.name != uid else ""  # an unknown class is only digits
    except (AttributeError, ValueError):
        kind = ""
    # A code string (CS): at most 16 capitals, digits, spaces or underscores; anything else is not a modality.
    modality = str(getattr(dataset, "Modality", "") or "")
    modality = modality if re.fullmatch(r"[A-Z0-9 _]{1,16}", modality) else ""
    what = ", ".join(filter(None, [kind, modality and f"Modality {modality}"]))
    return f"This DICOM file holds no image{f' ({what})' if what else ''}: upload one that holds the picture itself."


log = logging.getLogger(__name__)
# pydicom's messages about invalid values quote the value, which may be a name or an ID: never emit them.
pydicom.config.settings.reading_validation_mode = pydicom.config.IGNORE


def decode_dicom(data: bytes) -> tuple[np.ndarray, tuple[float, float] | None, dict[str, str], float]:
    """Decode a DICOM file to grey-scale pixels.

    Parameters
    ----------
    data : bytes
        A DICOM Part 10 file (with the 128-byte preamble and ``DICM``) or a raw dataset.

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

    Raises
    ------
    InputError
        Damaged, holding no image, palette-colour, or undecodable pixel data.
    InputTooLargeError
        Too many pixels declared, or a deflated dataset that expands past the cap.
    """
    dataset = open_dataset(data)
    try:
        return _decode(dataset)
    except DAMAGED_VALUES as exc:  # a tag whose bytes pydicom cannot make a value of, met as it is read
        raise InputError(DAMAGED) from exc


def _decode(dataset: pydicom.Dataset) -> tuple[np.ndarray, tuple[float, float] | None, dict[str, str], float]:
    deidentify(dataset)
    if "PixelData" not in dataset and "FloatPixelData" not in dataset and "DoubleFloatPixelData" not in dataset:
        raise InputError(no_image(dataset))
    rows, columns = int(dataset.Rows), int(dataset.Columns)
    frames = int(getattr(dataset, "NumberOfFrames", 1) or 1)
    check_pixel_count(columns, rows * frames)
    photometric = str(getattr(dataset, "PhotometricInterpretation", "MONOCHROME2"))
    if photometric == "PALETTE COLOR":
        # Radiographs (the CR and DX image types) are greyscale by definition; a palette image is a
        # pseudo-colour picture (ultrasound Doppler, nuclear medicine, a screen capture).
        raise InputError(
            "This DICOM file holds a palette-colour (pseudo-colour) image, such as ultrasound or nuclear "
            "medicine produce; chest X-rays are stored in greyscale, so it cannot be diagnosed.")
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
        pixels, colour = _colour_to_grey(raw, photometric)
    spacing = _pixel_spacing(dataset)
    metadata = {tag: str(dataset.get(tag)) for tag in TECHNICAL_TAGS if tag in dataset}
    return pixels.astype(np.float32), spacing, metadata, colour


def deidentify(dataset: pydicom.Dataset) -> None:
    """De-identify in place before anything reads a tag; keep the result when configured to."""
    deid.deidentify(dataset)
    if deid.keep_enabled():
        try:
            deid.keep(dataset)
        except (OSError, ValueError, AttributeError, TypeError) as exc:  # keeping is optional; the read goes on
            log.warning("the de-identified DICOM could not be kept (%s)", type(exc).__name__)


def _colour_to_grey(raw: np.ndarray, photometric: str) -> tuple[np.ndarray, float]:
    """Grey pixels in [0, 1] and the colourfulness of a colour image.

    Works channel by channel and measures colour on a subsample: a 40-megapixel RGB image as one
    float array would take 480 MB per copy, and the naive arithmetic makes four of them.
    """
    try:
        rgb = raw if photometric == "RGB" else pydicom.pixels.convert_color_space(raw, photometric, "RGB")
    except (NotImplementedError, ValueError) as exc:
        raise InputError("The DICOM image uses a colour encoding this installation cannot read.") from exc
    step = max(1, -(-max(rgb.shape[:2]) // COLOUR_SAMPLE_SIDE))
    colour = colorfulness(rescale_to_unit(rgb[::step, ::step]) * 255.0)
    grey = np.zeros(rgb.shape[:2], dtype=np.float32)
    for channel, weight in enumerate(LUMA_WEIGHTS):
        grey += rgb[..., channel].astype(np.float32) * np.float32(weight)
    return rescale_to_unit(grey), colour


def has_part10_header(data: bytes) -> bool:
    """Whether the bytes start with the 128-byte preamble and the ``DICM`` prefix."""
    return data[PREAMBLE_BYTES:PREAMBLE_BYTES + len(PREFIX)] == PREFIX


def looks_like_raw_dataset(data: bytes) -> bool:
    """Whether headerless bytes begin with a plausible DICOM element (little endian).

    The first tag must be in group 0002 or 0008 and be followed either by a valid explicit VR, or
    (implicit VR, group 0008 only: file meta is always explicit) by a value length that fits in
    the file. Random bytes pass with a chance of about 1 in 30,000.
    """
    if len(data) < 8:
        return False
    group, _ = struct.unpack_from("<HH", data)
    if group not in RAW_FIRST_GROUPS:
        return False
    if data[4:6] in EXPLICIT_VRS:
        return True
    (length,) = struct.unpack_from("<I", data, 4)
    return group == 0x0008 and length % 2 == 0 and length <= len(data) - 8


def open_dataset(data: bytes) -> pydicom.FileDataset:
    """Parse a DICOM file or raw dataset, inflating a deflated one within the size cap.

    Raises
    ------
    InputError
        The bytes are not a readable DICOM dataset.
    InputTooLargeError
        A deflated dataset expands past :func:`inflated_size_limit`.
    """
    part10 = has_part10_header(data)
    try:
        meta, dataset_start = _file_meta(data, PREAMBLE_BYTES + len(PREFIX) if part10 else 0)
        if meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian:
            source = _inflated_as_explicit_little_endian(meta, memoryview(data)[dataset_start:])
            part10 = True
        else:
            source = io.BytesIO(data)
        # force=True only for a headerless file, and only after looks_like_raw_dataset accepted it.
        # Nothing is deferred, so closing the source frees an inflated copy before pixels are decoded.
        with source:
            dataset = pydicom.dcmread(source, force=not part10)
    except InputError:
        raise
    except (InvalidDicomError, BytesLengthException, AttributeError, ValueError, TypeError, EOFError, OSError,
            KeyError, NotImplementedError, struct.error) as exc:
        raise InputError(DAMAGED) from exc
    if "TransferSyntaxUID" not in dataset.file_meta:
        # A raw dataset without file meta: pixel decoding needs the encoding pydicom detected.
        dataset.file_meta.TransferSyntaxUID = _encoding_uid(dataset)
    return dataset


def inflated_size_limit() -> int:
    """Most bytes a deflated dataset may expand to: the pixel cap at 3 samples of 2 bytes, plus tags."""
    return config.max_pixels() * 2 * 3 + HEADER_MARGIN_BYTES


def _file_meta(data: bytes, start: int) -> tuple[pydicom.Dataset, int]:
    """The group 0002 elements from ``start`` (always explicit VR little endian) and where they end."""
    buffer = io.BytesIO(data)
    buffer.seek(start)
    meta = read_dataset(buffer, is_implicit_VR=False, is_little_endian=True,
                        stop_when=lambda tag, vr, length: tag.group != 0x0002)
    return meta, buffer.tell()


def _inflated_as_explicit_little_endian(meta: pydicom.Dataset, compressed: memoryview) -> io.BytesIO:
    """A Part 10 file holding the inflated dataset, its file meta saying Explicit VR Little Endian.

    Inflates in steps of at most ``INFLATE_STEP_BYTES`` and stops as soon as the total passes
    :func:`inflated_size_limit`, so a bomb costs at most the limit in memory, never its full size.
    """
    limit = inflated_size_limit()
    output = io.BytesIO()
    output.write(b"\0" * PREAMBLE_BYTES + PREFIX)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    write_file_meta_info(output, pydicom.dataset.FileMetaDataset(meta), enforce_standard=False)
    header_bytes = output.tell()
    inflater = zlib.decompressobj(wbits=-zlib.MAX_WBITS)  # raw deflate, no zlib header (PS3.5 A.5)

    def take(piece: bytes | memoryview) -> bytes:
        chunk = inflater.decompress(piece, INFLATE_STEP_BYTES)
        output.write(chunk)
        if output.tell() - header_bytes > limit:
            raise InputTooLargeError(
                f"This compressed DICOM file expands to more than {limit / 1e6:.0f} MB, more than any "
                f"image within the {config.max_pixels() / 1e6:.0f}-megapixel limit needs; it was not read.")
        return chunk

    try:
        # Feed the input in small slices: unconsumed_tail is a copy, so it must stay small.
        for offset in range(0, len(compressed), COMPRESSED_STEP_BYTES):
            pending: bytes | memoryview = compressed[offset:offset + COMPRESSED_STEP_BYTES]
            while pending and not inflater.eof:
                take(pending)
                pending = inflater.unconsumed_tail
            if inflater.eof:
                break
        while not inflater.eof:  # output zlib still holds after the last input byte
            if not take(b""):
                raise InputError(DAMAGED)  # the compressed stream ends early
    except zlib.error as exc:
        raise InputError(DAMAGED) from exc
    output.seek(0)
    return output


def _encoding_uid(dataset: pydicom.Dataset) -> str:
    implicit, little_endian = dataset.original_encoding
    if implicit:
        return ImplicitVRLittleEndian
    return ExplicitVRLittleEndian if little_endian else ExplicitVRBigEndian


def _pixel_spacing(dataset: pydicom.Dataset) -> tuple[float, float] | None:
    for tag in ("PixelSpacing", "ImagerPixelSpacing"):
        value = dataset.get(tag)
        try:
            if value is not None and len(value) == 2:
                return float(value[0]), float(value[1])
        except (TypeError, ValueError):  # a damaged spacing is no reason to refuse the image
            continue
    return None
