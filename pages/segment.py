"""Segment: upload an image; see each structure as a coloured overlay, its size, and how it compares with a mask.

Each input is segmented and recorded once, keyed by what identifies the request: an upload's
``file_id`` or a sample's name while it stays selected (the model's name is part of the key, so
another model is another request). Sliders, toggles and ground-truth masks only redraw: masks at any
threshold are made again from the probabilities kept at the working resolution (see
:func:`medai.imaging.segment.service.for_display`).
"""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

import pandas as pd
import streamlit as st

from medai import registry
from medai.errors import MedAIError
from medai.imaging.segment.export import dicom_seg, mask_png, measurement_rows, outcome_masks
from medai.imaging.segment.measure import LESION_CAVEAT, LESIONS, LUNGS, dice
from medai.imaging.segment.overlay import (COMBINED, DISAGREEMENT, HATCHED, compose, disagreement, read_mask_png,
                                           resize_mask, structure_colours, target_mask, truth_targets)
from medai.imaging.segment.recipes import RECIPES
from medai.imaging.segment.service import SegmentOutcome, for_display, measure, models_that_take, segment
from medai.spreadsheet import to_spreadsheet_csv
from pages.card_view import render_card
from pages.common import audit_store, current_user, load_or_stop, logged_export, open_page, plain
from pages.feedback import feedback_control

open_page("pages/segment.py")

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data" / "imaging"
SHIPPED_MASKS = SAMPLES / "segment" / "masks"  # masks/<target>/<sample stem>.png: ground truth shipped with a sample
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".dcm", ".dicom")
DEFAULT_MODEL = "cxr-lungs"  # the one chosen first when several segmentation models are installed
MODEL_CHOICE = "segment_model"  # session state: the model last chosen, kept across pages (not a widget key)
RESULTS = "segment_results"  # session state: request key → display-size SegmentOutcome
KEPT_RESULTS = 3  # this session's latest images (2–6 MB each), so going back to one neither segments nor records it
CTR_NOTE = ("Cardiothoracic ratio = widest heart ÷ widest chest (inside the ribs). Above 0.5 on an adult's PA "
            "film suggests an enlarged heart; an AP film magnifies the heart, and in infants and young children "
            "a ratio up to about 0.6 is usual (the thymus widens the mediastinum), so read it with care there.")


def label(name: str) -> str:
    """``"right_lung"`` → ``"Right lung"``."""
    return name.replace("_", " ").capitalize()


def sample_files() -> dict[str, Path]:
    """Shipped images by display name: the Diagnose samples, then the Segment ones (with ground truth)."""
    found = [path for folder in (SAMPLES, SAMPLES / "segment") for path in sorted(folder.glob("*"))
             if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES]
    return {path.name: path for path in found}


def read_request(model_name: str) -> tuple[str, str, bytes | Path] | None:
    """The upload and sample widgets → (request key, display name, bytes or sample path), or None."""
    upload = st.file_uploader("Image (PNG, JPEG or DICOM; the file type is checked by its content)", key="upload")
    samples = sample_files()
    recipe = RECIPES.get(model_name)
    marker = recipe.sample_marker if recipe else ""

    def suits(name: str) -> bool:
        return bool(marker) and marker in name

    if upload is not None:  # the upload is what is segmented: no sample name may sit beside it
        st.session_state[f"sample_{model_name}"] = None
    # The samples of the kind this model reads first; the others stay, to show what a refusal looks like.
    chosen = st.selectbox("…or try a sample image", sorted(samples, key=lambda name: not suits(name)), index=None,
                          key=f"sample_{model_name}", disabled=upload is not None,  # per model: no stale labels
                          persist_state="session",
                          placeholder="Choose a sample" if marker else "Choose a sample (none ships for this model)",
                          format_func=lambda name: name if suits(name) else f"{name} (not what this model reads)")
    if upload is not None:
        return f"{model_name}|upload|{upload.file_id}", upload.name, upload.getvalue()
    if chosen is not None:
        return f"{model_name}|sample|{chosen}", chosen, samples[chosen]
    return None


