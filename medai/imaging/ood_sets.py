"""Image sets for fitting and checking the refusal model, as the raw bytes an upload would have.

* ``OOD_SETS``: images that are not chest X-rays, only ever used to *measure* refusal;
* ``DETECTOR_NEGATIVES``: other images of the same kinds (other files, the MedMNIST train split, other
  noise seeds), used to *fit* the chest X-ray detector, never to measure it;
* ``KIND_NEGATIVES``: the same for the colour segmentation models' kind check, and
  ``FUNDUS_POSITIVES`` / ``FUNDUS_NEGATIVES`` for the fundus model's;
* :func:`adult_chest_xrays`: the adult COVID-19 CXR films, split by patient into a half that fits the
  detectors and a held-back half that measures them.

Each set is read from ``MEDAI_DATA_DIR`` (or generated).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from PIL import Image
from sklearn.model_selection import GroupShuffleSplit

from medai import config


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


ADULT_CXR_FOLDER = "segmentation/covid19_cxr_segmentations"
ADULT_SPLIT_SEED = 0
KVASIR_IMAGES = "segmentation/Kvasir-SEG/images"
KVASIR_MEASURED = 300


def _files(relative: str, stop: int, start: int = 0) -> Iterator[bytes]:
    folder = config.data_dir() / "imaging" / relative
    for path in sorted(folder.glob("*"))[start:stop]:
        yield path.read_bytes()


def _medmnist(name: str, limit: int, split: str = "val") -> Iterator[bytes]:
    path = config.data_dir() / "imaging" / "medmnist" / f"{name}_trainval.npz"
    if path.exists():
        with np.load(path) as stored:
            for image in stored[f"{split}_images"][:limit]:
                yield _png(np.asarray(Image.fromarray(image).resize((224, 224), Image.BICUBIC)))


def _photographs() -> Iterator[bytes]:
    import skimage.data

    for name in ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "moon", "page", "text",
                 "horse", "brick", "grass", "gravel", "clock", "hubble_deep_field", "immunohistochemistry",
                 "cat", "logo", "retina", "shepp_logan_phantom"):
        image = np.asarray(getattr(skimage.data, name)())
        if image.dtype == bool:
            image = image.astype(np.uint8) * 255
        elif image.dtype != np.uint8:
            image = np.rint(255 * (image - image.min()) / max(float(np.ptp(image)), 1e-9)).astype(np.uint8)
        yield _png(image[..., :3] if image.ndim == 3 else image)


def _synthetic() -> Iterator[bytes]:
    generator = np.random.default_rng(0)
    for _ in range(10):
        yield _png(generator.integers(0, 256, (512, 512), dtype=np.uint8))
        coarse = Image.fromarray(generator.integers(0, 256, (16, 16), dtype=np.uint8))
        yield _png(np.asarray(coarse.resize((512, 512), Image.BICUBIC)))
    for value in (0, 128, 255):
        yield _png(np.full((512, 512), value, np.uint8))


def _other_photographs() -> Iterator[bytes]:
    """scikit-image pictures that are not in the measured photograph set: 200 faces (LFW), a few others."""
    import skimage.data

    for face in skimage.data.lfw_subset():  # (25, 25) floats in [0, 1]
        yield _png(np.asarray(Image.fromarray(np.uint8(np.rint(face * 255))).resize((224, 224), Image.BICUBIC)))
    for name in ("motorcycle_left.png", "cell.png", "chessboard_GRAY.png", "color.png"):
        yield _png(np.asarray(Image.open(Path(skimage.data.data_dir) / name)))


def _fitting_noise() -> Iterator[bytes]:
    generator = np.random.default_rng(1)
    for _ in range(40):
        yield _png(generator.integers(0, 256, (384, 384), dtype=np.uint8))
        side = int(generator.integers(4, 40))
        coarse = Image.fromarray(generator.integers(0, 256, (side, side), dtype=np.uint8))
        yield _png(np.asarray(coarse.resize((384, 384), Image.BICUBIC)))


def _grey(images: Iterator[bytes]) -> Iterator[bytes]:
    for data in images:
        yield _png(np.asarray(Image.open(io.BytesIO(data)).convert("L")))


OOD_SETS: dict[str, Callable[[], Iterator[bytes]]] = {
    "colonoscopy (Kvasir-SEG)": lambda: _files(KVASIR_IMAGES, KVASIR_MEASURED),
    "colonoscopy, made grey": lambda: _grey(_files(KVASIR_IMAGES, KVASIR_MEASURED)),
    "retina fundus (CHASE_DB1)": lambda: _files("segmentation/CHASE_DB1/images", 20),
    "retina fundus, made grey": lambda: _grey(_files("segmentation/CHASE_DB1/images", 20)),
    "breast ultrasound (BreastMNIST)": lambda: _medmnist("breastmnist", 78),
    "retina fundus (RetinaMNIST)": lambda: _medmnist("retinamnist", 120),
    "photographs and document scans (scikit-image)": _photographs,
    "photographs, made grey": lambda: _grey(_photographs()),
    "noise and blank images": _synthetic,
}
DETECTOR_NEGATIVES: dict[str, Callable[[], Iterator[bytes]]] = {
    "colonoscopy, made grey (Kvasir-SEG files after the measured 300)": lambda: _grey(
        _files(KVASIR_IMAGES, 1000, KVASIR_MEASURED)),
    "breast ultrasound (BreastMNIST train split)": lambda: _medmnist("breastmnist", 546, "train"),
    "retina fundus, made grey (RetinaMNIST train split)": lambda: _grey(_medmnist("retinamnist", 600, "train")),
    "photographs, made grey (LFW faces and other scikit-image files)": lambda: _grey(_other_photographs()),
    "noise (other seeds and sizes)": _fitting_noise,
}

# Other kinds of colour image, to fit a colour segmentation model's kind check (medai.imaging.segment.kind);
# it is measured on OOD_SETS, whose fundus photographs come from another source (CHASE_DB1) and size.
KIND_NEGATIVES: dict[str, Callable[[], Iterator[bytes]]] = {
    "retina fundus (RetinaMNIST train split)": lambda: _medmnist("retinamnist", 600, "train"),
    "photographs (LFW faces and other scikit-image files)": _other_photographs,
    "noise (other seeds and sizes)": _fitting_noise,
}
# The fundus (vessel) model's kind check fits on more fundus photographs from another camera and size,
# against colour images of other kinds: colonoscopy frames beyond the measured ones, photographs, noise.
FUNDUS_POSITIVES: dict[str, Callable[[], Iterator[bytes]]] = {
    "retina fundus (RetinaMNIST train split)": KIND_NEGATIVES["retina fundus (RetinaMNIST train split)"],
}
FUNDUS_NEGATIVES: dict[str, Callable[[], Iterator[bytes]]] = {
    "colonoscopy (Kvasir-SEG files after the measured 300)": lambda: _files(KVASIR_IMAGES, 1000, KVASIR_MEASURED),
    "photographs (LFW faces and other scikit-image files)": _other_photographs,
    "noise (other seeds and sizes)": _fitting_noise,
}


def adult_chest_xrays() -> tuple[list[bytes], list[bytes], int]:
    """The adult COVID-19 CXR films split by ``patientid`` into halves.

    Returns
    -------
    fit, held_back : list of bytes
        File contents of the two halves (``GroupShuffleSplit(test_size=0.5, random_state=0)``).
    held_back_patients : int
        Number of patients in the held-back half.
    """
    folder = config.data_dir() / "imaging" / ADULT_CXR_FOLDER
    with open(folder / "index.csv", newline="") as index:
        rows = list(csv.DictReader(index))
    patients = np.array([row["patientid"] for row in rows])
    fit, held_back = next(GroupShuffleSplit(1, test_size=0.5, random_state=ADULT_SPLIT_SEED)
                          .split(patients, groups=patients))
    files = [(folder / row["image_file"]).read_bytes() for row in rows]
    return [files[i] for i in fit], [files[i] for i in held_back], len(set(patients[held_back]))
