"""Images that are *not* paediatric chest X-rays, to measure how often the refusal fires.

Used only to evaluate (never to fit) the refusal model; each set is read from ``MEDAI_DATA_DIR``
(or generated) and yields the raw bytes an upload would have.
"""

from __future__ import annotations

import io
from typing import Callable, Iterator

import numpy as np
from PIL import Image

from medai import config


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _files(relative: str, limit: int) -> Iterator[bytes]:
    folder = config.data_dir() / "imaging" / relative
    for path in sorted(folder.glob("*"))[:limit]:
        yield path.read_bytes()


def _medmnist(name: str, limit: int) -> Iterator[bytes]:
    path = config.data_dir() / "imaging" / "medmnist" / f"{name}_trainval.npz"
    if path.exists():
        with np.load(path) as stored:
            for image in stored["val_images"][:limit]:
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


def _grey(images: Iterator[bytes]) -> Iterator[bytes]:
    for data in images:
        yield _png(np.asarray(Image.open(io.BytesIO(data)).convert("L")))


OOD_SETS: dict[str, Callable[[], Iterator[bytes]]] = {
    "colonoscopy (Kvasir-SEG)": lambda: _files("segmentation/Kvasir-SEG/images", 300),
    "colonoscopy, made grey": lambda: _grey(_files("segmentation/Kvasir-SEG/images", 300)),
    "retina fundus (CHASE_DB1)": lambda: _files("segmentation/CHASE_DB1/images", 20),
    "retina fundus, made grey": lambda: _grey(_files("segmentation/CHASE_DB1/images", 20)),
    "breast ultrasound (BreastMNIST)": lambda: _medmnist("breastmnist", 78),
    "retina fundus (RetinaMNIST)": lambda: _medmnist("retinamnist", 120),
    "photographs and document scans (scikit-image)": _photographs,
    "photographs, made grey": lambda: _grey(_photographs()),
    "noise and blank images": _synthetic,
}
IN_DISTRIBUTION_CHECKS: dict[str, Callable[[], Iterator[bytes]]] = {
    "adult chest X-rays (COVID-19 CXR segmentations)": lambda: _files(
        "segmentation/covid19_cxr_segmentations/images", 100),
}