def legend(items: list[tuple[str, str, int]]) -> str:
    """One line of swatches with their names (HTML for ``st.markdown``); items are (name, colour, hatching), the
    hatching as in :data:`HATCHED` (0: solid)."""
    # Each swatch and its name unbroken: a narrow column put a swatch at a line's end and its name on the next.
    swatch = ('<span style="white-space:nowrap"><span style="display:inline-block;width:0.9em;height:0.9em;'
              'background:{};border:1px solid #555;vertical-align:middle;margin:0 0.3em 0 0.9em"></span>{}</span> ')
    return "".join(swatch.format(colour if not hatching else
                                 f"repeating-linear-gradient({45 * hatching}deg,{colour} 0 2px,transparent 2px 4px)",
                                 name) for name, colour, hatching in items)


def truth_mask(outcome: SegmentOutcome, targets: list[str], sample: str | None):
    """The ground-truth widgets → (target, (H, W) bool mask at the original size) or None; errors are shown."""
    shipped = {t: SHIPPED_MASKS / t / f"{Path(sample).stem}.png" for t in targets} if sample else {}
    shipped = {t: path for t, path in shipped.items() if path.is_file()}
    with st.expander("Compare with a ground-truth mask", expanded=bool(shipped)):
        use_shipped = bool(shipped) and st.toggle(f"Use the sample's ground truth ({', '.join(map(label, shipped))})",
                                                  key="shipped_truth")
        if use_shipped:
            st.caption("This sample and its mask come from the dataset the model was trained and validated on: "
                       "its Dice shows how the comparison works, not how the model does on new images (the model "
                       "card's validation Dice says that).")
        upload = st.file_uploader("Ground-truth mask (PNG, 0 = outside, 255 = inside; the image's size)",
                                  type=["png"], key="truth", disabled=use_shipped)
        target = next(iter(shipped)) if use_shipped else st.selectbox("The mask marks", targets, format_func=label,
                                                                        key=f"truth_target_{outcome.model_name}")
    if not (use_shipped or upload):
        return None
    data = shipped[target].read_bytes() if use_shipped else upload.getvalue()
    try:
        mask, resized = read_mask_png(data, outcome.original_shape)
    except MedAIError as exc:
        st.error(f"Ground-truth mask: {plain(exc)}", icon=":material/error:")
        return None
    if resized:
        st.caption("The ground-truth mask was resized (nearest neighbour) to the image's size.")
    return target, mask


def mask_correction(outcome: SegmentOutcome, structures: tuple[str, ...]):
    """The override's extra inputs for :func:`feedback_control`: a structure and its corrected mask PNG.

    The mask is stored at the working size (a binary PNG, a few kB) as ``{"structure", "mask_png_base64"}``.
    """
    def draw(prefix: str) -> dict[str, str] | None:
        fixed = st.file_uploader("Corrected mask (PNG, optional)", type=["png"], key=f"{prefix}_mask")
        if fixed is None:  # the structure is asked with its mask: alone it would be stored nowhere
            return None
        # No default: a silent first choice stored a mask of both lungs as a right lung's.
        structure = st.selectbox("Structure this mask marks", structures, format_func=label, key=f"{prefix}_structure",
                                 index=None, placeholder="Choose one structure")
        if structure is None:
            st.caption("A corrected mask marks one structure (the right and the left lung are two).")
            return None
        try:
            mask, _ = read_mask_png(fixed.getvalue(), outcome.original_shape)
        except MedAIError as exc:
            st.error(f"Corrected mask: {plain(exc)}", icon=":material/error:")
            return None
        working = resize_mask(mask, outcome.segmentation.probabilities.shape[:2])
        return {"structure": structure, "mask_png_base64": base64.b64encode(mask_png(working)).decode("ascii")}
    return draw


