"""DICOM edge cases: deflate bombs, raw datasets without the Part 10 header, palette colour."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.tag import Tag
from pydicom.uid import DeflatedExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from medai.errors import InputError, InputTooLargeError, UnsupportedFormatError
from medai.imaging.io import read_image, sniff_format
from tests.conftest import REPO

MIB = 1024 * 1024


def _testdata(name: str) -> bytes:
    path = get_testdata_file(name, download=False)
    assert path is not None, f"pydicom no longer bundles {name}"
    with open(path, "rb") as handle:
        return handle.read()


def _image_dataset(rows: int, columns: int) -> Dataset:
    dataset = Dataset()
    dataset.SOPClassUID = SecondaryCaptureImageStorage
    dataset.Modality = "DX"
    dataset.Rows, dataset.Columns = rows, columns
    dataset.SamplesPerPixel, dataset.PhotometricInterpretation = 1, "MONOCHROME2"
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit, dataset.PixelRepresentation = 16, 12, 11, 0
    return dataset


def _file_meta(transfer_syntax: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = transfer_syntax
    return meta


def _deflated(dataset: Dataset, tile: bytes, repeats: int) -> bytes:
    """A deflated DICOM of ``dataset`` whose PixelData is ``tile`` repeated, built without holding it.

    The tile is compressed once and its (byte-aligned, full-flushed) deflate block repeated, so a
    2 GiB dataset is written in milliseconds and weighs about 2 MB.
    """
    header = io.BytesIO()
    header.write(b"\0" * 128 + b"DICM")
    write_file_meta_info(header, _file_meta(DeflatedExplicitVRLittleEndian))
    body = DicomBytesIO()
    body.is_little_endian, body.is_implicit_VR = True, False
    write_dataset(body, dataset)
    pixel_header = struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, len(tile) * repeats)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    parts = [compressor.compress(body.getvalue() + pixel_header), compressor.flush(zlib.Z_FULL_FLUSH)]
    first = compressor.compress(tile) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(tile) + compressor.flush(zlib.Z_FULL_FLUSH)
    parts += [first] + [repeated] * (repeats - 2) + [compressor.compress(tile) + compressor.flush()]
    return header.getvalue() + b"".join(parts)


def deflate_bomb(pixel_mib: int, rows: int = 512, columns: int = 512) -> bytes:
    """A small image declared, ``pixel_mib`` MiB of zeros behind it."""
    return _deflated(_image_dataset(rows, columns), bytes(MIB), pixel_mib)


def large_deflated_colour_image() -> bytes:
    """A legitimate 37.7-megapixel 8-bit RGB image (within the 40-megapixel cap) in about 120 kB."""
    dataset = _image_dataset(6144, 6144)
    dataset.SamplesPerPixel, dataset.PhotometricInterpretation, dataset.PlanarConfiguration = 3, "RGB", 0
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 8, 8, 7
    return _deflated(dataset, bytes([200, 30, 30]) * MIB, 36)


def deflated_image(pixels: np.ndarray) -> bytes:
    """A legitimate small deflated DICOM holding ``pixels`` (uint16)."""
    dataset = _image_dataset(*pixels.shape)
    dataset.file_meta = _file_meta(DeflatedExplicitVRLittleEndian)
    dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPInstanceUID
    dataset.PixelData = pixels.astype("<u2").tobytes()
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_the_bomb_helper_really_inflates_to_its_declared_size():
    data = deflate_bomb(4)
    assert len(data) < 20_000
    dataset = pydicom.dcmread(io.BytesIO(data))  # pydicom inflates it all: fine at 4 MiB
    assert len(dataset.PixelData) == 4 * MIB


# Peak memory from /proc: ru_maxrss is inherited across exec, so a child of a pytest process that
# already loaded TensorFlow would start at the parent's peak. Writing "5" to clear_refs resets VmHWM.
MEASURE_CHILD = """
import json, sys, time
from medai.errors import InputTooLargeError
from medai.imaging.io import read_image

def high_water_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

data = open(sys.argv[1], "rb").read()
with open("/proc/self/clear_refs", "w") as reset:
    reset.write("5")
before = high_water_mb()
start = time.perf_counter()
try:
    read_image(data)
    outcome = "read"
except InputTooLargeError as exc:
    outcome = str(exc)
