"""The one-page PDF report: who asked, which record, model and input, the reading notes, no file name."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest
from fpdf import FPDF

from medai.imaging import report
from medai.imaging.classify import Diagnosis
from medai.imaging.io import read_image
from medai.imaging.notes import reading_notes
from medai.imaging.notes import OUT_OF_POPULATION_MESSAGE
from medai.imaging.report import pdf_report
from medai.imaging.service import DiagnoseOutcome, diagnose
from medai.store import AuditStore
from tests.conftest import png_bytes

PDF_STRING = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj")
IMAGE_BOTTOM = re.compile(rb"q [\d.]+ 0 0 [\d.]+ [\d.]+ (-?[\d.]+) cm /I\d+ Do Q")  # y of the lower edge, pt


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


def _outcome(film: bytes, p: float, sd: float, flagged: bool = False) -> DiagnoseOutcome:
    """A recorded outcome built by hand (no model): the sample image, a Grad-CAM-like map, ``p`` and ``sd``."""
    threshold = 0.856143
    label = "pneumonia" if p >= threshold else "normal"
    message = f"{label.capitalize()} (p={p:.2f})." + (f" {OUT_OF_POPULATION_MESSAGE}" if flagged else "")
    diagnosis = Diagnosis("ok", ("normal", "pneumonia"), np.array([1 - p, p]), label, sd, threshold,
                          np.linspace(0, 1, 64).reshape(8, 8), message, out_of_population=flagged)
    image = read_image(film)
    return DiagnoseOutcome("Jane_Doe_1946.jpeg", "ok", diagnosis.message, "cxr-pneumonia", "1.1.0",
                           image, diagnosis, record_id=17, input_sha256=image.sha256)


@pytest.fixture
def recorded(pneumonia_film) -> DiagnoseOutcome:
    return _outcome(pneumonia_film, 0.99, 0.01)


@pytest.fixture
def borderline(pneumonia_film) -> DiagnoseOutcome:
    """Members that disagree and a score just under the threshold."""
    return _outcome(pneumonia_film, 0.836, 0.14)


def test_report_is_a_one_page_pdf_without_the_file_name(pneumonia_film):
    (outcome,) = diagnose([("Jane_Doe_1946.jpeg", pneumonia_film)], "cxr-pneumonia", user="dr.who",
                          store=AuditStore(), explain=True)
    assert outcome.status == "ok" and outcome.record_id is not None
    pdf = pdf_report(outcome)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") <= 2
    assert b"Jane_Doe" not in pdf


def test_report_names_the_record_user_model_version_and_input_hash(recorded, readable):
    text = text_of(pdf_report(recorded, user="dr.who"))
    assert "Audit record 17" in text
    assert "Requested by dr.who" in text
    assert f"Model cxr-pneumonia {recorded.model_version}" in text
    assert recorded.image.sha256 in text
    assert "Jane_Doe" not in text


def test_report_prints_the_same_reading_notes_as_the_page(borderline, readable):
    notes = reading_notes(borderline.diagnosis, members=5)
    assert [n.split(":")[0] for n in notes] == ["The five members disagree", "The score is near the threshold"]
    text = text_of(pdf_report(borderline))
    assert all(note in text for note in notes)
    assert "Outside the validated population" not in text


def test_report_flags_an_image_outside_the_validated_population(pneumonia_film, readable):
    text = text_of(pdf_report(_outcome(pneumonia_film, 0.836, 0.14, flagged=True)))
    assert text.count(OUT_OF_POPULATION_MESSAGE) == 1  # as a note, not again in the message row
    assert "Message Normal (p=0.84)." in text
    assert text.index(OUT_OF_POPULATION_MESSAGE) < text.index("The five members disagree")


def test_a_tall_image_with_every_note_stays_on_one_page(readable):
    tall = png_bytes(np.tile(np.linspace(0, 255, 600, dtype=np.uint8), (1500, 1)))
    outcome = _outcome(tall, 0.836, 0.14, flagged=True)
    pdf = pdf_report(outcome)
    bottoms = [float(y) for y in IMAGE_BOTTOM.findall(pdf)]
    assert len(bottoms) == 2 and min(bottoms) > 0
    assert pdf.count(b"/Type /Page\n") == 1 and OUT_OF_POPULATION_MESSAGE in text_of(pdf)


def test_text_outside_latin1_is_printed_not_raised(recorded, readable):
    outcome = replace(recorded, message="Pneumonia \u2014 p \u2265 0.86 \u2212 see \u201cnotes\u201d")
    text = text_of(pdf_report(outcome, user="Zo\u00eb \u0141ukasz \u738b"))
    assert 'Pneumonia - p >= 0.86 - see "notes"' in text and "Requested by Zo\u00eb ?ukasz ?" in text


def test_report_for_a_refusal(samples, readable):
    data = (samples / "fundus_retina_CHASE_Image_01L.jpg").read_bytes()
    (outcome,) = diagnose([("retina.jpg", data)], "cxr-pneumonia")
    assert outcome.status == "refused"
    pdf = pdf_report(outcome)
    assert pdf.startswith(b"%PDF")
    assert "Audit record not recorded" in text_of(pdf) and "members disagree" not in text_of(pdf)


def test_report_draws_the_heat_map_as_the_page_does(recorded, readable):
    lungs = np.zeros((32, 32), bool)
    lungs[8:24, 4:14] = lungs[8:24, 18:28] = True
    shown = replace(recorded, lung_fields=lungs, heat_in_lungs=0.57,
                    diagnosis=replace(recorded.diagnosis, heatmap_peak=0.5))
    text = text_of(pdf_report(shown, 0.4, fixed=True))
    assert "on the scale shared by all images" in text and "white line: lung fields" in text
    assert "Heat map inside the lung fields 57%" in text
    drawn = np.asarray(report._overlay(shown, 1.0, fixed=False))
    assert (drawn == 255).all(axis=2).any()  # the white outline is on the picture
    film = np.asarray(report._overlay(recorded, 1.0, fixed=False), float)
    assert np.abs(film - np.asarray(report._overlay(recorded, report.MAX_OPACITY, fixed=False), float)).max() == 0
    assert "rescaled per image" in text_of(pdf_report(recorded, 0.4, fixed=True))  # no peak reported: per image


def test_each_label_is_printed_beside_its_own_probability(pneumonia_film, monkeypatch):
    monkeypatch.setattr(report, "FPDF", UncompressedPDF)
    text = text_of(report.pdf_report(_outcome(pneumonia_film, 0.9, 0.02)))
    assert "P(normal) 10.0 %" in text and "P(pneumonia) 90.0 %" in text
