"""``python -m medai export-feedback`` and ``train --extra-data``: reviewed images flow back into training."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from medai import cli
from medai.imaging import train_cxr
from medai.imaging.datasets import joined, load_extra_set
from medai.store import AuditStore
from tests.conftest import png_bytes


def _reviewed_uploads(tmp_path, db_url: str):
    rng = np.random.default_rng(1)
    images = [png_bytes(rng.integers(0, 255, (64, 80), dtype=np.uint8)) for _ in range(3)]
    store = AuditStore(db_url)
    for index, data in enumerate(images):
        record = store.record_prediction(user="dr.a", source="ui", model_name="cxr-pneumonia", model_version="1.1.0",
                                         input_sha256=hashlib.sha256(data).hexdigest(), status="ok",
                                         label="pneumonia")
        if index < 2:  # the third was never reviewed: it must not be exported
            store.record_feedback(record, user="dr.b", verdict="override" if index else "agree",
                                  corrected_label="normal" if index else None)
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    for index, data in enumerate(images):
        (uploads / f"film{index}.png").write_bytes(data)
    return store, uploads


def test_export_writes_reviewed_images_by_label_and_is_logged(tmp_path, monkeypatch, capsys):
    db_url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    monkeypatch.setenv("MEDAI_DB_URL", db_url)
    store, uploads = _reviewed_uploads(tmp_path, db_url)
    out = tmp_path / "export"
    assert cli.main(["export-feedback", "--images", str(uploads), "--output", str(out), "--user", "admin"]) == 0
    assert "--extra-data" in capsys.readouterr().out
    extra = load_extra_set(out, 32)
    assert sorted(extra.labels.tolist()) == [0, 1] and extra.images.shape == (2, 32, 32)
    assert (out / "feedback.csv").is_file()
    events = store.events("export.feedback")
    assert len(events) == 1 and events[0].details["images_written"] == 2


def test_export_with_no_matching_files_says_so(tmp_path, monkeypatch, capsys):
    db_url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    monkeypatch.setenv("MEDAI_DB_URL", db_url)
    _reviewed_uploads(tmp_path, db_url)
    empty = tmp_path / "other"
    empty.mkdir()
    assert cli.main(["export-feedback", "--images", str(empty), "--output", str(tmp_path / "x")]) == 2
    assert "matches a reviewed prediction" in capsys.readouterr().err


def test_train_passes_extra_data_to_every_member(tmp_path, monkeypatch):
    folder = tmp_path / "export"
    (folder / "train_224" / "NORMAL").mkdir(parents=True)
    seen = []

    class Stop(Exception):
        pass

    def fake_member(out_path, seed, epochs, extra_data=None):
        seen.append(extra_data)
        raise Stop

    monkeypatch.setattr(train_cxr, "train_member", fake_member)
    with pytest.raises(Stop):
        cli.main(["train", "cxr-pneumonia", "--extra-data", str(folder)])
    assert seen == [folder]


def test_train_refuses_extra_data_a_trainer_cannot_use(capsys, tmp_path):
    assert cli.main(["train", "icu-survival", "--extra-data", str(tmp_path)]) == 2
    assert "does not take --extra-data" in capsys.readouterr().err


def test_feedback_images_join_the_training_rows(tmp_path):
    from medai.imaging.datasets import ImageSet

    first = ImageSet(np.zeros((2, 4, 4), np.uint8), np.array([0, 1], np.int8), np.array(["a", "b"]), np.array(["a", "b"]))
    both = joined(first, first)
    assert both.images.shape == (4, 4, 4) and both.labels.tolist() == [0, 1, 0, 1]
