"""Read PNG, JPEG and DICOM bytes into one normalised grey-scale image.

The type is decided by the bytes (magic numbers), never by the file name. Sizes are checked before
any pixel is decoded, so a decompression bomb is refused, not expanded. Nothing is written to disk.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps

from medai import config
from medai.errors import InputError, InputTooLargeError, MedAIError, UnsupportedFormatError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
MIN_SIDE_PX = 32
MARKS_SHARE = 0.05  # coloured marks on a grey film (arrows, labels) cover less of it than this


@dataclass(frozen=True)
class MedicalImage:
    """A decoded image, ready for any model.

    Attributes
    ----------
    pixels : np.ndarray
        (H, W) float32 in [0, 1]; 0 is black as displayed (MONOCHROME1 already inverted).
    format : str
        ``"png"``, ``"jpeg"`` or ``"dicom"``.
    sha256 : str
        Hex digest of the input bytes (the audit trail's input hash).
    colorfulness : float
        Hasler-Suesstrunk colourfulness of the original colours (0 for grey images); a chest X-ray
        is grey, so a high value is one reason to refuse.
    pixel_spacing_mm : tuple of float or None
        (row, column) spacing in millimetres, from DICOM ``PixelSpacing`` or ``ImagerPixelSpacing``.
    metadata : dict
        Non-identifying technical tags only (modality, photometric interpretation, bits stored, view).
    rgb : np.ndarray or None
        (H, W, 3) uint8 colour pixels, kept only when asked for (``read_image(..., keep_colour=True)``)
        and the source is a colour PNG or JPEG; models of colour photographs read these.
    stored_shape : tuple of int or None
        (height, width) as stored in the file, when ``pixels`` were decoded at a reduced scale
        (``read_image(..., least_side=...)``); None when ``pixels`` are at full size.
    """

    pixels: np.ndarray
    format: str
    sha256: str
    colorfulness: float = 0.0
    pixel_spacing_mm: tuple[float, float] | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    rgb: np.ndarray | None = field(default=None, repr=False)
    stored_shape: tuple[int, int] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of ``pixels``."""
        return self.pixels.shape  # type: ignore[return-value]

    @property
    def full_shape(self) -> tuple[int, int]:
        """(height, width) of the image as stored, whatever scale ``pixels`` were decoded at."""
        return self.stored_shape or self.shape


def sniff_format(data: bytes) -> str:
    """Return ``"png"``, ``"jpeg"`` or ``"dicom"`` from the leading bytes.

    A DICOM file is recognised by its ``DICM`` prefix at byte 128 or, for a raw dataset written
    without the preamble (as some PACS exports are), by a plausible first element.

    Raises
    ------
    UnsupportedFormatError
        If the bytes match none of the three.
    """
    if data.startswith(PNG_MAGIC):
        return "png"
    if data.startswith(JPEG_MAGIC):
        return "jpeg"
    from medai.imaging.dicom import has_part10_header, looks_like_raw_dataset

    if has_part10_header(data) or looks_like_raw_dataset(data):
        return "dicom"
    raise UnsupportedFormatError(
        "This file is not a PNG, JPEG or DICOM image. Export the image as one of those and try again."
    )


def read_or_error(data: bytes, keep_colour: bool = False, least_side: int | None = None
                  ) -> tuple[MedicalImage | None, str]:
    """:func:`read_image`, or (None, why) when the bytes cannot be read: a batch loses one row, never itself."""
    try:
        return read_image(data, keep_colour, least_side), ""
    except MedAIError as exc:
        return None, str(exc)
    except Exception as exc:  # a decoder bug must cost one row, never the batch
        logging.getLogger(__name__).warning("unexpected %s while reading an input", type(exc).__name__)
        return None, "The file could not be read as an image."


def read_image(data: bytes, keep_colour: bool = False, least_side: int | None = None) -> MedicalImage:
    """Decode image bytes, enforcing the byte and pixel caps.

    Parameters
    ----------
    data : bytes
        The whole file, as uploaded.
    keep_colour : bool
        Also keep the colour pixels of a colour PNG or JPEG in ``rgb`` (3 bytes per pixel more).
    least_side : int, optional
        A model that reads only this many pixels a side may have a JPEG decoded straight to 1/2,
        1/4 or 1/8 scale (Pillow's draft mode, several times faster), as long as both sides stay at
        least this long. Other formats are always decoded at full size.

    Returns
    -------
    MedicalImage
        Grey-scale pixels in [0, 1] plus provenance.

    Raises
    ------
    InputError
        Empty, corrupt, too small, too large or of an unsupported type.
    """
    if not data:
        raise InputError("The file is empty.")
    check_byte_count(len(data))
    kind = sniff_format(data)
    digest = hashlib.sha256(data).hexdigest()
    if kind == "dicom":
        from medai.imaging.dicom import decode_dicom

        pixels, spacing, metadata, colour = decode_dicom(data)
        image = MedicalImage(pixels, kind, digest, colour, spacing, metadata)
    else:
        pixels, colorfulness, rgb, stored = _decode_raster(data, keep_colour, least_side)
        image = MedicalImage(pixels, kind, digest, colorfulness, rgb=rgb,
                             stored_shape=None if stored == pixels.shape else stored)
    height, width = image.full_shape
    if min(height, width) < MIN_SIDE_PX:
        raise InputError(f"The image is only {width}x{height} pixels; too small to read.")
    return image


def file_digest(image: MedicalImage | None, data: bytes) -> str:
    """SHA-256 of an input's bytes: the image's own, else computed, so that a file that could not be
    read can still be traced in the audit trail."""
    return image.sha256 if image is not None else hashlib.sha256(data).hexdigest()


def audit_metadata(image: MedicalImage | None, size_bytes: int) -> dict[str, object]:
    """The technical facts an audit record keeps about an input: size, format, pixels, spacing, tags.

    ``image.metadata`` holds no identifying DICOM tag, so nothing here identifies a patient.
    """
    facts: dict[str, object] = {"bytes": size_bytes}
    if image is not None:
        facts.update({"format": image.format, "height": image.full_shape[0], "width": image.full_shape[1],
                      "pixel_spacing_mm": list(image.pixel_spacing_mm) if image.pixel_spacing_mm else None,
                      **image.metadata})
    return facts


def check_byte_count(size: int) -> None:
    """Refuse a file larger than the upload cap (checked before it is read, where possible)."""
    limit = config.max_upload_bytes()
    if size > limit:
        raise InputTooLargeError(f"The file is {size / 1e6:.1f} MB; the limit is {limit / 1e6:.0f} MB.")


def check_pixel_count(width: int, height: int) -> None:
    """Refuse an image whose declared size exceeds the pixel cap, before decoding it."""
    cap = config.max_pixels()
    if width * height > cap:
        raise InputTooLargeError(
            f"The image is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels); "
            f"the limit is {cap / 1e6:.0f} megapixels."
        )


def _decode_raster(data: bytes, keep_colour: bool = False, least_side: int | None = None
                   ) -> tuple[np.ndarray, float, np.ndarray | None, tuple[int, int]]:
    """Decode PNG/JPEG to (H, W) float32 in [0, 1], its colourfulness, (if kept) its RGB pixels, and
    the (height, width) stored in the file (oriented as displayed)."""
    try:
        with Image.open(io.BytesIO(data)) as opened:  # reads the header only
            check_pixel_count(*opened.size)
            stored = opened.size
            if least_side and opened.format == "JPEG":
                opened.draft(opened.mode, (least_side, least_side))
            opened.load()
            image = ImageOps.exif_transpose(opened)
            if image.size != opened.size:  # turned by its EXIF orientation
                stored = stored[::-1]
    except InputTooLargeError:
        raise
    except Image.DecompressionBombError as exc:  # Pillow's own cap, far above ours
        raise InputTooLargeError("The image declares more pixels than is safe to decode.") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise InputError("The image file is damaged or truncated and cannot be read.") from exc
    stored_shape = (stored[1], stored[0])
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return rescale_to_unit(np.asarray(image, dtype=np.float32)), 0.0, None, stored_shape
    if image.mode in ("L", "1", "LA"):
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0, 0.0, None, stored_shape
    rgb = image.convert("RGB")
    grey = np.asarray(rgb.convert("L"), dtype=np.float32) / 255.0
    kept = np.asarray(rgb, dtype=np.uint8) if keep_colour else None
    return grey, colorfulness(np.asarray(rgb.resize((64, 64), Image.BILINEAR))), kept, stored_shape


def rescale_to_unit(values: np.ndarray) -> np.ndarray:
    """Map an array of any range linearly onto [0, 1] (min to 0, max to 1); flat input maps to 0."""
    values = values.astype(np.float32)  # a copy, so the arithmetic below may work in place
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-12:
        return np.zeros_like(values, dtype=np.float32)
    values -= low
    values /= high - low
    return values


def colorfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003) colourfulness of an (H, W, 3) image in 0–255; 0 for grey.

    Measured over all but the most chromatic :data:`MARKS_SHARE` of the pixels, so arrows or labels
    drawn in colour on a grey film (as figures in papers have) leave it grey.
    """
    channels = rgb.reshape(-1, 3).astype(np.float32)
    chroma = channels.max(axis=1) - channels.min(axis=1)
    kept = max(1, int(round((1 - MARKS_SHARE) * len(channels))))
    channels = channels[np.argsort(chroma, kind="stable")[:kept]]
    red_green = channels[..., 0] - channels[..., 1]
    yellow_blue = 0.5 * (channels[..., 0] + channels[..., 1]) - channels[..., 2]
    spread = np.hypot(red_green.std(), yellow_blue.std())
    mean = np.hypot(red_green.mean(), yellow_blue.mean())
    return float(spread + 0.3 * mean)
