"""Exports: mask PNGs at the exact size, measurement CSV rows, and a DICOM SEG that reads back."""

from __future__ import annotations

import io

import highdicom as hd
import numpy as np
import pydicom
import pytest
from PIL import Image

from medai.errors import MedAIError
from medai.imaging.io import MedicalImage
from medai.imaging.segment.export import (FINDING_COLUMNS, MEASUREMENT_COLUMNS, dicom_seg, mask_png,
                                          measurement_rows, outcome_masks)
from medai.imaging.segment.measure import LESIONS
from medai.imaging.segment.model import Segmentation
from medai.imaging.segment.service import SegmentOutcome, for_display, measure

DICOM_SAMPLE = "cxr_pneumonia_person1950_bacteria_4881.dcm"
CHEST = ("right_lung", "left_lung", "cardiomediastinum", "ground_glass_opacity", "consolidation")


def test_mask_png_is_8_bit_grey_0_or_255_at_the_masks_exact_size():
    mask = np.random.default_rng(0).random((37, 53)) > 0.5
    image = Image.open(io.BytesIO(mask_png(mask)))
    assert image.format == "PNG" and image.mode == "L"
    assert image.size == (53, 37)  # (width, height)
    pixels = np.asarray(image)
    assert set(np.unique(pixels)) == {0, 255}
    np.testing.assert_array_equal(pixels == 255, mask)


def test_mask_png_takes_any_non_zero_as_inside_and_refuses_non_2d():
    pixels = np.asarray(Image.open(io.BytesIO(mask_png(np.array([[0, 1], [7, 0]], np.uint8)))))
    np.testing.assert_array_equal(pixels, [[0, 255], [255, 0]])
    assert set(np.unique(np.asarray(Image.open(io.BytesIO(mask_png(np.zeros((5, 6), bool))))))) == {0}
    with pytest.raises(ValueError):
        mask_png(np.zeros((4, 4, 3), bool))


def _chest_outcome(shape=(120, 200), spacing=(0.5, 0.25)) -> SegmentOutcome:
    """An 'ok' cxr-lungs outcome whose probabilities draw two lungs, a heart and a lesion in the right lung."""
    probabilities = np.zeros((*shape, len(CHEST)), np.float32)
    probabilities[20:100, 20:80, 0] = 0.9      # right lung: 80 x 60
    probabilities[20:100, 120:180, 1] = 0.9    # left lung: 80 x 60
    probabilities[30:110, 85:115, 2] = 0.9     # cardiomediastinum, 30 wide
    probabilities[20:60, 20:80, 3] = 0.6       # ground glass: upper half of the right lung
    segmentation = Segmentation("ok", "Segmented.", CHEST, (0.5, 0.5, 0.5, 0.5, 0.7), probabilities)
    image = MedicalImage(np.zeros(shape, np.float32), "dicom", "ab" * 32, pixel_spacing_mm=spacing)
    measurements, findings = measure(segmentation, shape, spacing)
    return SegmentOutcome("scan.dcm", "ok", "Segmented.", "cxr-lungs", "1.0.0", image, segmentation,
                          measurements, findings, input_sha256=image.sha256)


def test_measurement_rows_one_per_structure_with_areas_thresholds_and_chest_findings():
    rows = measurement_rows(_chest_outcome())
    assert [row["structure"] for row in rows] == list(CHEST)
    assert all(list(row) == list(MEASUREMENT_COLUMNS) for row in rows)
    by_name = {row["structure"]: row for row in rows}
    assert by_name["right_lung"]["area_px"] == 4800
    assert by_name["right_lung"]["area_mm2"] == pytest.approx(4800 * 0.5 * 0.25)
    assert by_name["right_lung"]["share_of_image"] == pytest.approx(4800 / 24_000)
    assert by_name["ground_glass_opacity"]["area_px"] == 2400
    assert by_name["consolidation"]["area_px"] == 0 and by_name["consolidation"]["threshold"] == 0.7
    for row in rows:  # image-level findings repeated on every structure's row
        assert row["cardiothoracic_ratio"] == pytest.approx(30 / 160, abs=1e-4)
        assert row["right_lung_lesion_share"] == pytest.approx(0.5)
        assert row["left_lung_lesion_share"] == 0.0
        assert (row["file"], row["status"], row["model"], row["input_sha256"]) == ("scan.dcm", "ok", "cxr-lungs", "ab" * 32)
        # A lesion's row carries the caveat the page shows beside it; an organ's does not.
        assert ("adult COVID-19 films only" in row["message"]) == (row["structure"] in LESIONS)


