"""Admin reports: feedback statistics, the labelled feedback export and its join to files, database health."""

from __future__ import annotations

import hashlib

import numpy as np

from medai.imaging.datasets import list_training_files
from medai.store import AuditStore, reports
from tests.conftest import png_bytes


def _seed(store: AuditStore, images: list[bytes]) -> list[int]:
    ids = []
    for index, data in enumerate(images):
        ids.append(store.record_prediction(
            user="dr.a", source="ui", model_name="cxr-pneumonia", model_version="1.1.0",
            input_sha256=hashlib.sha256(data).hexdigest(), status="ok", label="pneumonia" if index % 2 else "normal",
            weights_sha256="ab" * 32))
    store.record_prediction(user="chem", source="cli", model_name="drug-solubility", model_version="1.0.0",
                            input_sha256="cd" * 32, status="ok", label="2 valid of 2 molecules")
    store.record_prediction(user="dr.a", source="ui", model_name="cxr-pneumonia", model_version="1.0.0",
                            input_sha256="ef" * 32, status="refused", label=None)  # nothing a reader can review
    store.record_feedback(ids[0], user="dr.b", verdict="agree")                                # normal
    store.record_feedback(ids[1], user="dr.b", verdict="override", corrected_label="normal")   # pneumonia → normal
    store.record_feedback(ids[1], user="dr.c", verdict="agree")                                # disagrees: pneumonia
    store.record_feedback(ids[2], user="dr.c", verdict="override", corrected_label="pneumonia")
    return ids


def test_statistics_count_predictions_reviews_and_verdicts(db_url):
    store = AuditStore(db_url)
    _seed(store, [b"a", b"b", b"c", b"d"])
    table = reports.feedback_statistics(store).set_index("model")
    assert table.loc["cxr-pneumonia", ["predictions", "refused or failed", "reviewed", "agree", "override"]
                     ].tolist() == [4, 1, 3, 2, 2]
    assert table.loc["cxr-pneumonia", "override share"] == 0.5
    assert table.loc["drug-solubility", "reviewed"] == 0


def test_a_flagged_result_counts_as_answered(db_url):
    """An ICU risk flagged "read with care" still carries its figure for a reader to review."""
    store = AuditStore(db_url)
    for status in ("ok", "flagged", "flagged", "error"):
        store.record_prediction(user="dr.a", source="ui", model_name="icu-mortality", model_version="1.0.0",
                                input_sha256="ab" * 32, status=status, label=None)
    row = reports.feedback_statistics(store).set_index("model").loc["icu-mortality"]
    assert (row["predictions"], row["refused or failed"]) == (3, 1)


def test_export_is_a_labelled_dataset_that_joins_to_the_users_files(db_url, tmp_path):
    images = [png_bytes(np.full((40, 40), value, np.uint8)) for value in (10, 60, 110, 160)]
    store = AuditStore(db_url)
    ids = _seed(store, images)
    export = reports.feedback_dataset(store, "cxr-pneumonia")
    assert list(export.columns) == reports.EXPORT_COLUMNS
    assert export["prediction_id"].tolist() == ids[:3]
    assert export["label"].tolist() == ["normal", "pneumonia", "pneumonia"]  # latest verdict wins
    assert export["unanimous"].tolist() == [True, False, True] and export["reviewers"].tolist() == [1, 2, 1]
    folder = tmp_path / "uploads"
    (folder / "sub").mkdir(parents=True)
    for index, data in enumerate(images):
        (folder / ("sub" if index else "") / f"film{index}.png").write_bytes(data)
    joined = reports.join_images(export, folder)
    assert sorted((path.name, label) for path, label in joined) == [
        ("film0.png", "normal"), ("film1.png", "pneumonia"), ("film2.png", "pneumonia")]


def test_the_export_becomes_a_training_folder_the_trainer_lists(tmp_path):
    rng = np.random.default_rng(0)
    images = [png_bytes(rng.integers(0, 255, (64, 80), dtype=np.uint8)) for _ in range(4)]
    store = AuditStore(f"sqlite:///{tmp_path / 'e.sqlite'}")
    _seed(store, images)
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    for index, data in enumerate(images):
        (uploads / f"film{index}.png").write_bytes(data)
    export = reports.feedback_dataset(store, "cxr-pneumonia")
    written = reports.write_training_folder(export, uploads, tmp_path / "extra", ("normal", "pneumonia"))
    assert written == {"normal": 1, "pneumonia": 2}
    # A stored label is typed text: one that is not the model's is left out, never followed as a path.
    export.loc[export["label"] == "normal", "label"] = "../../escaped"
    written = reports.write_training_folder(export, uploads, tmp_path / "again", ("normal", "pneumonia"))
    assert written == {"pneumonia": 2} and not (tmp_path / "ESCAPED").exists()
    listed = list_training_files(tmp_path / "extra")
    assert sorted(label for _, label in listed) == [0, 1, 1]  # NORMAL = 0, PNEUMONIA = 1, as the trainer reads
    assert all(path.name.startswith("feedback-") for path, _ in listed)


def test_health_masks_the_password_and_reports_revision_and_rows(postgres_server, postgres_url):
    url = postgres_url.replace("medai@", "medai:s3cret-pw@")  # trust authentication ignores it
    store = AuditStore(url)
    _seed(store, [b"a", b"b", b"c"])
    store.record_event("sign-in", user="dr.a")
    health = reports.health(store)
    assert "s3cret-pw" not in health.url and "***" in health.url and health.backend == "postgresql"
    assert health.up_to_date and health.revision == "0003"
    assert health.rows == {"predictions": 5, "feedback": 4, "audit_events": 1}


def test_a_password_is_masked_wherever_the_url_carries_it():
    from medai.store.engine import masked

    assert masked("postgresql+psycopg://medai:S3cret@db/medai") == "postgresql+psycopg://medai:***@db/medai"
    assert masked("postgresql+psycopg://medai@db/medai?password=S3cret&sslmode=require") == (
        "postgresql+psycopg://medai@db/medai?password=***&sslmode=require")
    assert masked("postgresql+psycopg://medai:S3c@ret@db/medai") == "postgresql+psycopg://…"  # "@" not encoded
    assert "S3cret" not in masked("postgresql+psycopg://medai@db/medai?PASSWORD=S3cret")
    assert masked("sqlite:///var/medai.sqlite") == "sqlite:///var/medai.sqlite"
