"""What the Admin page shows of the audit store: feedback statistics, the feedback export, health.

The feedback export is a labelled dataset: one row per reviewed prediction, the image named by its
SHA-256 (the store keeps no images), with the label the reviewers settled on. A training run can use
it only together with the image files themselves: hash each file the user supplies and join on
``input_sha256`` (:func:`join_images`); :func:`write_training_folder` then writes the matched images in
the layout the chest X-ray trainer reads (``train_224/<LABEL>/*.jpeg``, 224 x 224 grey JPEGs).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from sqlalchemy import func, select

from medai.store import schema
from medai.store.audit import AuditStore
from medai.store.models import AuditEvent, FeedbackRecord, PredictionRecord

if TYPE_CHECKING:
    import pandas as pd

# A flagged result (the ICU models' "read with care") still carries its figure for a reader to review.
ANSWERED_STATUSES = frozenset({"ok", "flagged"})
EXPORT_COLUMNS = ["input_sha256", "label", "predicted_label", "verdict", "reviewers", "unanimous", "model",
                  "model_version", "weights_sha256", "prediction_id", "reviewed_at (UTC)"]
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".dcm", ".dicom")
TRAINING_SIDE_PX = 224


@dataclass(frozen=True)
class Health:
    """The database at a glance.

    Attributes
    ----------
    url : str
        Connection URL with the password masked.
    backend : str
        ``"sqlite"`` or ``"postgresql"``.
    revision, head : str or None
        The migration the database is at, and the newest one shipped.
    rows : dict
        Table name → row count.
    """

    url: str
    backend: str
    revision: str | None
    head: str
    rows: dict[str, int]

    @property
    def up_to_date(self) -> bool:
        """Whether the database is at the newest migration."""
        return self.revision == self.head


def health(store: AuditStore) -> Health:
    """URL (masked), backend, migration revision and row counts of the store's database."""
    tables = {"predictions": PredictionRecord, "feedback": FeedbackRecord, "audit_events": AuditEvent}
    with store.reading("row counts") as session:
        rows = {name: session.scalar(select(func.count()).select_from(model)) or 0 for name, model in tables.items()}
    return Health(store.masked_url, store.engine.dialect.name, schema.current_revision(store.engine),
                  schema.head_revision(), rows)


def feedback_statistics(store: AuditStore) -> pd.DataFrame:
    """Per model: answered predictions (those a reader can review: ``ANSWERED_STATUSES``), refused or failed
    ones, reviewed predictions, agree and override verdicts, override share.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``predictions``, ``refused or failed``, ``reviewed``, ``agree``, ``override``,
        ``override share``; one row per model seen in the log, sorted by name.
    """
    import pandas as pd

    with store.reading("feedback statistics") as session:
        by_status = session.execute(select(PredictionRecord.model_name, PredictionRecord.status, func.count())
                                    .group_by(PredictionRecord.model_name, PredictionRecord.status)).all()
        reviewed = dict(session.execute(
            select(PredictionRecord.model_name, func.count(func.distinct(FeedbackRecord.prediction_id)))
            .join(PredictionRecord, PredictionRecord.id == FeedbackRecord.prediction_id)
            .group_by(PredictionRecord.model_name)).all())
        verdicts = session.execute(
            select(PredictionRecord.model_name, FeedbackRecord.verdict, func.count())
            .join(PredictionRecord, PredictionRecord.id == FeedbackRecord.prediction_id)
            .group_by(PredictionRecord.model_name, FeedbackRecord.verdict)).all()
    counts = {(model, verdict): count for model, verdict, count in verdicts}
    answered: dict[tuple[str, bool], int] = {}
    for model, status, count in by_status:
        key = (model, status in ANSWERED_STATUSES)
        answered[key] = answered.get(key, 0) + count
    rows = []
    for model in sorted({model for model, _ in answered}):
        agree, override = counts.get((model, "agree"), 0), counts.get((model, "override"), 0)
        rows.append({"model": model, "predictions": answered.get((model, True), 0),
                     "refused or failed": answered.get((model, False), 0), "reviewed": reviewed.get(model, 0),
                     "agree": agree, "override": override,
                     "override share": override / (agree + override) if agree + override else None})
    return pd.DataFrame(rows, columns=["model", "predictions", "refused or failed", "reviewed", "agree", "override",
                                       "override share"])