def findings_lines(findings: dict[str, float | None], view: str = "") -> None:
    """The cardiothoracic ratio with how to read it (``view``: the DICOM ViewPosition, when given), and the
    lesion share of each lung."""
    ratio = findings.get("cardiothoracic_ratio")
    st.metric("Cardiothoracic ratio", "—" if ratio is None else f"{ratio:.2f}")
    st.caption(CTR_NOTE + {"AP": " This film is AP (its DICOM ViewPosition): the ratio overstates the heart.",
                           "PA": " This film is PA (its DICOM ViewPosition)."}.get(view.strip().upper(), ""))
    shares = [f"{label(lung)}: {findings[f'{lung}_lesion_share']:.0%}" for lung in LUNGS
              if findings.get(f"{lung}_lesion_share") is not None]
    if shares:  # folded, as its layers start hidden: the caveat is read before the figure
        with st.expander("Lesion share of each lung (adult COVID-19 lesions; read the caveat first)"):
            st.warning(LESION_CAVEAT + " The lesion layers are hidden until added under 'Structures shown'.",
                       icon=":material/warning:")
            st.markdown("Share of each lung covered by ground-glass opacity or consolidation: " + "; ".join(shares))


def validation_dice(card: dict) -> dict[str, float]:
    """Structure → mean validation Dice from a segmentation model card (empty where the card has none)."""
    dice_figures = card.get("metrics", {}).get("validation", {}).get("dice", {})
    return {name: value["mean"] for name, value in dice_figures.items() if isinstance(value, dict) and "mean" in value}


