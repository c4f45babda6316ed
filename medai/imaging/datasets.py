"""Training data for the chest X-ray model: file listing, patient grouping, split and cache.

Reads the Kermany et al. (2018) chest X-rays from ``MEDAI_DATA_DIR/imaging/kermany_cxr``. Where that
folder is missing and a network is available, ``python -m medai download chest-xray`` fetches the
official archive and makes the squashed training copies (:func:`download_kermany`).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupShuffleSplit

from medai import config
from medai.errors import DataNotFoundError
from medai.imaging.io import read_image
from medai.imaging.preprocess import squash, to_unit_uint8

LABELS = ("normal", "pneumonia")
KERMANY_URL = "https://data.mendeley.com/public-files/datasets/rscbjbr9sj/files/f12eaf6d-6023-432f-acc9-80c9d7393433/file_downloaded"
_PATIENT_PATTERNS = (re.compile(r"^(person\d+)_"), re.compile(r"^((?:NORMAL2-)?IM-\d+)-"))


@dataclass(frozen=True)
class ImageSet:
    """Decoded images with labels and patient groups.

    Attributes
    ----------
    images : np.ndarray
        (N, size, size) uint8 grey images.
    labels : np.ndarray
        (N,) int8, index into ``LABELS``.
    groups : np.ndarray
        (N,) str patient identifier (``personN`` or the ``IM-xxxx`` study number).
    files : np.ndarray
        (N,) str file names.
    """

    images: np.ndarray
    labels: np.ndarray
    groups: np.ndarray
    files: np.ndarray

    def subset(self, index: np.ndarray) -> "ImageSet":
        """Rows ``index`` of every array."""
        return ImageSet(self.images[index], self.labels[index], self.groups[index], self.files[index])


def kermany_root() -> Path:
    """Folder of the Kermany data; raises :class:`DataNotFoundError` when it is absent."""
    root = config.data_dir() / "imaging" / "kermany_cxr"
    if not (root / "train_224").is_dir():
        raise DataNotFoundError(
            f"No chest X-ray training data under {root}. Set MEDAI_DATA_DIR, or fetch it with "
            "'python -m medai download chest-xray'."
        )
    return root


def patient_group(file_name: str) -> str:
    """Patient key of a Kermany file name: ``personN`` for pneumonia, the study number for normals."""
    for pattern in _PATIENT_PATTERNS:
        match = pattern.match(file_name)
        if match:
            return match.group(1)
    return file_name


def list_training_files(root: Path) -> list[tuple[Path, int]]:
    """(path, label index) for every training JPEG, in a stable order."""
    pairs = []
    for label_index, folder in enumerate(("NORMAL", "PNEUMONIA")):
        pairs += [(path, label_index) for path in sorted((root / "train_224" / folder).glob("*.jpeg"))]
    return pairs


def load_training_set(size: int) -> ImageSet:
    """Decode (once, then from the cache) every training image at ``size`` x ``size``."""
    cache = config.cache_dir() / f"kermany_train_{size}.npz"
    if cache.exists():
        with np.load(cache) as stored:
            return ImageSet(stored["images"], stored["labels"], stored["groups"], stored["files"])
    pairs = list_training_files(kermany_root())
    images = np.stack([
        np.rint(squash(read_image(path.read_bytes()).pixels, size) * 255).astype(np.uint8) for path, _ in pairs
    ])
    labels = np.array([label for _, label in pairs], dtype=np.int8)
    files = np.array([path.name for path, _ in pairs])
    groups = np.array([patient_group(name) for name in files])
    np.savez_compressed(cache, images=images, labels=labels, groups=groups, files=files)
    return ImageSet(images, labels, groups, files)


def load_extra_set(folder: Path, size: int) -> ImageSet:
    """Decode a feedback export written by :func:`medai.store.reports.write_training_folder`.

    ``folder/train_224/<NORMAL|PNEUMONIA>/*.jpeg``, as ``train_224`` is laid out; each file is its own
    group (the store keeps no patient key), so it can only join the training split.

    Raises
    ------
    DataNotFoundError
        The folder holds no image in that layout.
    """
    pairs = list_training_files(folder)
    if not pairs:
        raise DataNotFoundError(f"No images under {folder}/train_224/NORMAL or PNEUMONIA; write the folder with "
                                "'python -m medai export-feedback' first.")
    images = np.stack([np.rint(squash(read_image(path.read_bytes()).pixels, size) * 255).astype(np.uint8)
                       for path, _ in pairs])
    files = np.array([path.name for path, _ in pairs])
    return ImageSet(images, np.array([label for _, label in pairs], dtype=np.int8), files.copy(), files)


def joined(first: ImageSet, second: ImageSet) -> ImageSet:
    """The rows of both sets."""
    return ImageSet(*(np.concatenate([a, b]) for a, b in
                      zip((first.images, first.labels, first.groups, first.files),
                          (second.images, second.labels, second.groups, second.files))))


def split_by_patient(data: ImageSet, validation_fraction: float, seed: int) -> tuple[ImageSet, ImageSet]:
    """Split so that no patient has images on both sides."""
    splitter = GroupShuffleSplit(n_splits=1, test_size=validation_fraction, random_state=seed)
    train_index, validation_index = next(splitter.split(data.images, data.labels, data.groups))
    return data.subset(train_index), data.subset(validation_index)


def load_full_resolution_samples() -> list[tuple[Path, int]]:
    """(path, label index) of the original full-resolution JPEGs in ``full_res_samples``."""
    root = kermany_root() / "full_res_samples"
    return [(path, index) for index, folder in enumerate(("NORMAL", "PNEUMONIA"))
            for path in sorted((root / folder).glob("*.jpeg"))]


def download_kermany(destination: Path, url: str = KERMANY_URL) -> dict[str, str]:
    """Fetch the official ChestXRay2017 archive (about 1.2 GB) and make ``train_224`` from its training set.

    Each training JPEG is made grey and squashed to 224 x 224 with bicubic resampling, as the copies this
    project trained on were (:func:`squash`), and saved at JPEG quality 95 under
    ``destination/imaging/kermany_cxr/train_224/<NORMAL|PNEUMONIA>``; the archive's test set stays in the
    archive. Mendeley re-issues the archive now and then, so no SHA-256
    is pinned: the one returned is what was fetched.

    Returns
    -------
    dict of str to str
        The archive's path relative to ``destination``, and its SHA-256.
    """
    from medai.downloads import fetch

    root = destination / "imaging" / "kermany_cxr"
    archive = root / "ChestXRay2017.zip"
    digest = fetch(url, archive)
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.namelist():
            parts = Path(member).parts
            if len(parts) >= 3 and parts[-3] == "train" and parts[-2] in ("NORMAL", "PNEUMONIA") \
                    and member.lower().endswith(".jpeg"):
                pixels = squash(read_image(bundle.read(member)).pixels, 224)
                target = root / "train_224" / parts[-2] / parts[-1]
                target.parent.mkdir(parents=True, exist_ok=True)
                to_unit_uint8(pixels).save(target, quality=95)
    return {str(archive.relative_to(destination)): digest}
