"""A one-page PDF report of one diagnosis (fpdf2), for the Diagnose page's download button."""

from __future__ import annotations

import datetime as dt

import numpy as np
from fpdf import FPDF
from PIL import Image

from medai.imaging.explain import overlay
from medai.imaging.preprocess import to_unit_uint8
from medai.imaging.service import DiagnoseOutcome

DISCLAIMER = ("Research use only. Not a medical device. This output must not be used for diagnosis or "
              "treatment decisions; a qualified clinician must read the image.")
REPORT_SIDE_PX = 768


def _thumbnail(pixels: np.ndarray) -> Image.Image:
    image = to_unit_uint8(pixels)
    image.thumbnail((REPORT_SIDE_PX, REPORT_SIDE_PX))
    return image


def pdf_report(outcome: DiagnoseOutcome, opacity: float = 0.4) -> bytes:
    """Render ``outcome`` as a one-page A4 PDF: the image, the heat-map overlay, the numbers, the limits.

    The file name is left out on purpose (it may identify the patient); the input's SHA-256 links the
    report to the audit record.
    """
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, "MedAI Workbench - chest X-ray report", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", "B", 9)
    pdf.set_text_color(160, 0, 0)
    pdf.multi_cell(0, 5, DISCLAIMER, new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.ln(2)
    diagnosis = outcome.diagnosis
    rows = [
        ("Generated (UTC)", dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")),
        ("Model", f"{outcome.model_name} {outcome.model_version}"),
        ("Input SHA-256", outcome.image.sha256 if outcome.image else "-"),
        ("Status", outcome.status),
    ]
    if diagnosis is not None and diagnosis.probabilities is not None:
        rows += [(f"P({label})", f"{p:.3f}") for label, p in zip(diagnosis.labels, diagnosis.probabilities)]
        rows += [("Decision", f"{diagnosis.label} (threshold {diagnosis.threshold:.3f})"),
                 ("Uncertainty (ensemble SD)", f"{diagnosis.uncertainty:.3f}")]
    rows.append(("Message", outcome.message))
    pdf.set_font("helvetica", size=10)
    with pdf.table(col_widths=(55, 135), text_align="LEFT") as table:
        for key, value in rows:
            table.row((key, value))
    if outcome.image is not None:
        top = pdf.get_y() + 6
        height, width = outcome.image.shape
        shown_height = min(92 * height / width, 150)  # mm; both pictures share the aspect ratio
        pdf.image(_thumbnail(outcome.image.pixels), x=10, y=top, w=shown_height * width / height)
        if diagnosis is not None and diagnosis.heatmap is not None:
            blended = Image.fromarray(overlay(outcome.image.pixels, diagnosis.heatmap, opacity))
            blended.thumbnail((REPORT_SIDE_PX, REPORT_SIDE_PX))
            pdf.image(blended, x=108, y=top, w=shown_height * width / height)
        pdf.set_y(top + shown_height + 3)
        pdf.set_font("helvetica", "I", 8)
        pdf.multi_cell(0, 4, "Left: the image as read. Right: Grad-CAM heat map (where the network looked, not a "
                             "lesion outline).", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