def test_measurement_rows_of_a_failed_or_refused_input_is_one_row_with_blank_numbers():
    failed = SegmentOutcome("notes.png", "error", "This file is not a PNG, JPEG or DICOM image.", "cxr-lungs", "1.0.0",
                            input_sha256="ef" * 32)
    refused = SegmentOutcome("eye.jpg", "refused", "This is a colour photograph.", "cxr-lungs", "1.0.0",
                             MedicalImage(np.zeros((64, 64), np.float32), "jpeg", "cd" * 32),
                             Segmentation("refused", "This is a colour photograph.", CHEST, (0.5,) * 5),
                             input_sha256="cd" * 32)
    for outcome in (failed, refused):
        (row,) = measurement_rows(outcome)
        assert list(row) == list(MEASUREMENT_COLUMNS)
        assert (row["status"], row["message"]) == (outcome.status, outcome.message)
        blank = ("structure", "area_px", "area_mm2", "share_of_image", "threshold", *FINDING_COLUMNS)
        assert all(row[column] == "" for column in blank)
    assert measurement_rows(failed)[0]["input_sha256"] == "ef" * 32  # a file that could not be read is traceable
    assert measurement_rows(refused)[0]["input_sha256"] == "cd" * 32


def test_measurement_rows_without_spacing_or_chest_structures_leave_those_columns_blank():
    probabilities = np.zeros((50, 40, 1), np.float32)
    probabilities[10:20, 10:30, 0] = 1.0
    segmentation = Segmentation("ok", "Segmented.", ("polyp",), (0.5,), probabilities)
    measurements, findings = measure(segmentation, (50, 40), None)
    outcome = SegmentOutcome("frame.jpg", "ok", "Segmented.", "colon-polyp", "1.0.0",
                             MedicalImage(np.zeros((50, 40), np.float32), "jpeg", "ef" * 32), segmentation,
                             measurements, findings)
    (row,) = measurement_rows(outcome)
    assert (row["structure"], row["area_px"], row["area_mm2"]) == ("polyp", 200, "")
    assert all(row[column] == "" for column in FINDING_COLUMNS)


def test_outcome_masks_are_at_the_original_size_even_after_a_display_copy():
    outcome = _chest_outcome(shape=(1000, 1600))
    small = for_display(outcome, max_side=400)
    assert small.image.shape == (250, 400)
    masks = outcome_masks(small)
    assert list(masks) == list(CHEST)
    assert all(mask.shape == (1000, 1600) and mask.dtype == bool for mask in masks.values())
    assert int(masks["right_lung"].sum()) == outcome.measurements[0].area_px
    assert outcome_masks(SegmentOutcome("x", "error", "bad", "cxr-lungs", "1.0.0")) == {}


@pytest.fixture(scope="module")
def dicom_bytes(samples) -> bytes:
    return (samples / DICOM_SAMPLE).read_bytes()


def _sample_masks(rows: int, columns: int) -> dict[str, np.ndarray]:
    masks = {name: np.zeros((rows, columns), bool) for name in CHEST}
    masks["right_lung"][100:600, 150:500] = True
    masks["left_lung"][100:600, 750:1100] = True
    masks["cardiomediastinum"][300:700, 500:800] = True  # lesions left empty: their frames must still be there
    return masks


