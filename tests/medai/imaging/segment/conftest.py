"""Shared helpers: a toy segmentation dataset folder laid out as ``load_set`` and ``validation_report`` read it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.conftest import png_bytes


def square(inside: float = 1.0, ring: float = 0.0) -> np.ndarray:
    """A 32 x 32 map: ``inside`` in a 12-pixel square, ``ring`` around it out to 20 pixels, 0 elsewhere."""
    p = np.zeros((32, 32), np.float32)
    p[6:26, 6:26] = ring
    p[10:22, 10:22] = inside
    return p


def toy_dataset(folder: Path, masks: dict[str, dict[str, np.ndarray]], ids: tuple[str, ...] = ("a", "b")) -> Path:
    """``folder / "ds"``: grey 32 x 32 images ``ids`` (each its own patient) and the given masks by structure and id."""
    root = folder / "ds"
    (root / "images").mkdir(parents=True)
    rows = ["id,image_file,patient"]
    for image_id in ids:
        (root / "images" / f"{image_id}.png").write_bytes(png_bytes(np.full((32, 32), 120, np.uint8)))
        rows.append(f"{image_id},images/{image_id}.png,p{image_id}")
    (root / "index.csv").write_text("\n".join(rows) + "\n")
    for structure, by_id in masks.items():
        (root / "masks" / structure).mkdir(parents=True)
        for image_id, mask in by_id.items():
            (root / "masks" / structure / f"{image_id}.png").write_bytes(png_bytes(mask.astype(np.uint8) * 255))
    return root
