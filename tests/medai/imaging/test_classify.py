"""The shipped classifier on real images: shapes, calibration outputs, decisions, refusals, flags."""

import io

import numpy as np
import pytest
import skimage.data
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from medai import config, registry
from medai.imaging.io import read_image
from medai.imaging.notes import percent, percent_number
from tests.conftest import png_bytes

NORMAL = "cxr_normal_NORMAL2-IM-1427-0001.jpeg"
ADULT_CXR = (config.data_dir() / "imaging" / "segmentation" / "covid19_cxr_segmentations" / "images"
             / "covid-19-pneumonia-30-PA.jpg")  # a held-back patient, 55 years old


@pytest.fixture(scope="module")
def model():
    return registry.load("cxr-pneumonia")


def _read(samples, name):
    return read_image((samples / name).read_bytes())


def test_sample_xrays_are_classified_correctly(model, samples):
    names = {"cxr_normal_NORMAL2-IM-1427-0001.jpeg": "normal",
             "cxr_normal_NORMAL2-IM-1436-0001.jpeg": "normal",
             "cxr_pneumonia_person1946_bacteria_4874.jpeg": "pneumonia",
             "cxr_pneumonia_person1950_bacteria_4881.jpeg": "pneumonia"}
    diagnoses = model.predict([_read(samples, name) for name in names])
    assert [d.label for d in diagnoses] == list(names.values())
    for diagnosis in diagnoses:
        assert diagnosis.status == "ok"
        assert not diagnosis.out_of_population and "Outside" not in diagnosis.message
        assert diagnosis.probabilities.shape == (2,)
        assert diagnosis.probabilities.sum() == pytest.approx(1.0)
        assert 0.0 <= diagnosis.uncertainty <= 0.5
        low, high = min(diagnosis.member_probabilities), max(diagnosis.member_probabilities)
        assert len(diagnosis.member_probabilities) == 5 and 0.0 <= low <= high <= 1.0
        assert f"members {percent_number(low)}–{percent(high)}" in diagnosis.message
        assert diagnosis.heatmap is None


def test_decision_follows_the_threshold(model, samples):
    diagnosis = model.predict([_read(samples, "cxr_pneumonia_person1946_bacteria_4874.jpeg")])[0]
    assert (diagnosis.positive_probability >= diagnosis.threshold) == (diagnosis.label == "pneumonia")


def test_batch_and_single_agree(model, samples):
    image = _read(samples, "cxr_normal_NORMAL2-IM-1436-0001.jpeg")
    alone = model.predict([image])[0].positive_probability
    in_batch = model.predict([image, _read(samples, "cxr_pneumonia_person1950_bacteria_4881.jpeg")])[0]
    assert in_batch.positive_probability == pytest.approx(alone, abs=1e-5)


def test_explain_gives_a_normalised_heatmap(model, samples):
    diagnosis = model.predict([_read(samples, "cxr_pneumonia_person1950_bacteria_4881.jpeg")], explain=True)[0]
    assert diagnosis.heatmap.shape == (8, 8)
    assert diagnosis.heatmap.min() >= 0.0 and diagnosis.heatmap.max() == pytest.approx(1.0)


@pytest.mark.parametrize("pixels", [
    np.random.default_rng(0).integers(0, 256, (400, 400), dtype=np.uint8),  # noise
    np.full((400, 400), 120, np.uint8),  # blank
])
def test_non_xrays_are_refused(model, samples, pixels):
    refused = model.predict([read_image(png_bytes(pixels)), _read(samples, "fundus_retina_CHASE_Image_01L.jpg")])
    for diagnosis in refused:
        assert diagnosis.status == "refused" and diagnosis.probabilities is None and diagnosis.label is None
        assert diagnosis.message


def _grey(samples, name: str = NORMAL) -> Image.Image:
    return Image.open(samples / name).convert("L")


