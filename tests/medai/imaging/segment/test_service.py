"""The segmentation path refuses a model that does not segment, before reading or recording anything."""

import io

import pydicom
import pytest

from medai.errors import MedAIError
from medai.imaging.segment.service import segment
from medai.store import AuditStore


@pytest.mark.parametrize("model", ["cxr-pneumonia", "drug-bbbp"])
def test_a_model_that_does_not_segment_is_refused_whole(model, samples):
    store = AuditStore()
    film = (samples / "cxr_normal_NORMAL2-IM-1427-0001.jpeg").read_bytes()
    with pytest.raises(MedAIError, match="cxr-lungs"):  # the message names the segmentation models
        segment([("film.jpeg", film)], model, store=store)
    assert store.recent_predictions() == []


def test_a_dicom_s_pixel_spacing_gives_the_areas_in_mm2(samples):
    dataset = pydicom.dcmread(samples / "cxr_pneumonia_person1950_bacteria_4881.dcm")
    dataset.PixelSpacing = [0.2, 0.3]  # mm between rows, between columns
    buffer = io.BytesIO()
    dataset.save_as(buffer)
    (outcome,) = segment([("film.dcm", buffer.getvalue())], "cxr-lungs")
    lung = outcome.measurements[0]
    assert outcome.status == "ok" and lung.area_px > 0 and lung.area_mm2 == pytest.approx(lung.area_px * 0.06)


def test_the_audit_label_names_only_the_structures_found(samples):
    store = AuditStore()
    (outcome,) = segment([("film.jpeg", (samples / "cxr_normal_NORMAL2-IM-1436-0001.jpeg").read_bytes())],
                         "cxr-lungs", store=store)
    found = [m.structure for m in outcome.measurements if m.area_px > 0]
    assert len(found) < len(outcome.measurements), "this film has a structure with no pixel (a lesion)"
    (record,) = store.recent_predictions()
    assert record.label == ", ".join(found) and record.output_summary["found"] == found
