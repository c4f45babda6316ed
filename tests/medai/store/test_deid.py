"""De-identification: a DICOM with a known identifier in every Annex E basic-profile attribute the
test can set leaves none of them in the dataset, the audit database, the log records or the outputs."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import logging

import numpy as np
import pydicom
import pytest
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from medai.imaging import service
from medai.imaging.io import read_image
from medai.store import AuditStore, deid
from tests.medai.store.test_service_records import StubClassifier

KEY = b"test-salt"
TEXT_VRS = {"LO", "SH", "LT", "ST", "UT", "UC", "CS", "AE", "UR"}
CR_IMAGE = "1.2.840.10008.5.1.4.1.1.1"
BASE_DATE = dt.date(1961, 1, 1)


def _marker(index: int, vr: str):
    """A value for ``vr`` that names this attribute uniquely (``None`` when the VR cannot carry one)."""
    if vr == "PN":
        return f"PHI{index:04d}^PATIENT"
    if vr in TEXT_VRS:
        return f"PHI{index:04d}"
    if vr == "DA":
        return (BASE_DATE + dt.timedelta(days=index)).strftime("%Y%m%d")
    if vr == "DT":
        return (BASE_DATE + dt.timedelta(days=index)).strftime("%Y%m%d") + "101500"
    if vr == "UI":
        return f"1.2.826.0.1.3680043.9.7777.{index}"
    if vr in ("OB", "OW", "UN"):
        return f"PHI{index:04d}".encode()
    if vr == "SQ":
        item = Dataset()
        item.CodeMeaning = f"PHI{index:04d}"
        return [item]
    return None


def identified_dicom() -> tuple[bytes, list[str], int]:
    """A CR image with a marker in every settable basic-profile attribute: its bytes, the markers, and
    how many attributes were set."""
    dataset = Dataset()
    meta = FileMetaDataset()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.MediaStorageSOPClassUID = CR_IMAGE
    meta.MediaStorageSOPInstanceUID = "1.2.826.0.1.3680043.9.7777.99999"
    dataset.file_meta = meta
    markers, count = [meta.MediaStorageSOPInstanceUID], 0
    for index, tag in enumerate(sorted(deid.BASIC_PROFILE)):
        if tag >> 16 in (0x0000, 0x0002) or tag >> 16 >= 0xFFFA:
            continue
        vr = dictionary_VR(tag)
        value = _marker(index, vr)
        if value is None:
            continue
        dataset.add_new(tag, vr, value)
        count += 1
        text = value if isinstance(value, str) else (value.decode() if isinstance(value, bytes) else f"PHI{index:04d}")
        markers.append(text.split("^")[0])
    dataset.SOPClassUID = CR_IMAGE
    dataset.PatientID = "PHIPATIENTID"  # also the key of the date shift
    dataset.private_block(0x0011, "HOSPITAL PACS", create=True).add_new(0x01, "LO", "PHIPRIVATE")
    dataset.add_new(0x60004000, "LT", "PHIOVERLAY")
    dataset.Modality, dataset.Rows, dataset.Columns = "CR", 64, 64
    dataset.PhotometricInterpretation, dataset.SamplesPerPixel = "MONOCHROME2", 1
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit, dataset.PixelRepresentation = 16, 12, 11, 0
    dataset.PixelData = (np.arange(64 * 64, dtype=np.uint16) % 4096).tobytes()
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue(), markers + ["PHIPATIENTID", "PHIPRIVATE", "PHIOVERLAY"], count


def _leaks(text: str, markers: list[str]) -> list[str]:
    return [marker for marker in markers if marker in text]


def test_every_basic_profile_attribute_is_handled():
    data, markers, count = identified_dicom()
    assert count > 500  # nearly all of the 606 rows carry a settable value
    dataset = pydicom.dcmread(io.BytesIO(data))
    original_study = dataset.StudyInstanceUID
    report = deid.deidentify(dataset, KEY)
    assert report.private_removed == 2 and report.removed > 300 and report.uids_replaced > 40
    leaked = _leaks(repr(dataset) + repr(dataset.file_meta), markers)
    assert leaked == []
    assert dataset.PatientIdentityRemoved == "YES" and dataset.PatientName == "" and dataset.PatientBirthDate == ""
    assert dataset.StudyInstanceUID == deid.replace_uid(original_study, KEY).strip()
    assert dataset.StudyInstanceUID.startswith("2.25.") and dataset.SOPClassUID == CR_IMAGE


def test_uids_are_replaced_consistently_and_dates_shifted_together():
    first = pydicom.dcmread(io.BytesIO(identified_dicom()[0]))
    second = pydicom.dcmread(io.BytesIO(identified_dicom()[0]))
    study, content = dt.datetime.strptime(first.StudyDate, "%Y%m%d"), dt.datetime.strptime(first.ContentDate, "%Y%m%d")
    deid.deidentify(first, KEY)
    deid.deidentify(second, KEY)
    assert first.StudyInstanceUID == second.StudyInstanceUID and first.SeriesInstanceUID == second.SeriesInstanceUID
    shift = dt.datetime.strptime(first.StudyDate, "%Y%m%d") - study
    assert shift.days == deid.shift_days("PHIPATIENTID", KEY) < 0
    assert dt.datetime.strptime(first.ContentDate, "%Y%m%d") - content == shift  # intervals survive
    other = pydicom.dcmread(io.BytesIO(identified_dicom()[0]))
    deid.deidentify(other, b"another installation")
    assert other.StudyInstanceUID != first.StudyInstanceUID


def test_nothing_identifying_reaches_the_database_the_logs_or_the_outputs(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(service.registry, "load", lambda name: StubClassifier())
    kept = tmp_path / "kept"
    monkeypatch.setenv("MEDAI_DEID_SALT", KEY.decode())  # shifts dates past every marker date (checked below)
    assert deid.shift_days("PHIPATIENTID", KEY) < -len(deid.BASIC_PROFILE)
    monkeypatch.setenv("MEDAI_KEEP_DEIDENTIFIED", "1")
    monkeypatch.setenv("MEDAI_DEIDENTIFIED_DIR", str(kept))
    data, markers, _ = identified_dicom()
    database = tmp_path / "audit.sqlite"
    store = AuditStore(f"sqlite:///{database}")
    caplog.set_level(logging.DEBUG)
    (outcome,) = service.diagnose([("scan.dcm", data)], "cxr-pneumonia", user="dr.x", source="python", store=store)
    assert outcome.status == "ok" and outcome.image.format == "dicom"
    store.record_feedback(outcome.record_id, user="dr.x", verdict="agree")
    outputs = repr(outcome.row(("normal", "pneumonia"))) + repr(outcome.image.metadata) + outcome.message
    store.engine.dispose()  # checkpoint the WAL into the file
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("audit.sqlite*")).decode("latin-1")
    logged = caplog.text + " ".join(repr(record.args) for record in caplog.records)
    assert _leaks(stored, markers) == [] and _leaks(logged, markers) == [] and _leaks(outputs, markers) == []
    assert outcome.image.metadata == {"Modality": "CR", "PhotometricInterpretation": "MONOCHROME2", "BitsStored": "12"}
    (file,) = kept.glob("*.dcm")  # the de-identified copy, never the original
    copy = pydicom.dcmread(file)
    assert _leaks(repr(copy) + repr(copy.file_meta), markers) == [] and copy.PatientIdentityRemoved == "YES"
    assert file.read_bytes() != data and read_image(file.read_bytes()).shape == (64, 64)


def test_keeping_is_off_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("MEDAI_KEEP_DEIDENTIFIED", raising=False)
    monkeypatch.setenv("MEDAI_DEIDENTIFIED_DIR", str(tmp_path / "kept"))
    read_image(identified_dicom()[0])
    assert not (tmp_path / "kept").exists()


def test_the_salt_is_made_once_and_private(tmp_path, monkeypatch):
    monkeypatch.delenv("MEDAI_DEID_SALT", raising=False)
    monkeypatch.setenv("MEDAI_DEID_SALT_FILE", str(tmp_path / "salt"))
    first = deid.salt()
    assert deid.salt() == first and len(first) == 64 and (tmp_path / "salt").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("MEDAI_DEID_SALT", "configured")
    assert deid.salt() == b"configured"


@pytest.mark.parametrize("code", sorted(set(deid.BASIC_PROFILE.values())))
def test_every_action_code_of_the_table_has_a_meaning(code):
    assert deid.ACTIONS[code] in ("dummy", "empty", "remove", "uid")


def test_a_replacement_uid_carries_128_bits_of_the_keyed_hash():
    """Fewer bits would let two studies' replacement UIDs collide after some tens of thousands."""
    original = "1.2.826.0.1.3680043.9.7777.1"
    digest = hmac.new(KEY, original.encode(), hashlib.sha256).digest()
    assert deid.replace_uid(original, KEY) == f"2.25.{int.from_bytes(digest[:16], 'big')}"


