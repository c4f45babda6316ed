"""The one-page PDF report."""

from medai.imaging.report import pdf_report
from medai.imaging.service import diagnose


def test_report_is_a_one_page_pdf_without_the_file_name(samples):
    data = (samples / "cxr_pneumonia_person1946_bacteria_4874.jpeg").read_bytes()
    (outcome,) = diagnose([("Jane_Doe_1946.jpeg", data)], "cxr-pneumonia", explain=True)
    pdf = pdf_report(outcome)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") <= 2
    assert b"Jane_Doe" not in pdf


def test_report_for_a_refusal(samples):
    data = (samples / "not_xray_retina_CHASE_Image_01L.jpg").read_bytes()
    (outcome,) = diagnose([("retina.jpg", data)], "cxr-pneumonia")
    assert outcome.status == "refused"
    assert pdf_report(outcome).startswith(b"%PDF")
