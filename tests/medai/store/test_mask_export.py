"""Corrected masks from Segment feedback become a training folder that ``train --extra-data`` reads."""

from __future__ import annotations

import base64
import csv
import hashlib
import io

import numpy as np
import pytest
from PIL import Image

from medai import cli
from medai.imaging.segment import fit
from medai.imaging.segment.data import load_set
from medai.store import AuditStore
from tests.conftest import png_bytes

STRUCTURES = ("right_lung", "left_lung", "cardiomediastinum", "ground_glass_opacity", "consolidation")


def _mask_b64(mask: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(mask.astype(np.uint8) * 255).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


@pytest.fixture
def corrected(tmp_path, monkeypatch):
    db_url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    monkeypatch.setenv("MEDAI_DB_URL", db_url)
    film = png_bytes(np.random.default_rng(0).integers(0, 255, (120, 100), dtype=np.uint8))
    store = AuditStore(db_url)
    record = store.record_prediction(user="dr.a", source="ui", model_name="cxr-lungs", model_version="1.0.0",
                                     input_sha256=hashlib.sha256(film).hexdigest(), status="ok")
    working = np.zeros((256, 256), bool)
    working[64:192, 128:224] = True  # the corrected left lung, at the network's working size
    store.record_feedback(record, user="dr.b", verdict="override", corrected_label="left lung base missed",
                          correction={"structure": "left_lung", "mask_png_base64": _mask_b64(working)})
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "film.png").write_bytes(film)
    return store, uploads


def test_export_writes_the_dataset_layout_with_only_the_corrected_structure(corrected, tmp_path):
    store, uploads = corrected
    out = tmp_path / "export"
    assert cli.main(["export-feedback", "--model", "cxr-lungs", "--images", str(uploads), "--output", str(out)]) == 0
    mask_file = next((out / "masks" / "left_lung").glob("*.png"))
    with Image.open(mask_file) as mask:
        assert mask.size == (100, 120) and set(np.unique(np.asarray(mask))) == {0, 255}  # the image's own size
    data = load_set("feedback", STRUCTURES, channels=1, size=64, root=out)
    assert data.images.shape == (1, 64, 64, 1)
    assert data.annotated.tolist() == [[False, True, False, False, False]]  # never "empty" for the others
    assert data.masks[0, ..., 1].mean() == pytest.approx(128 * 96 / 256 ** 2, abs=0.02)
    assert store.events("export.feedback")[0].details["images_written"] == 1


def test_training_folds_the_export_into_the_training_split(corrected, tmp_path, monkeypatch):
    _, uploads = corrected
    out = tmp_path / "export"
    cli.main(["export-feedback", "--model", "cxr-lungs", "--images", str(uploads), "--output", str(out)])
    seen = []

    class Stop(Exception):
        pass

    def fake_fit(recipe, train, epochs):
        seen.append(train)
        raise Stop

    monkeypatch.setattr(fit, "fit_network", fake_fit)
    with pytest.raises(Stop):
        fit.train(tmp_path / "cxr-lungs", extra_data=out)
    assert seen[0].ids[-1].startswith("feedback-") and seen[0].images.shape[1:] == (256, 256, 1)


def test_patch_trained_models_refuse_extra_data(tmp_path, capsys):
    assert cli.main(["train", "retina-vessels", "--extra-data", str(tmp_path)]) == 2
    assert "whole resized images" in capsys.readouterr().err


def test_no_corrected_mask_is_a_plain_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MEDAI_DB_URL", f"sqlite:///{tmp_path / 'empty.sqlite'}")
    assert cli.main(["export-feedback", "--model", "cxr-lungs", "--images", str(tmp_path),
                     "--output", str(tmp_path / "x")]) == 2
    assert "corrected mask" in capsys.readouterr().err


def _lung_record(tmp_path) -> tuple[AuditStore, bytes, int]:
    store = AuditStore(f"sqlite:///{tmp_path / 'masks.sqlite'}")
    film = png_bytes(np.random.default_rng(0).integers(0, 255, (40, 50), dtype=np.uint8))
    record = store.record_prediction(user="dr.a", source="ui", model_name="cxr-lungs", model_version="1.0.0",
                                     input_sha256=hashlib.sha256(film).hexdigest(), status="ok")
    return store, film, record


def test_the_latest_correction_of_a_structure_is_the_one_exported(tmp_path):
    from medai.store.mask_export import corrected_masks

    store, _, record = _lung_record(tmp_path)
    for user, mask in (("dr.b", np.zeros((8, 8), bool)), ("dr.c", np.ones((8, 8), bool))):
        store.record_feedback(record, user=user, verdict="override", corrected_label="lung",
                              correction={"structure": "left_lung", "mask_png_base64": _mask_b64(mask)})
    (masks,) = corrected_masks(store, "cxr-lungs").values()
    assert np.asarray(Image.open(io.BytesIO(masks["left_lung"]))).min() == 255


def test_a_structure_nobody_corrected_is_marked_not_annotated(tmp_path):
    from medai.store.mask_export import write_mask_folder

    _, film, _ = _lung_record(tmp_path)
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "film.png").write_bytes(film)
    mask = base64.b64decode(_mask_b64(np.ones((8, 8), bool)))
    assert write_mask_folder({hashlib.sha256(film).hexdigest(): {"left_lung": mask}}, uploads, tmp_path / "out",
                             ("right_lung", "left_lung")) == 1
    (row,) = csv.DictReader((tmp_path / "out" / "index.csv").open())
    assert (row["right_lung"], row["left_lung"]) == ("0", "1"), "an empty mask would be taught as 'no right lung'"
    assert not (tmp_path / "out" / "masks" / "right_lung").exists()
