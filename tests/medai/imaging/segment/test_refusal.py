"""What the shipped segmentation models refuse: the kind checks, and which sets a card measures."""

import io
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from medai import config, registry
from medai.imaging.io import read_image
from medai.imaging.segment import refusal
from medai.imaging.segment.model import colour_pixels
from medai.imaging.segment.recipes import RECIPES
from medai.imaging.segment.refusal import kind_check_text, other_kinds
from tests.conftest import REPO, png_bytes

SAMPLES = REPO / "sample_data" / "imaging"
FUNDUS = SAMPLES / "fundus_retina_CHASE_Image_01L.jpg"
CHEST_FILMS = sorted(SAMPLES.glob("cxr_*.jpeg")) + sorted((SAMPLES / "segment").glob("cxr_*.jpg"))
KVASIR = config.data_dir() / "imaging" / "segmentation" / "Kvasir-SEG" / "images"


def _installed(name: str):
    if name not in registry.names():
        pytest.skip(f"{name} is not installed")
    return registry.load(name)


def test_the_polyp_model_refuses_the_fundus_sample_it_once_marked():
    outcome = _installed("colon-polyp").predict_one(read_image(FUNDUS.read_bytes(), keep_colour=True))
    assert outcome.status == "refused" and "does not look like a colonoscopy frame" in outcome.message


@pytest.mark.parametrize("film", CHEST_FILMS, ids=lambda path: path.name)
def test_the_lung_model_accepts_every_chest_sample(film: Path):
    assert _installed("cxr-lungs").predict_one(read_image(film.read_bytes())).status == "ok"


@pytest.mark.skipif(not KVASIR.is_dir(), reason="the shared Kvasir-SEG frames (MEDAI_DATA_DIR) are not available")
def test_the_vessel_model_takes_the_fundus_sample_and_refuses_colonoscopy_frames():
    vessels = _installed("retina-vessels")
    assert vessels.kind_check is not None, "the shipped vessel model carries its kind check"
    assert vessels.kind_check.accepts(colour_pixels(read_image(FUNDUS.read_bytes(), keep_colour=True)))
    frames = [read_image(path.read_bytes(), keep_colour=True) for path in sorted(KVASIR.glob("*.jpg"))[:10]]
    outcomes = [vessels.predict_one(frame) for frame in frames]
    assert all(outcome.status == "refused" for outcome in outcomes)


@pytest.mark.skipif(not KVASIR.is_dir(), reason="the shared Kvasir-SEG frames (MEDAI_DATA_DIR) are not available")
def test_the_lung_model_refuses_grey_colonoscopy_frames():
    lungs = _installed("cxr-lungs")
    frames = [Image.open(path).convert("L") for path in sorted(KVASIR.glob("*.jpg"))[:10]]
    outcomes = [lungs.predict_one(read_image(_png(frame))) for frame in frames]  # grey: the colour rule lets them by
    assert all(outcome.status == "refused" for outcome in outcomes)
    assert all("does not look like a frontal chest X-ray" in outcome.message for outcome in outcomes)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_card_measures_other_kinds_only():
    names = set(other_kinds(RECIPES["colon-polyp"]))
    assert "colonoscopy (Kvasir-SEG)" not in names and "retina fundus (CHASE_DB1)" in names
    assert "retina fundus (CHASE_DB1)" not in other_kinds(RECIPES["retina-vessels"])
    assert "600 images from kermany_cxr/train_224" in kind_check_text(RECIPES["cxr-lungs"])
    assert "RetinaMNIST" in kind_check_text(RECIPES["colon-polyp"])
    vessels = kind_check_text(RECIPES["retina-vessels"])
    assert vessels.startswith("fitted on the training images and the retina fundus (RetinaMNIST train split)")
    assert "colonoscopy (Kvasir-SEG files after the measured 300)" in vessels


def test_a_refused_image_is_pointed_to_a_loaded_model_that_takes_it():
    from medai.imaging.segment.service import models_that_take

    _installed("retina-vessels"), _installed("cxr-lungs")
    assert models_that_take(FUNDUS.read_bytes(), "cxr-lungs") == ["retina-vessels"]
    assert models_that_take(CHEST_FILMS[0].read_bytes(), "retina-vessels") == ["cxr-lungs"]
    assert models_that_take(b"not an image", "cxr-lungs") == []


def test_a_grey_models_refusals_are_measured_on_grey_reads(monkeypatch):
    """Colour reads of a grey model's own and other-kind images would over-state its refusals on the card."""
    colour = np.zeros((64, 64, 3), np.uint8)
    colour[..., 0] = 200
    colour_reads = []

    def predict_one(image):
        colour_reads.append(getattr(image, "rgb", None) is not None)  # a keep_colour read keeps an RGB copy
        return SimpleNamespace(status="ok")

    monkeypatch.setattr(refusal, "_own_files", lambda recipe, ids: [png_bytes(colour)])
    monkeypatch.setattr(refusal, "other_kinds", lambda recipe: {"colour photos": lambda: [png_bytes(colour)]})
    segmenter = SimpleNamespace(predict_one=predict_one, kind_check=None)
    refusal.refusal_report(segmenter, SimpleNamespace(channels=1, dataset="x"), ["a"])
    assert colour_reads == [False, False]
