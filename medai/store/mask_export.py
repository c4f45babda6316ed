"""Corrected masks from Segment feedback → a folder ``python -m medai train <model> --extra-data`` reads.

An override on the Segment page may carry a corrected mask (``correction = {"structure",
"mask_png_base64"}``, at the network's working size). The store keeps no images, so, as for the
classifier's export, the user supplies the uploaded files and they are matched by SHA-256. The folder
has the layout of the segmentation datasets: ``images/<id>.png``, ``masks/<structure>/<id>.png`` (0/255,
the image's size) and ``index.csv`` (``id, image_file, width, height`` and one 1/0 column per
structure: 1 = corrected there; any other structure counts as not annotated, never as empty).
"""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import select

from medai.store.audit import AuditStore
from medai.store.models import FeedbackRecord, PredictionRecord
from medai.store.reports import IMAGE_SUFFIXES, hashed_files


def corrected_masks(store: AuditStore, model_name: str) -> dict[str, dict[str, bytes]]:
    """Input SHA-256 → structure → corrected mask PNG bytes, from the latest override of each reviewer."""
    with store.reading("mask feedback export") as session:
        pairs = session.execute(
            select(PredictionRecord.input_sha256, FeedbackRecord.correction)
            .join(FeedbackRecord, FeedbackRecord.prediction_id == PredictionRecord.id)
            .where(PredictionRecord.model_name == model_name, PredictionRecord.input_sha256.is_not(None),
                   FeedbackRecord.verdict == "override")
            .order_by(FeedbackRecord.created_at, FeedbackRecord.id)).all()
    found: dict[str, dict[str, bytes]] = {}
    for digest, correction in pairs:
        if isinstance(correction, dict) and correction.get("mask_png_base64") and correction.get("structure"):
            found.setdefault(digest, {})[correction["structure"]] = base64.b64decode(correction["mask_png_base64"])
    return found


def write_mask_folder(masks: dict[str, dict[str, bytes]], uploads: Path, destination: Path,
                      structures: tuple[str, ...]) -> int:
    """Write every uploaded file with a corrected mask in the segmentation dataset layout; return the count."""
    from medai.imaging.io import read_image

    rows = []
    for path, digest in hashed_files(uploads, IMAGE_SUFFIXES):
        if digest not in masks:
            continue
        image = read_image(path.read_bytes(), keep_colour=True)
        height, width = image.shape
        image_id = f"feedback-{digest[:24]}"
        (destination / "images").mkdir(parents=True, exist_ok=True)
        pixels = image.rgb if image.rgb is not None else np.rint(image.pixels * 255).astype(np.uint8)
        Image.fromarray(pixels).save(destination / "images" / f"{image_id}.png")
        row = {"id": image_id, "image_file": f"images/{image_id}.png", "width": width, "height": height}
        for structure in structures:
            data = masks[digest].get(structure)
            row[structure] = int(data is not None)
            if data is not None:
                with Image.open(io.BytesIO(data)) as opened:
                    mask = opened.convert("L").resize((width, height), Image.NEAREST)
                folder = destination / "masks" / structure
                folder.mkdir(parents=True, exist_ok=True)
                Image.fromarray(np.where(np.asarray(mask) >= 128, 255, 0).astype(np.uint8)).save(folder / f"{image_id}.png")
        rows.append(row)
    if rows:
        with (destination / "index.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=["id", "image_file", "width", "height", *structures])
            writer.writeheader()
            writer.writerows(rows)
    return len(rows)