def _dicom(pixels: np.ndarray, modality: str) -> bytes:
    """An uncompressed MONOCHROME2 DICOM file of (H, W) uint8 ``pixels`` claiming ``modality``."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"  # CT Image Storage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dataset = Dataset()
    dataset.file_meta = meta
    dataset.SOPClassUID, dataset.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    dataset.Modality = modality
    dataset.Rows, dataset.Columns = pixels.shape
    dataset.SamplesPerPixel, dataset.PhotometricInterpretation = 1, "MONOCHROME2"
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit, dataset.PixelRepresentation = 8, 8, 7, 0
    dataset.PixelData = pixels.astype(np.uint8).tobytes()
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_ct_dicom_is_refused_naming_its_modality(model, samples):
    pixels = np.asarray(_grey(samples))
    ct, dx = model.predict([read_image(_dicom(pixels, "CT")), read_image(_dicom(pixels, "DX"))])
    assert ct.status == "refused" and ct.probabilities is None
    assert ct.message.startswith("This DICOM is a CT image (Modality CT)")
    assert dx.status == "ok"  # the same pixels as a radiograph are read


def test_32_pixel_image_is_refused_as_too_small(model, samples):
    small = np.asarray(_grey(samples).resize((32, 32), Image.BICUBIC))
    diagnosis = model.predict([read_image(png_bytes(small))])[0]
    assert diagnosis.status == "refused" and "too small" in diagnosis.message


def test_wide_chest_film_is_not_refused_for_its_shape(model, samples):
    film = _grey(samples)
    wide = np.asarray(film.resize((int(2.6 * film.height), film.height), Image.BICUBIC))  # 2.6:1, over the old 2.5
    diagnosis = model.predict([read_image(png_bytes(wide))])[0]
    assert diagnosis.status == "ok" and diagnosis.label == "normal"


@pytest.mark.parametrize("name", ["astronaut", "coffee", "camera", "coins"])
def test_photographs_are_refused(model, name):
    photograph = np.asarray(getattr(skimage.data, name)())
    for pixels in (photograph, np.asarray(Image.fromarray(photograph).convert("L"))):
        diagnosis = model.predict([read_image(png_bytes(pixels))])[0]
        assert diagnosis.status == "refused" and not diagnosis.out_of_population


@pytest.mark.skipif(not ADULT_CXR.exists(), reason="shared data (MEDAI_DATA_DIR) not available")
def test_adult_chest_xray_is_diagnosed_but_flagged(model):
    diagnosis = model.predict([read_image(ADULT_CXR.read_bytes())])[0]
    assert diagnosis.status == "ok" and diagnosis.probabilities is not None and diagnosis.label is not None
    assert diagnosis.out_of_population
    assert "Outside the validated population:" in diagnosis.message


def test_heat_maps_carry_their_raw_peak_for_a_shared_scale(samples):
    from medai.imaging.explain import fixed_scale
    from medai.imaging.io import read_image

    model = registry.load("cxr-pneumonia")
    image = read_image((samples / "cxr_pneumonia_person1946_bacteria_4874.jpeg").read_bytes())
    diagnosis = model.predict([image], explain=True)[0]
    assert diagnosis.heatmap.max() == 1.0 and diagnosis.heatmap_peak > 0
    shared = fixed_scale(diagnosis.heatmap, diagnosis.heatmap_peak)
    assert 0 <= shared.max() <= 1
    assert model.predict([image], explain=False)[0].heatmap_peak is None


def test_a_refused_film_in_a_batch_leaves_the_next_film_its_own_probability(samples, monkeypatch):
    model = registry.load("cxr-pneumonia")
    normal = read_image((samples / "cxr_normal_NORMAL2-IM-1436-0001.jpeg").read_bytes())
    pneumonia = read_image((samples / "cxr_pneumonia_person1946_bacteria_4874.jpeg").read_bytes())
    alone = model.predict([normal])[0].positive_probability
    assess = model.refusal.assess

    def first_refused(reduced, features):
        is_xray, unusual = assess(reduced, features)
        is_xray = np.array(is_xray, bool)
        is_xray[0] = False
        return is_xray, unusual

    monkeypatch.setattr(model.refusal, "assess", first_refused)
    refused, answered = model.predict([pneumonia, normal])
    assert refused.status == "refused" and answered.positive_probability == pytest.approx(alone, abs=1e-5)
