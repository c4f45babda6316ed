"""The one-page PDF report: who asked, which record, model and input, the reading notes, no file name."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
import pytest
from fpdf import FPDF

from medai.imaging import report
from medai.imaging.classify import Diagnosis
from medai.imaging.notes import reading_notes
from medai.imaging.report import OUT_OF_POPULATION, pdf_report
from medai.imaging.service import DiagnoseOutcome, diagnose
from medai.store import AuditStore

PDF_STRING = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj")


@dataclass(frozen=True)
class FlaggedDiagnosis(Diagnosis):
    """A diagnosis of a chest X-ray unlike the training films (the field the classifier sets)."""

    out_of_population: bool = True


class UncompressedPDF(FPDF):
    """FPDF writing plain content streams, so that a test can read the text back."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_compression(False)


@pytest.fixture
def readable(monkeypatch):
    monkeypatch.setattr(report, "FPDF", UncompressedPDF)


def text_of(pdf: bytes) -> str:
    """The text the PDF prints, lines joined by spaces (the core fonts write Latin-1 strings)."""
    strings = [re.sub(rb"\\(.)", rb"\1", raw).decode("latin-1") for raw in PDF_STRING.findall(pdf)]
    return re.sub(r"\s+", " ", " ".join(strings))


@pytest.fixture(scope="module")
def pneumonia_film(samples) -> bytes:
    return (samples / "cxr_pneumonia_person1946_bacteria_4874.jpeg").read_bytes()


@pytest.fixture
def recorded(pneumonia_film) -> DiagnoseOutcome:
    (outcome,) = diagnose([("Jane_Doe_1946.jpeg", pneumonia_film)], "cxr-pneumonia", user="dr.who",
                          store=AuditStore(), explain=True)
    assert outcome.status == "ok" and outcome.record_id is not None
    return outcome


def _borderline(outcome: DiagnoseOutcome, diagnosis_type: type = Diagnosis) -> DiagnoseOutcome:
    """The same outcome with members that disagree and a score just under the threshold."""
    d = outcome.diagnosis
    p = d.threshold - 0.02
    diagnosis = diagnosis_type(d.status, d.labels, np.array([1 - p, p]), d.labels[0], 0.14, d.threshold,
                               d.heatmap, d.message)
    return replace(outcome, diagnosis=diagnosis)


def test_report_is_a_one_page_pdf_without_the_file_name(recorded):
    pdf = pdf_report(recorded)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") <= 2
    assert b"Jane_Doe" not in pdf


def test_report_names_the_record_user_model_version_and_input_hash(recorded, readable):
    text = text_of(pdf_report(recorded, user="dr.who"))
    assert f"Audit record {recorded.record_id}" in text
    assert "Requested by dr.who" in text
    assert f"Model cxr-pneumonia {recorded.model_version}" in text
    assert recorded.image.sha256 in text
    assert "Jane_Doe" not in text


def test_report_prints_the_same_reading_notes_as_the_page(recorded, readable):
    borderline = _borderline(recorded)
    notes = reading_notes(borderline.diagnosis, members=5)
    assert [n.split(":")[0] for n in notes] == ["The five members disagree", "The score is near the threshold"]
    text = text_of(pdf_report(borderline))
    assert all(note in text for note in notes)
    assert "Outside the validated population" not in text


def test_report_flags_an_image_outside_the_validated_population(recorded, readable):
    text = text_of(pdf_report(_borderline(recorded, FlaggedDiagnosis)))
    assert OUT_OF_POPULATION in text
    assert text.index(OUT_OF_POPULATION) < text.index("The five members disagree")


def test_text_outside_latin1_is_printed_not_raised(recorded, readable):
    outcome = replace(recorded, message="Pneumonia \u2014 p \u2265 0.86 \u2212 see \u201cnotes\u201d")
    text = text_of(pdf_report(outcome, user="Zo\u00eb \u0141ukasz \u738b"))
    assert 'Pneumonia - p >= 0.86 - see "notes"' in text and "Requested by Zo\u00eb ?ukasz ?" in text


def test_report_for_a_refusal(samples, readable):
    data = (samples / "not_xray_retina_CHASE_Image_01L.jpg").read_bytes()
    (outcome,) = diagnose([("retina.jpg", data)], "cxr-pneumonia")
    assert outcome.status == "refused"
    pdf = pdf_report(outcome)
    assert pdf.startswith(b"%PDF")
    assert "Audit record not recorded" in text_of(pdf) and "members disagree" not in text_of(pdf)