def draw(outcome: SegmentOutcome, source: bytes | Path, sample: str | None, card_dice: dict[str, float]) -> None:
    """One result: controls, overlay with legend, measurements, Dice, downloads, feedback."""
    st.subheader(plain(outcome.name))
    if outcome.status == "error":
        st.error(plain(outcome.message), icon=":material/error:")
        return
    image, seg = outcome.image, outcome.segmentation
    height, width = outcome.original_shape
    if outcome.status == "refused":
        picture, numbers = st.columns([3, 2])
        picture.image(image.rgb if image.rgb is not None else image.pixels, caption="Image as read", clamp=True,
                      alt=f"{outcome.name}, refused, as read")
        numbers.warning(f"Refused: {plain(outcome.message)}", icon=":material/block:")
        takers = models_that_take(source.read_bytes() if isinstance(source, Path) else source, outcome.model_name)
        if takers:
            numbers.info(f"It looks like what {' or '.join(takers)} reads: choose it under 'Model' above.",
                         icon=":material/lightbulb:")
        return
    structures, model = seg.structures, outcome.model_name
    colours = structure_colours(structures)
    controls = st.columns([3, 1, 1])
    # The lesion layers start hidden on every image: they mark normal children's lungs (LESION_CAVEAT); a
    # reader adds them. Keyed by the image, as the thresholds are, so a choice does not follow to the next.
    shown = controls[0].multiselect("Structures shown", structures, format_func=label,
                                    default=[name for name in structures if name not in LESIONS],
                                    key=f"shown_{model}_{image.sha256[:16]}")
    outline = controls[2].toggle("Outlines", key="outline",  # short: the column is narrow
                                 help="Only each mask's boundary, drawn opaque.")
    opacity = controls[1].slider("Opacity", 0.0, 1.0, 0.45, 0.05, key="opacity",
                                 help="Of the filled masks and of the disagreement with a ground truth.")
    with st.expander("Thresholds (defaults: each structure's threshold chosen on validation)"):
        # Keyed by the image too: a new image gets new sliders at the validated thresholds. Deleting the old
        # keys alone is not enough: the browser still holds the moved value and sends it back on the next rerun.
        thresholds = {name: st.slider(label(name), 0.01, 0.99, float(cut), 0.01,
                                      key=f"threshold_{model}_{name}_{image.sha256[:16]}")
                      for name, cut in zip(structures, seg.thresholds)}
    truth = truth_mask(outcome, truth_targets(structures), sample)
    picture, numbers = st.columns([3, 2])

    display = seg.masks(image.shape, thresholds)
    drawn = {name: display[name] for name in shown}
    items = [(label(name), colours[name], 0 if outline else HATCHED.get(name, 0)) for name in shown]
    drawing = compose(image.pixels, drawn, colours, 1.0 if outline else opacity, outline, rgb=image.rgb)
    if truth is not None:  # filled on top, in either mode
        wrong = disagreement(target_mask(display, truth[0]), resize_mask(truth[1], image.shape))
        drawing = compose(image.pixels, {"disagreement": wrong}, {"disagreement": DISAGREEMENT}, opacity, rgb=drawing)
        items.append(("Disagreement with the ground truth", DISAGREEMENT, HATCHED["disagreement"]))
    picture.image(drawing, output_format="PNG", width="stretch",
                  caption=f"{'Outlines' if outline else 'Overlay'}; image {width}×{height} px",
                  alt=f"{outcome.name} with {model} marking: "
                      + (", ".join(item[0] for item in items) or "nothing shown"))
    picture.markdown(legend(items) or "No structure shown.", unsafe_allow_html=True)

    validated = all(abs(thresholds[name] - cut) < 1e-9 for name, cut in zip(structures, seg.thresholds))
    measurements, findings = ((outcome.measurements, outcome.findings) if validated else  # measured when recorded
                              measure(seg, (height, width), image.pixel_spacing_mm, thresholds))
    spacing = image.pixel_spacing_mm
    # Dice beside the name: in a narrow column the last columns scroll out of sight, and the caption cites it.
    table = pd.DataFrame({"structure": [label(m.structure) for m in measurements],
                          **({"validation Dice": [round(card_dice[m.structure], 3) if m.structure in card_dice else None
                                                     for m in measurements]}
                             if card_dice else {}),
                          "area (px)": [m.area_px for m in measurements],
                          **({"area (mm²)": [round(m.area_mm2, 1) for m in measurements]} if spacing else {}),
                          "share of image": [f"{m.share_of_image:.1%}" for m in measurements]})
    # Short headers and narrow number columns: at a tablet's width the names took the column, areas unseen.
    small = {"width": "small"}
    numbers.dataframe(table, placeholder="—", hide_index=True, width="stretch", column_config={
        "structure": st.column_config.TextColumn(width="medium"),
        "validation Dice": st.column_config.NumberColumn("val. Dice", help="Dice on the model card's validation images",
                                                         **small),
        "area (px)": st.column_config.NumberColumn("px", help="Area in pixels", **small),
        "area (mm²)": st.column_config.NumberColumn("mm²", help="Area in mm², from the DICOM pixel spacing", **small),
        "share of image": st.column_config.TextColumn("% of image", **small)})
    numbers.caption((f"Pixel spacing {spacing[0]:.3f} × {spacing[1]:.3f} mm (from the DICOM file)." if spacing else
                     "No pixel spacing in this file, so areas are in pixels only.")
                    + (" Validation Dice (model card): how closely the model matched the experts' masks on "
                       "validation images; a low one means read that structure as rough." if card_dice else ""))
    if not validated:
        numbers.caption("Measured at the thresholds set above; the audit record keeps the measurements at the "
                        "validated thresholds.")
    with numbers:
        if findings:
            findings_lines(findings, image.metadata.get("ViewPosition", ""))
        if truth is not None:
            target, mask = truth
            parts = COMBINED.get(target, (target,))  # only the structures the mask marks, at full size
            predicted = target_mask({n: seg.mask(n, (height, width), thresholds[n]) for n in parts}, target)
            st.metric(f"Dice against the ground truth ({label(target)})", f"{dice(predicted, mask):.3f}")
            st.caption("Dice at the image's full size; magenta stripes mark the pixels where the two masks differ.")

    shown_outcome = replace(outcome, measurements=measurements, findings=findings,
                            segmentation=replace(seg, thresholds=tuple(thresholds[n] for n in structures)))
    stem = f"segment_{outcome.record_id}" if outcome.record_id is not None else "segment"
    user = current_user()  # each download is recorded as an export before it is built
    numbers.download_button("Measurements (CSV)",
                            logged_export(lambda: to_spreadsheet_csv(pd.DataFrame(measurement_rows(shown_outcome))),
                                          what="measurements csv", prediction_id=outcome.record_id, user=user,
                                          settings={"thresholds": thresholds}),
                            f"{stem}_measurements.csv", "text/csv", key="csv", on_click="ignore",
                            icon=":material/download:")
    with numbers.expander(f"Masks at the original size ({width}×{height} PNG)"):
        for name in structures:  # callables: a full-size mask is made only when it is asked for
            st.download_button(label(name), logged_export(
                lambda n=name: mask_png(seg.mask(n, (height, width), thresholds[n])), what=f"{name} mask png",
                prediction_id=outcome.record_id, user=user, settings={"threshold": thresholds[name]}),
                f"{stem}_{name}.png", "image/png", key=f"png_{name}",
                on_click="ignore")
    if image.format == "dicom" and numbers.button("Make a DICOM SEG", key="make_seg", icon=":material/layers:"):
        try:  # built on request, at the thresholds shown; a file highdicom cannot refer to is a message
            seg_file = logged_export(lambda: dicom_seg(source.read_bytes() if isinstance(source, Path) else source,
                                                       outcome_masks(outcome, thresholds), model_name=model,
                                                       model_version=outcome.model_version),
                                     what="dicom seg", prediction_id=outcome.record_id, user=user,
                                     settings={"thresholds": thresholds})()
            numbers.download_button("Save the DICOM SEG", seg_file, f"{stem}_seg.dcm", "application/dicom",
                                    key="dicom_seg", on_click="ignore", icon=":material/save:")
        except MedAIError as exc:
            numbers.error(f"DICOM SEG: {plain(exc)}", icon=":material/error:")
    with numbers:
        feedback_control(outcome.record_id, label_prompt="What is wrong (corrected label)",
                         correction=mask_correction(outcome, structures), title=f"Feedback on {plain(outcome.name)}")