seconds = time.perf_counter() - start
print(json.dumps({"outcome": outcome, "seconds": seconds, "baseline_mb": before, "peak_mb": high_water_mb()}))
"""


def _measure_read(data: bytes, tmp_path) -> dict:
    """Read ``data`` in a fresh Python (default caps) and return its outcome, seconds and peak RSS."""
    path = tmp_path / "input.dcm"
    path.write_bytes(data)
    env = {key: value for key, value in os.environ.items() if not key.startswith("MEDAI_MAX_")}
    done = subprocess.run([sys.executable, "-c", MEASURE_CHILD, str(path)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{len(data) / 1e6:.2f} MB input: {measured}")  # shown with pytest -s; quoted in the README
    return measured


def test_deflate_bomb_is_refused_fast_within_bounded_memory(tmp_path):
    """2 GiB of zeros in a 2 MB file: pydicom alone allocates over 4 GB for it (issue 5)."""
    bomb = deflate_bomb(2048)
    assert len(bomb) < 4 * MIB
    measured = _measure_read(bomb, tmp_path)
    assert "expands to more than" in measured["outcome"] and "megapixel" in measured["outcome"]
    assert measured["peak_mb"] < 600, measured
    assert measured["seconds"] < 15, measured


def test_largest_allowed_colour_image_stays_under_a_gigabyte(tmp_path):
    """Within the caps, but decoded naively (four full-size float copies) it peaked at 2.2 GB."""
    measured = _measure_read(large_deflated_colour_image(), tmp_path)
    assert measured["outcome"] == "read"
    assert measured["peak_mb"] < 1000, measured


def test_deflate_cap_follows_the_pixel_cap(monkeypatch):
    monkeypatch.setenv("MEDAI_MAX_MEGAPIXELS", "0.5")  # 3 MB of pixels + 8 MiB of header margin
    with pytest.raises(InputTooLargeError, match="expands to more than 11 MB"):
        read_image(deflate_bomb(16))


def test_small_deflated_dicoms_still_read():
    ramp = np.tile(np.arange(0, 4096, 64, dtype=np.uint16), (64, 1))
    image = read_image(deflated_image(ramp))
    assert image.shape == (64, 64) and image.metadata["Modality"] == "DX"
    assert np.allclose(image.pixels, ramp / ramp.max(), atol=1e-6)
    bundled = read_image(_testdata("image_dfl.dcm"))
    assert bundled.shape == (512, 512) and bundled.pixels.max() == pytest.approx(1.0)


def test_truncated_deflate_stream_is_an_input_error():
    data = deflated_image(np.random.default_rng(0).integers(0, 4096, (64, 64), dtype=np.uint16))
    with pytest.raises(InputError, match="damaged"):
        read_image(data[: len(data) - 500])


def _raw(name: str, *, implicit: bool, keep_meta: bool) -> bytes:
    """A pydicom test file re-written without the preamble and ``DICM`` (optionally without file meta)."""
    dataset = pydicom.dcmread(get_testdata_file(name, download=False))
    dataset.preamble = None
    buffer = io.BytesIO()
    if keep_meta:
        write_file_meta_info(buffer, dataset.file_meta)
    else:
        del dataset.file_meta
    pydicom.dcmwrite(buffer, dataset, enforce_file_format=False, implicit_vr=implicit, little_endian=True)
    return buffer.getvalue()


@pytest.mark.parametrize("implicit, keep_meta", [(True, False), (False, False), (False, True)])
def test_raw_dataset_without_preamble_reads_like_the_part10_file(implicit, keep_meta):
    raw = _raw("CT_small.dcm", implicit=implicit, keep_meta=keep_meta)
    assert raw[128:132] != b"DICM"
    assert sniff_format(raw) == "dicom"
    image, reference = read_image(raw), read_image(_testdata("CT_small.dcm"))
    assert image.shape == (128, 128) and image.metadata["Modality"] == "CT"
    assert np.array_equal(image.pixels, reference.pixels)


def test_headerless_bytes_that_do_not_look_like_dicom_stay_unsupported():
    for data in (b"\x08\x00\x05\x00" + b"\xff" * 100, b"\x10\x00\x10\x00PN" + b"\0" * 100, b"\x08\x00"):
        with pytest.raises(UnsupportedFormatError):
            read_image(data)


def test_raw_dataset_without_an_image_says_so():
    with pytest.raises(InputError, match="holds no image"):
        read_image(_testdata("rtstruct.dcm"))  # a real headerless, implicit-VR dataset


def test_palette_colour_dicom_gets_its_own_message():
    with pytest.raises(InputError, match="palette-colour") as caught:
        read_image(_testdata("examples_palette.dcm"))
    assert "could not be read" not in str(caught.value)


def _with_raw_value(name: str, tag: int, vr: str, value: bytes) -> bytes:
    """A bundled file with one element's bytes replaced as a damaged file would have them."""
    dataset = pydicom.dcmread(get_testdata_file(name, download=False))
    dataset[tag] = RawDataElement(Tag(tag), vr, len(value), value, 0, False, True)
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("name, tag, vr, value, message", [
    ("CT_small.dcm", 0x00280008, "IS", b"x1", "damaged"),                       # NumberOfFrames
    ("SC_rgb_rle.dcm", 0x00280004, "CS", b"HSV ", "colour encoding"),          # PhotometricInterpretation
])
def test_damaged_tags_are_input_errors_not_crashes(name, tag, vr, value, message):
    with pytest.raises(InputError, match=message):
        read_image(_with_raw_value(name, tag, vr, value))