def test_dicom_seg_of_the_sample_reads_back_with_every_segment_at_the_source_size(dicom_bytes):
    source = pydicom.dcmread(io.BytesIO(dicom_bytes))
    masks = _sample_masks(source.Rows, source.Columns)
    written = dicom_seg(dicom_bytes, masks, model_name="cxr-lungs", model_version="1.0.0")

    plain = pydicom.dcmread(io.BytesIO(written))
    assert plain.Modality == "SEG" and plain.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4"
    assert plain.SegmentationType == "BINARY"
    seg = hd.seg.segread(io.BytesIO(written))
    assert seg.number_of_segments == len(CHEST)
    assert int(seg.NumberOfFrames) == len(CHEST)
    assert (seg.Rows, seg.Columns) == (source.Rows, source.Columns) == (864, 1256)
    assert [seg.get_segment_description(n).SegmentLabel for n in range(1, 6)] == list(CHEST)
    algorithm = seg.get_segment_description(1).SegmentAlgorithmName
    assert algorithm == "cxr-lungs"
    referenced = plain.ReferencedSeriesSequence[0].ReferencedInstanceSequence[0]
    assert referenced.ReferencedSOPInstanceUID == source.SOPInstanceUID
    pixels = seg.get_pixels_by_source_instance([source.SOPInstanceUID], segment_numbers=[1, 2, 3, 4, 5])
    assert pixels.shape == (1, 864, 1256, 5)
    for index, name in enumerate(CHEST):
        np.testing.assert_array_equal(pixels[0, ..., index].astype(bool), masks[name])


def test_dicom_seg_can_refer_to_the_deidentified_image(dicom_bytes):
    source = pydicom.dcmread(io.BytesIO(dicom_bytes))
    written = dicom_seg(dicom_bytes, _sample_masks(source.Rows, source.Columns), model_name="cxr-lungs",
                        model_version="1.0.0", deidentify=True)
    referenced = pydicom.dcmread(io.BytesIO(written)).ReferencedSeriesSequence[0].ReferencedInstanceSequence[0]
    assert referenced.ReferencedSOPInstanceUID != source.SOPInstanceUID
    assert referenced.ReferencedSOPInstanceUID.startswith("2.25.")


def test_dicom_seg_refuses_non_dicom_inputs_wrong_sizes_and_no_masks(samples, dicom_bytes):
    masks = _sample_masks(864, 1256)
    jpeg = (samples / "cxr_pneumonia_person1950_bacteria_4881.jpeg").read_bytes()
    with pytest.raises(MedAIError, match="only be made for a DICOM input"):
        dicom_seg(jpeg, masks, model_name="cxr-lungs", model_version="1.0.0")
    with pytest.raises(MedAIError, match="only be made for a DICOM input"):
        dicom_seg(b"not an image", masks, model_name="cxr-lungs", model_version="1.0.0")
    with pytest.raises(MedAIError, match="image's own size"):
        dicom_seg(dicom_bytes, _sample_masks(432, 628), model_name="cxr-lungs", model_version="1.0.0")
    with pytest.raises(MedAIError, match="no masks"):
        dicom_seg(dicom_bytes, {}, model_name="cxr-lungs", model_version="1.0.0")


def test_dicom_seg_codes_each_lung_with_its_own_snomed_concept(dicom_bytes):
    source = pydicom.dcmread(io.BytesIO(dicom_bytes))
    masks = {name: np.zeros((source.Rows, source.Columns), bool) for name in ("right_lung", "left_lung")}
    masks["right_lung"][100:600, 150:500] = True
    masks["left_lung"][100:600, 750:1100] = True
    seg = hd.seg.segread(io.BytesIO(dicom_seg(dicom_bytes, masks, model_name="cxr-lungs", model_version="1.0.0")))
    codes = {seg.get_segment_description(n).SegmentLabel:
             seg.get_segment_description(n).SegmentedPropertyTypeCodeSequence[0].CodeValue for n in (1, 2)}
    assert codes == {"right_lung": "3341006", "left_lung": "44029006"}  # SNOMED CT: right lung, left lung