st.title("Segment")
st.caption("Organs and lesions marked automatically, as an overlay. Research use only; a clinician reads every image.")

models = registry.names(task="image-segmentation")
if not models:
    st.info("No segmentation model is installed. Train one with `python -m medai train cxr-lungs`.")
    st.stop()
kept = st.session_state.get(MODEL_CHOICE)
if kept not in models:
    kept = DEFAULT_MODEL if DEFAULT_MODEL in models else models[0]
# The kept choice is the widget's default, not a value set through session state: a run that finds no widget
# value (overlapping reruns under load) then still shows it. With the default left at the list's first
# entry, the Model switched to colon-polyp by itself in a four-user trial, and the sample picked was lost.
model_name = st.selectbox("Model", models, index=models.index(kept), key="model")
st.session_state[MODEL_CHOICE] = model_name
card = registry.card(model_name)
with st.expander("Model card"):
    render_card(card)

request = read_request(model_name)
results: dict[str, SegmentOutcome] = st.session_state.setdefault(RESULTS, {})
slot = st.empty()  # the "to begin" note and the spinner share a place: a spinner replaces the note at once
if request is None:
    slot.info("Upload an image, or pick a sample, to begin.")
    st.stop()

key, name, source = request
if key not in results:
    per_image = (f"threshold_{model_name}_", f"shown_{model_name}_")
    for moved in [k for k in st.session_state if str(k).startswith(per_image)]:
        del st.session_state[moved]  # the previous image's sliders and layers (a new image gets its own)
    load_or_stop(model_name)
    with slot.container(), st.spinner("Segmenting…"):
        data = source.read_bytes() if isinstance(source, Path) else source
        try:  # recorded once, then only the display-size copy is kept
            outcome = segment([(name, data)], model_name, user=current_user(), source="ui", store=audit_store())[0]
        except MedAIError as exc:  # e.g. the audit store cannot be written: say so, record nothing silently
            st.error(f"{plain(name)}: {plain(exc)}", icon=":material/error:")
            st.stop()
        results[key] = for_display(outcome)  # before any Streamlit call, where a rerun interrupts the script
results[key] = results.pop(key)  # the latest image last, so the oldest is forgotten first
while len(results) > KEPT_RESULTS:
    del results[next(iter(results))]
draw(results[key], source, name if isinstance(source, Path) else None, validation_dice(card))
