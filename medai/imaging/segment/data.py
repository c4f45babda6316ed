"""Read the segmentation datasets (``images/``, ``masks/<structure>/``, ``index.csv``) into arrays.

Every dataset under ``$MEDAI_DATA_DIR/imaging/segmentation/<name>/`` has the same layout (see its
README). Images are decoded once at the working size of a model and cached as ``.npz`` under
``$MEDAI_CACHE_DIR``, so a retraining run does not decode hundreds of JPEGs again.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from medai import config
from medai.errors import MedAIError


@dataclass(frozen=True)
class SegmentationSet:
    """Images and masks of one dataset at one working size.

    Attributes
    ----------
    ids : (N,) str array
        Image ids from ``index.csv``.
    images : (N, H, W, C) uint8
        Pixels, C = 1 (grey) or 3 (RGB).
    masks : (N, H, W, S) uint8
        0/1 per structure.
    annotated : (N, S) bool
        False where a structure has no mask file and its absence cannot be read as "empty"; the
        loss ignores those channels.
    groups : (N,) str array
        Grouping key for splits (patient or child), so no group is in two splits.
    """

    ids: np.ndarray
    images: np.ndarray
    masks: np.ndarray
    annotated: np.ndarray
    groups: np.ndarray

    def subset(self, index: np.ndarray) -> "SegmentationSet":
        """The rows at ``index``."""
        return SegmentationSet(self.ids[index], self.images[index], self.masks[index],
                               self.annotated[index], self.groups[index])


def dataset_root(name: str) -> Path:
    """Folder of dataset ``name``; a clear error if the data is not there."""
    root = config.data_dir() / "imaging" / "segmentation" / name
    if not (root / "index.csv").is_file():
        raise MedAIError(f"The {name} dataset is not at {root}; set MEDAI_DATA_DIR to the folder holding imaging/.")
    return root


def read_index(root: Path) -> list[dict[str, str]]:
    """Rows of ``index.csv`` as dicts."""
    with (root / "index.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _resized(path: Path, size: tuple[int, int] | None, mode: str, resample: int) -> np.ndarray:
    with Image.open(path) as opened:
        image = opened.convert(mode)
        if size is not None:
            image = image.resize(size, resample)
        return np.asarray(image, dtype=np.uint8)


def load_set(name: str, structures: tuple[str, ...], *, channels: int, size: int | None,
             empty_when_missing: tuple[str, ...] = (), group_column: str = "id",
             root: Path | None = None) -> SegmentationSet:
    """Decode (or read from the cache) dataset ``name`` at ``size`` x ``size`` pixels.

    Parameters
    ----------
    name : str
        Folder name under ``imaging/segmentation``.
    structures : tuple of str
        Mask folders to read, in output-channel order.
    channels : int
        1 (grey) or 3 (RGB).
    size : int or None
        Working side in pixels (images are squashed to a square); None keeps each image's size
        (all images must then share one size).
    empty_when_missing : tuple of str
        Structures whose missing mask means "absent" (an empty mask) rather than "not annotated".
    group_column : str
        ``index.csv`` column that groups images for splitting.
    root : Path, optional
        Read this folder (same layout, e.g. a feedback export) instead of the named dataset; not cached.
    """
    cache = config.cache_dir() / f"segment-{name}-{size or 'full'}-{channels}-{'_'.join(structures)}.npz"
    if root is None and cache.is_file():
        with np.load(cache) as stored:
            return SegmentationSet(stored["ids"], stored["images"], stored["masks"], stored["annotated"],
                                   stored["groups"])
    from_dataset = root is None
    root = dataset_root(name) if root is None else root
    rows = read_index(root)
    mode = "L" if channels == 1 else "RGB"
    target = (size, size) if size else None
    images, masks, annotated = [], [], []
    for row in rows:
        image = _resized(root / row["image_file"], target, mode, Image.BICUBIC)
        images.append(image[..., None] if channels == 1 else image)
        height, width = image.shape[:2]
        planes, flags = [], []
        for structure in structures:
            mask_path = root / "masks" / structure / f"{row['id']}.png"
            if mask_path.is_file():
                planes.append(_resized(mask_path, target, "L", Image.BILINEAR) >= 128)
                flags.append(True)
            else:
                planes.append(np.zeros((height, width), bool))
                flags.append(structure in empty_when_missing)
        masks.append(np.stack(planes, axis=-1).astype(np.uint8))
        annotated.append(flags)
    result = SegmentationSet(np.array([r["id"] for r in rows]), np.stack(images), np.stack(masks),
                             np.array(annotated, bool), np.array([r[group_column] for r in rows]))
    if not from_dataset:
        return result
    np.savez(cache, ids=result.ids, images=result.images, masks=result.masks, annotated=result.annotated,
             groups=result.groups)
    return result


def joined(first: SegmentationSet, second: SegmentationSet) -> SegmentationSet:
    """The rows of both sets (same working size and structures)."""
    return SegmentationSet(*(np.concatenate([getattr(first, f), getattr(second, f)])
                             for f in ("ids", "images", "masks", "annotated", "groups")))


def split_by_group(data: SegmentationSet, validation_fraction: float, seed: int) -> tuple[SegmentationSet, SegmentationSet]:
    """Training and validation sets with every group wholly in one of them."""
    groups = np.unique(data.groups)
    rng = np.random.default_rng(seed)
    rng.shuffle(groups)
    validation_groups = set(groups[:max(1, round(len(groups) * validation_fraction))])
    in_validation = np.array([g in validation_groups for g in data.groups])
    return data.subset(np.flatnonzero(~in_validation)), data.subset(np.flatnonzero(in_validation))
