"""A one-page PDF report of one diagnosis (fpdf2), for the Diagnose page's download button."""

from __future__ import annotations

import datetime as dt

import numpy as np
from fpdf import FPDF
from PIL import Image

from medai import registry
from medai.imaging.explain import fixed_scale, overlay
from medai.imaging.lung_focus import LUNG_OUTLINE_RGB, outline
from medai.imaging.notes import OUT_OF_POPULATION_MESSAGE, member_spread, percent, reading_notes
from medai.imaging.preprocess import to_unit_uint8
from medai.imaging.service import DiagnoseOutcome

DISCLAIMER = ("Research use only. Not a medical device. This output must not be used for diagnosis or "
              "treatment decisions; a qualified clinician must read the image.")
REPORT_SIDE_PX = 768
PAGE_BOTTOM_MM = 285  # A4 is 297 mm tall; keep a margin below the caption
CAPTION_MM = 10
MAX_OPACITY = 0.7
# The PDF's core fonts print Latin-1 only; common typography outside it is spelled out first.
TYPOGRAPHY = str.maketrans({"\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2018": "'", "\u2019": "'",
                            "\u201c": '"', "\u201d": '"', "\u2026": "...", "\u2264": "<=", "\u2265": ">=",
                            "\u2192": "->", "\u00a0": " "})


def latin1(text: str) -> str:
    """``text`` printable by the PDF core fonts: typography spelled out, anything else outside Latin-1 as ``?``."""
    return text.translate(TYPOGRAPHY).encode("latin-1", "replace").decode("latin-1")


def _thumbnail(pixels: np.ndarray) -> Image.Image:
    image = to_unit_uint8(pixels)
    image.thumbnail((REPORT_SIDE_PX, REPORT_SIDE_PX))
    return image


def _member_count(model_name: str) -> int | None:
    members = registry.get_spec(model_name).parameters.get("members")
    return len(members) if isinstance(members, list) else None


def _rows(outcome: DiagnoseOutcome, user: str) -> list[tuple[str, str]]:
    """The report's key/value table: who, when, which record, model and input, then the numbers."""
    diagnosis = outcome.diagnosis
    rows = [
        ("Generated (UTC)", dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M")),
        ("Requested by", user),
        ("Audit record", str(outcome.record_id) if outcome.record_id is not None else "not recorded"),
        ("Model", f"{outcome.model_name} {outcome.model_version}"),
        ("Input SHA-256", outcome.input_sha256 or "-"),
        ("Status", outcome.status),
    ]
    if diagnosis is not None and diagnosis.probabilities is not None:
        rows += [(f"P({label})", percent(p)) for label, p in zip(diagnosis.labels, diagnosis.probabilities)]
        rows += [("Decision", f"{diagnosis.label} (threshold {percent(diagnosis.threshold)})"),
                 ("Uncertainty", member_spread(diagnosis))]
    if outcome.heat_in_lungs is not None:
        rows.append(("Heat map inside the lung fields", f"{outcome.heat_in_lungs:.0%}"))
    # a flagged diagnosis's message ends with the flag's sentence, which the report prints as a note instead
    rows.append(("Message", outcome.message.replace(OUT_OF_POPULATION_MESSAGE, "").strip()))
    return rows


def _notes(outcome: DiagnoseOutcome) -> list[str]:
    """The flags printed under the table: outside the validated population, then the reading notes."""
    diagnosis = outcome.diagnosis
    if diagnosis is None:
        return []
    flags = [OUT_OF_POPULATION_MESSAGE] if diagnosis.out_of_population else []
    return flags + reading_notes(diagnosis, _member_count(outcome.model_name))


def _overlay(outcome: DiagnoseOutcome, opacity: float, fixed: bool) -> Image.Image:
    """The heat map over the film as on the page: the same scale, the lung fields outlined in white."""
    diagnosis = outcome.diagnosis
    peak = getattr(diagnosis, "heatmap_peak", None)
    heatmap = fixed_scale(diagnosis.heatmap, peak) if fixed and peak is not None else diagnosis.heatmap
    drawn = overlay(outcome.image.pixels, heatmap, min(opacity, MAX_OPACITY))
    if outcome.lung_fields is not None:
        drawn[outline(outcome.lung_fields, outcome.image.shape)] = LUNG_OUTLINE_RGB
    picture = Image.fromarray(drawn)
    picture.thumbnail((REPORT_SIDE_PX, REPORT_SIDE_PX))
    return picture


def pdf_report(outcome: DiagnoseOutcome, opacity: float = 0.4, fixed: bool = False, *,
               user: str = "anonymous") -> bytes:
    """Render ``outcome`` as a one-page A4 PDF: who and what, the numbers, the notes, the image and heat map.

    Parameters
    ----------
    outcome : DiagnoseOutcome
        One result; ``record_id`` links the report to its audit record.
    opacity : float
        Heat-map opacity of the overlay, as on the page (at most ``MAX_OPACITY``: the film must show).
    fixed : bool
        The heat map on the fixed scale shared by all images, as the page's toggle, else rescaled per image.
    user : str
        Who asked for the diagnosis, as in the audit record.

    The file name is left out on purpose (it may identify the patient); the input's SHA-256 and the
    record id link the report to the audit trail.
    """
    fixed = fixed and getattr(outcome.diagnosis, "heatmap_peak", None) is not None  # a model may not report it
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
    pdf.set_font("helvetica", size=10)
    with pdf.table(col_widths=(55, 135), text_align="LEFT") as table:
        for key, value in _rows(outcome, user):
            table.row((latin1(key), latin1(value)))
    notes = _notes(outcome)
    if notes:
        pdf.ln(3)
        pdf.set_font("helvetica", "B", 10)
        pdf.set_fill_color(255, 243, 205)
        for note in notes:
            pdf.multi_cell(0, 5, latin1(note), fill=True, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
    if outcome.image is not None:
        top = pdf.get_y() + 5
        height, width = outcome.image.shape
        # both pictures share the aspect ratio; each at most 92 mm wide, and the page ends where it ends
        shown_height = max(min(92 * height / width, PAGE_BOTTOM_MM - CAPTION_MM - top), 20)
        shown_width = shown_height * width / height
        pdf.image(_thumbnail(outcome.image.pixels), x=10, y=top, w=shown_width)
        diagnosis = outcome.diagnosis
        if diagnosis is not None and diagnosis.heatmap is not None:
            pdf.image(_overlay(outcome, opacity, fixed), x=108, y=top, w=shown_width)
        pdf.set_y(top + shown_height + 3)
        pdf.set_font("helvetica", "I", 8)
        scale = "on the scale shared by all images" if fixed else "rescaled per image"
        lungs = "; white line: lung fields (cxr-lungs)" if outcome.lung_fields is not None else ""
        pdf.multi_cell(0, 4, f"Left: the image as read. Right: Grad-CAM heat map, {scale} (where the network looked, "
                             f"not a lesion outline){lungs}.", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
