"""Every prediction is recorded: who, when, which model and version, and the input's hash.

Nothing that identifies a patient is stored: no file name, no pixels, no DICOM tags — only the
SHA-256 of the input bytes, which lets an auditor match a record to a file they already hold.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from medai import config

VERDICTS = ("agree", "override")


class Base(DeclarativeBase):
    """Declarative base of the audit tables."""


class PredictionRecord(Base):
    """One prediction (or refusal, or error) as it was shown to its user."""

    __tablename__ = "predictions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    user: Mapped[str] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(20))
    model_name: Mapped[str] = mapped_column(String(80))
    model_version: Mapped[str] = mapped_column(String(40))
    input_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20))
    label: Mapped[str | None] = mapped_column(String(80))
    probabilities: Mapped[dict | None] = mapped_column(JSON)
    uncertainty: Mapped[float | None] = mapped_column(Float)


class FeedbackRecord(Base):
    """A clinician's verdict on a prediction: agree, or override with the correct label."""

    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prediction_id: Mapped[int] = mapped_column(ForeignKey("predictions.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    user: Mapped[str] = mapped_column(String(120))
    verdict: Mapped[str] = mapped_column(String(20))
    corrected_label: Mapped[str | None] = mapped_column(String(80))
    comment: Mapped[str | None] = mapped_column(String(2000))


class AuditStore:
    """Append-only access to the audit tables.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy database URL; defaults to :func:`medai.config.db_url` (an SQLite file).
    """

    def __init__(self, url: str | None = None):
        self.url = url or config.db_url()
        if self.url.startswith("sqlite:///") and not self.url.startswith("sqlite:///:memory:"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(self.url)
        Base.metadata.create_all(self.engine)

    def record_prediction(self, *, user: str, source: str, model_name: str, model_version: str,
                          input_sha256: str | None, status: str, label: str | None = None,
                          probabilities: dict[str, float] | None = None,
                          uncertainty: float | None = None) -> int:
        """Store one prediction and return its id."""
        record = PredictionRecord(
            created_at=dt.datetime.now(dt.timezone.utc), user=user or "anonymous", source=source,
            model_name=model_name, model_version=model_version, input_sha256=input_sha256, status=status,
            label=label, probabilities=json.loads(json.dumps(probabilities)) if probabilities else None,
            uncertainty=uncertainty)
        with Session(self.engine) as session, session.begin():
            session.add(record)
            session.flush()
            return record.id

    def record_feedback(self, prediction_id: int, *, user: str, verdict: str,
                        corrected_label: str | None = None, comment: str | None = None) -> int:
        """Store a clinician's verdict on prediction ``prediction_id`` and return its id."""
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}")
        record = FeedbackRecord(prediction_id=prediction_id, created_at=dt.datetime.now(dt.timezone.utc),
                                user=user or "anonymous", verdict=verdict, corrected_label=corrected_label,
                                comment=comment)
        with Session(self.engine) as session, session.begin():
            session.add(record)
            session.flush()
            return record.id

    def recent_predictions(self, limit: int = 50) -> list[PredictionRecord]:
        """The newest predictions first."""
        with Session(self.engine) as session:
            query = select(PredictionRecord).order_by(PredictionRecord.id.desc()).limit(limit)
            return list(session.scalars(query))

    def feedback_for(self, prediction_id: int) -> list[FeedbackRecord]:
        """All feedback on one prediction, oldest first."""
        with Session(self.engine) as session:
            query = select(FeedbackRecord).where(FeedbackRecord.prediction_id == prediction_id)
            return list(session.scalars(query.order_by(FeedbackRecord.id)))

    def feedback_counts(self) -> dict[int, int]:
        """Number of feedback entries per prediction id (predictions without feedback are absent)."""
        with Session(self.engine) as session:
            query = select(FeedbackRecord.prediction_id, func.count()).group_by(FeedbackRecord.prediction_id)
            return {prediction_id: count for prediction_id, count in session.execute(query)}