def test_a_private_tag_inside_a_kept_sequence_is_removed():
    assert 0x00540220 not in deid.BASIC_PROFILE  # View Code Sequence: the profile keeps it
    item = Dataset()
    item.CodeValue = "R-10206"
    item.private_block(0x0029, "VENDOR", create=True).add_new(0x10, "LO", "PHIPRIVATE")
    dataset = Dataset()
    dataset.ViewCodeSequence = [item]
    report = deid.deidentify(dataset, KEY)
    assert "PHIPRIVATE" not in repr(dataset) and report.private_removed == 2  # the creator and its element
    assert dataset.ViewCodeSequence[0].CodeValue == "R-10206"


def test_an_instance_uid_the_table_does_not_list_is_replaced_too():
    original = "1.2.826.0.1.3680043.9.7777.5"
    assert 0x00200242 not in deid.BASIC_PROFILE  # SOP Instance UID of Concatenation Source
    dataset = Dataset()
    dataset.SOPInstanceUIDOfConcatenationSource = original
    deid.deidentify(dataset, KEY)
    assert dataset.SOPInstanceUIDOfConcatenationSource == deid.replace_uid(original, KEY)


def test_dates_inside_nested_sequences_are_shifted_too():
    """Enhanced multi-frame images keep per-frame acquisition times two sequences deep."""
    frame = Dataset()
    frame.FrameAcquisitionDateTime = "20200315120000"
    content = Dataset()
    content.FrameContentSequence = [frame]
    dataset = Dataset()
    dataset.PerFrameFunctionalGroupsSequence = [content]
    dataset.PatientID = "P1"
    deid.deidentify(dataset, KEY)
    kept = dataset.PerFrameFunctionalGroupsSequence[0].FrameContentSequence[0].FrameAcquisitionDateTime
    assert not str(kept).startswith("20200315")