def feedback_dataset(store: AuditStore, model_name: str) -> pd.DataFrame:
    """The reviewed predictions of one model as a labelled dataset (``EXPORT_COLUMNS``), oldest first.

    ``label`` is the latest verdict's: the corrected label of an override, the predicted label of
    an agreement. ``unanimous`` says whether every reviewer's verdict gives that same label;
    predictions without an input hash or a label to give are left out.
    """
    import pandas as pd

    with store.reading("feedback export") as session:
        pairs = session.execute(
            select(PredictionRecord, FeedbackRecord)
            .join(FeedbackRecord, FeedbackRecord.prediction_id == PredictionRecord.id)
            .where(PredictionRecord.model_name == model_name, PredictionRecord.input_sha256.is_not(None))
            .order_by(PredictionRecord.id, FeedbackRecord.created_at, FeedbackRecord.id)).all()
    grouped: dict[int, tuple[PredictionRecord, list[FeedbackRecord]]] = {}
    for prediction, verdict in pairs:
        grouped.setdefault(prediction.id, (prediction, []))[1].append(verdict)
    rows = []
    for prediction, verdicts in grouped.values():
        labels = [_label_of(prediction, verdict) for verdict in verdicts]
        latest = verdicts[-1]
        if labels[-1] is None:
            continue
        rows.append({"input_sha256": prediction.input_sha256, "label": labels[-1],
                     "predicted_label": prediction.label, "verdict": latest.verdict, "reviewers": len(verdicts),
                     "unanimous": len(set(labels)) == 1, "model": prediction.model_name,
                     "model_version": prediction.model_version, "weights_sha256": prediction.weights_sha256,
                     "prediction_id": prediction.id, "reviewed_at (UTC)": latest.created_at})
    return pd.DataFrame(rows, columns=EXPORT_COLUMNS)


def hashed_files(folder: Path, suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> list[tuple[Path, str]]:
    """(file, SHA-256) of every file under ``folder`` with one of ``suffixes``, sorted by path."""
    return [(path, hashlib.sha256(path.read_bytes()).hexdigest()) for path in sorted(folder.rglob("*"))
            if path.is_file() and path.suffix.lower() in suffixes]


def join_images(export: pd.DataFrame, folder: Path) -> list[tuple[Path, str]]:
    """(file, label) for every image under ``folder`` whose SHA-256 appears in a feedback export.

    This is how the export becomes training data: the store holds only hashes, so the images must
    come from the user (the same files that were uploaded).
    """
    labels = dict(zip(export["input_sha256"], export["label"]))
    return [(path, labels[digest]) for path, digest in hashed_files(folder) if digest in labels]


def write_training_folder(export: pd.DataFrame, uploads: Path, destination: Path,
                          labels: Sequence[str]) -> dict[str, int]:
    """Write the exported images found under ``uploads`` whose label is one of the model's ``labels`` as
    ``destination/train_224/<LABEL>/`` (a stored label is typed text, never a path to follow).

    Each image is read as the app reads it (DICOM de-identified, pixels only), squashed to 224 x 224
    as ``train_224`` was made, and saved as a grey JPEG named by its input SHA-256: the layout of
    :func:`medai.imaging.datasets.list_training_files`. Nothing but pixels and the label is written.

    Returns
    -------
    dict
        Label → number of images written.
    """
    import numpy as np
    from PIL import Image

    from medai.imaging.io import read_image
    from medai.imaging.preprocess import squash

    written: dict[str, int] = {}
    for path, label in join_images(export[export["label"].isin(labels)], uploads):
        data = path.read_bytes()
        pixels = squash(read_image(data).pixels, TRAINING_SIDE_PX)
        folder = destination / "train_224" / label.upper()
        folder.mkdir(parents=True, exist_ok=True)
        grey = Image.fromarray(np.rint(np.clip(pixels, 0, 1) * 255).astype(np.uint8))
        grey.save(folder / f"feedback-{hashlib.sha256(data).hexdigest()[:24]}.jpeg", quality=95)
        written[label] = written.get(label, 0) + 1
    return written


def _label_of(prediction: PredictionRecord, verdict: FeedbackRecord) -> str | None:
    return verdict.corrected_label if verdict.verdict == "override" else prediction.label
