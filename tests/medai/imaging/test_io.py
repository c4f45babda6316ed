"""Reading PNG, JPEG and DICOM: normalisation, metadata, and refusal of bad input."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file

from medai.errors import InputError, InputTooLargeError, UnsupportedFormatError
from medai.imaging.io import read_image, sniff_format
from tests.conftest import jpeg_bytes, png_bytes

RAMP = np.tile(np.arange(256, dtype=np.uint8), (64, 1))


def dicom_bytes(name: str) -> bytes:
    """A DICOM file bundled with pydicom (no download)."""
    path = get_testdata_file(name, download=False)
    assert path is not None, f"pydicom no longer bundles {name}"
    with open(path, "rb") as handle:
        return handle.read()


def test_sniff_detects_by_content_not_name():
    assert sniff_format(png_bytes(RAMP)) == "png"
    assert sniff_format(jpeg_bytes(RAMP)) == "jpeg"
    assert sniff_format(dicom_bytes("CT_small.dcm")) == "dicom"
    with pytest.raises(UnsupportedFormatError):
        sniff_format(b"%PDF-1.7 not an image" * 10)


def test_8bit_png_maps_to_unit_range():
    image = read_image(png_bytes(RAMP))
    assert image.format == "png" and image.pixels.dtype == np.float32 and image.shape == (64, 256)
    assert image.pixels.min() == 0.0 and image.pixels.max() == 1.0
    assert image.colorfulness == 0.0
    assert len(image.sha256) == 64


def test_16bit_png_and_8bit_png_of_same_picture_agree():
    wide = (RAMP.astype(np.uint16) * 257)
    eight, sixteen = read_image(png_bytes(RAMP)), read_image(png_bytes(wide))
    assert np.allclose(eight.pixels, sixteen.pixels, atol=1e-3)


def test_grey_rgb_equals_grey_and_colour_is_measured():
    grey_rgb = np.repeat(RAMP[..., None], 3, axis=2)
    assert np.allclose(read_image(png_bytes(grey_rgb)).pixels, read_image(png_bytes(RAMP)).pixels, atol=1 / 255)
    colour = np.zeros((64, 64, 3), np.uint8)
    colour[:, :32, 0], colour[:, 32:, 2] = 255, 255
    assert read_image(png_bytes(colour)).colorfulness > 50


def test_coloured_marks_on_a_grey_film_leave_it_grey():
    # A figure from a paper: a grey film with red arrows drawn on it (about 2 % of the pixels).
    film = np.repeat(np.tile(np.linspace(0, 255, 256, dtype=np.uint8), (256, 1))[..., None], 3, axis=2)
    film[100:105, 40:160] = film[40:160, 200:205] = (255, 0, 0)
    assert read_image(png_bytes(film)).colorfulness < 2.0
    film[:, :96] = (200, 40, 40)  # a photograph-like share of colour is still measured
    assert read_image(png_bytes(film)).colorfulness > 12.0


def test_jpeg_reads():
    image = read_image(jpeg_bytes(RAMP))
    assert image.format == "jpeg" and abs(float(image.pixels.mean()) - 0.5) < 0.02


def test_dicom_keeps_spacing_and_technical_tags_only():
    image = read_image(dicom_bytes("CT_small.dcm"))
    assert image.format == "dicom" and image.shape == (128, 128)
    assert image.pixel_spacing_mm == pytest.approx((0.661468, 0.661468), rel=1e-4)
    assert image.metadata["Modality"] == "CT"
    assert "PatientName" not in image.metadata and "PatientID" not in image.metadata
    assert 0.0 <= image.pixels.min() and image.pixels.max() <= 1.0


def _dicom_with(photometric: str, window: tuple[float, float] | None = None) -> bytes:
    dataset = pydicom.dcmread(get_testdata_file("MR_small.dcm", download=False))
    dataset.PhotometricInterpretation = photometric
    for tag in ("WindowCenter", "WindowWidth"):
        if tag in dataset:
            delattr(dataset, tag)
    if window:
        dataset.WindowCenter, dataset.WindowWidth = window
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    return buffer.getvalue()


def test_monochrome1_is_inverted():
    plain = read_image(_dicom_with("MONOCHROME2")).pixels
    inverted = read_image(_dicom_with("MONOCHROME1")).pixels
    assert np.allclose(plain + inverted, 1.0, atol=1e-6)


def test_voi_window_is_applied():
    raw = pydicom.dcmread(get_testdata_file("MR_small.dcm", download=False)).pixel_array
    centre = float(np.median(raw))
    windowed = read_image(_dicom_with("MONOCHROME2", (centre, 50.0))).pixels
    # A narrow window saturates most pixels at black or white.
    assert np.mean((windowed < 0.01) | (windowed > 0.99)) > 0.5
    assert np.mean((read_image(_dicom_with("MONOCHROME2")).pixels < 0.01)) < 0.5


@pytest.mark.parametrize("name", ["SC_rgb_rle.dcm", "SC_rgb_rle_2frame.dcm", "SC_rgb_jpeg_dcmtk.dcm"])
def test_colour_and_multiframe_dicom_read_as_grey_with_colour_measured(name):
    image = read_image(dicom_bytes(name))
    assert image.shape == (100, 100) and image.colorfulness > 20


@pytest.mark.parametrize("data, error", [
    (b"", InputError),
    (b"\x00" * 1000, UnsupportedFormatError),
    (png_bytes(RAMP)[:60], InputError),
    (jpeg_bytes(RAMP)[:200], InputError),
    (np.random.default_rng(0).bytes(5000), UnsupportedFormatError),
])
def test_garbage_is_refused_with_a_readable_error(data, error):
    with pytest.raises(error) as caught:
        read_image(data)
    assert str(caught.value) and "Traceback" not in str(caught.value)


def test_truncated_dicom_is_an_input_error():
    with pytest.raises(InputError):
        read_image(dicom_bytes("MR_truncated.dcm"))


def test_byte_cap(monkeypatch):
    monkeypatch.setenv("MEDAI_MAX_UPLOAD_MB", "0.001")
    with pytest.raises(InputTooLargeError):
        read_image(png_bytes(np.random.default_rng(0).integers(0, 256, (200, 200), dtype=np.uint8)))


def test_decompression_bomb_is_refused_before_decoding():
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buffer, format="PNG")  # 81 Mpx in a few kB
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(InputTooLargeError):
        read_image(buffer.getvalue())


def test_dicom_pixel_cap(monkeypatch):
    monkeypatch.setenv("MEDAI_MAX_MEGAPIXELS", "0.01")
    with pytest.raises(InputTooLargeError):
        read_image(dicom_bytes("CT_small.dcm"))


def test_tiny_image_is_refused():
    with pytest.raises(InputError, match="too small"):
        read_image(png_bytes(np.zeros((8, 8), np.uint8)))


def test_sample_dicom_matches_its_jpeg(samples):
    dicom = read_image((samples / "cxr_pneumonia_person1950_bacteria_4881.dcm").read_bytes())
    jpeg = read_image((samples / "cxr_pneumonia_person1950_bacteria_4881.jpeg").read_bytes())
    assert dicom.metadata["PhotometricInterpretation"] == "MONOCHROME1"
    assert np.abs(dicom.pixels - jpeg.pixels).max() < 1e-3


@pytest.mark.parametrize("name", ["JPEG2000.dcm", "JPGExtended.dcm", "MR_small_jpeg_ls_lossless.dcm"])
def test_compressed_dicom_decodes(name):
    image = read_image(dicom_bytes(name))
    assert image.pixels.ndim == 2 and image.pixels.max() == pytest.approx(1.0)


def test_undecodable_compressed_dicom_is_an_input_error():
    with pytest.raises(InputError, match="cannot be decoded"):
        read_image(dicom_bytes("JPEG-lossy.dcm"))  # a damaged JPEG stream no decoder accepts


def test_colour_pixels_are_kept_only_when_asked():
    rgb = np.zeros((40, 50, 3), np.uint8)
    rgb[..., 0] = 200
    assert read_image(png_bytes(rgb)).rgb is None
    kept = read_image(png_bytes(rgb), keep_colour=True).rgb
    assert kept.shape == (40, 50, 3) and kept.dtype == np.uint8 and int(kept[0, 0, 0]) == 200
    assert read_image(png_bytes(RAMP), keep_colour=True).rgb is None  # grey stays grey


def test_jpeg_decodes_at_reduced_scale_only_when_asked_and_never_below_the_least_side():
    rng = np.random.default_rng(0)
    film = (rng.uniform(0, 255, (1000, 1300))).astype(np.uint8)
    data = jpeg_bytes(film)
    full, reduced = read_image(data), read_image(data, least_side=224)
    assert full.shape == (1000, 1300) and full.stored_shape is None and full.full_shape == (1000, 1300)
    assert reduced.shape == (250, 325) and reduced.full_shape == (1000, 1300)
    assert read_image(png_bytes(film[:300, :400]), least_side=64).shape == (300, 400)  # PNG: always full size
    from medai.imaging.io import audit_metadata
    assert audit_metadata(reduced, len(data))["height"] == 1000


def test_a_photo_is_read_upright_by_its_exif_orientation():
    picture = np.zeros((64, 128), np.uint8)
    picture[:, :64] = 255
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display", as a phone writes it
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="JPEG", exif=exif, quality=95)
    image = read_image(buffer.getvalue())
    assert image.shape == (128, 64) and image.full_shape == (128, 64)


def test_a_colour_image_is_greyed_by_luminance_not_one_channel():
    green = np.zeros((64, 64, 3), np.uint8)
    green[..., 1] = 200
    assert read_image(png_bytes(green)).pixels.mean() == pytest.approx(round(200 * 0.587) / 255, abs=2 / 255)


def test_a_thin_strip_is_too_small_to_read():
    with pytest.raises(InputError, match="too small"):
        read_image(png_bytes(np.zeros((20, 1000), np.uint8)))