def test_damaged_pixel_spacing_is_ignored():
    image = read_image(_with_raw_value("CT_small.dcm", 0x00280030, "DS", b"a\\b "))
    assert image.pixel_spacing_mm is None and image.shape == (128, 128)


@pytest.mark.parametrize(("name", "named"), [("reportsi.dcm", "(Basic Text SR, Modality SR)"),
                                             ("rtplan.dcm", "(RT Plan, Modality RTPLAN)"),
                                             ("waveform_ecg.dcm", "(12-lead ECG Waveform, Modality ECG)")])
def test_a_dicom_without_an_image_says_what_it_is(name, named):
    # A structured report, an RT plan or an ECG is a sound DICOM file: not "damaged", just no picture.
    with open(get_testdata_file(name), "rb") as handle:
        data = handle.read()
    with pytest.raises(InputError, match="holds no image") as raised:
        read_image(data)
    assert named in str(raised.value)


def test_a_modality_that_is_not_a_code_string_is_not_quoted():
    with open(get_testdata_file("reportsi.dcm"), "rb") as handle:
        dataset = pydicom.dcmread(handle)
    dataset.Modality = "SR [Verify account](https:evil.example)"
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    with pytest.raises(InputError, match="holds no image") as raised:
        read_image(buffer.getvalue())
    assert "evil" not in str(raised.value) and "(Basic Text SR)" in str(raised.value)


def _part10(dataset: Dataset) -> bytes:
    dataset.file_meta = _file_meta("1.2.840.10008.1.2.1")  # explicit VR little endian
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_every_frame_counts_against_the_pixel_cap(monkeypatch):
    """The reader decodes all frames, so a multi-frame file must not pass as one frame's worth of pixels."""
    monkeypatch.setenv("MEDAI_MAX_MEGAPIXELS", "0.01")  # 10,000 pixels: one 64 x 64 frame fits, ten do not
    single = _image_dataset(64, 64)
    single.PixelData = (np.arange(64 * 64, dtype=np.uint16) % 4096).tobytes()
    assert read_image(_part10(single)).shape == (64, 64)
    frames = _image_dataset(64, 64)
    frames.NumberOfFrames = 10
    frames.PixelData = (np.arange(10 * 64 * 64, dtype=np.uint16) % 4096).tobytes()
    with pytest.raises(InputTooLargeError):
        read_image(_part10(frames))


def test_a_header_whose_first_value_runs_past_the_end_is_not_taken_for_dicom():
    with pytest.raises(UnsupportedFormatError):
        sniff_format(struct.pack("<HHI", 0x0008, 0x0016, 0x7FFFFFF0) + bytes(200))


def test_pixel_spacing_keeps_row_spacing_first():
    dataset = _image_dataset(64, 64)
    dataset.PixelSpacing = [0.5, 0.2]  # between rows, between columns (mm)
    dataset.PixelData = (np.arange(64 * 64, dtype=np.uint16) % 4096).tobytes()
    assert read_image(_part10(dataset)).pixel_spacing_mm == (0.5, 0.2)


def test_an_element_with_an_unknown_value_representation_is_damage_not_a_crash():
    data = _testdata("CT_small.dcm")
    high_bit = b"\x28\x00\x02\x01US"  # (0028,0102) High Bit, explicit VR "US"
    assert data.count(high_bit) == 1
    with pytest.raises(InputError, match="damaged"):  # pydicom raised NotImplementedError while it was scrubbed
        read_image(data.replace(high_bit, b"\x28\x00\x02\x01UX"))


def test_a_dicom_of_an_unknown_class_without_an_image_is_not_named_by_its_uid():
    dataset = pydicom.dcmread(get_testdata_file("reportsi.dcm", download=False))
    dataset.SOPClassUID = "1.2.826.0.1.3680043.9.7777.42"  # a private class pydicom cannot name
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    with pytest.raises(InputError, match="holds no image") as raised:
        read_image(buffer.getvalue())
    assert "3680043" not in str(raised.value) and "2.25." not in str(raised.value)
