"""Every prediction is recorded: who, when, which model and version, and the input's hash.

Nothing that identifies a patient is stored: no file name, no pixels, no DICOM tags — only the
SHA-256 of the input bytes, which lets an auditor match a record to a file they already hold.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, create_engine, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from medai import config
from medai.store.redact import redact_identifiers

if TYPE_CHECKING:
    import pandas as pd

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
    """A clinician's verdict on a prediction: agree, or override with the correct label.

    One row per prediction and user; ``created_at`` is when the verdict was last saved, and
    ``comment`` has been through :func:`medai.store.redact.redact_identifiers`.
    """

    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prediction_id: Mapped[int] = mapped_column(ForeignKey("predictions.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    user: Mapped[str] = mapped_column(String(120))
    verdict: Mapped[str] = mapped_column(String(20))
    corrected_label: Mapped[str | None] = mapped_column(String(80))
    comment: Mapped[str | None] = mapped_column(String(2000))


class AuditStore:
    """Access to the audit tables: predictions are only appended; feedback is one row per user.

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
        """Store a clinician's verdict on prediction ``prediction_id``; return the feedback id.

        One verdict per user and prediction: saving again updates that row (and its time) instead
        of adding another. The comment is passed through :func:`redact_identifiers` first.

        Raises
        ------
        ValueError
            ``verdict`` is not one of ``VERDICTS``.
        """
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}")
        values = {
            "created_at": dt.datetime.now(dt.timezone.utc), "verdict": verdict,
            "corrected_label": corrected_label if verdict == "override" else None,
            "comment": redact_identifiers(comment.strip()) if comment and comment.strip() else None,
        }
        user = user or "anonymous"
        with Session(self.engine) as session, session.begin():
            query = (select(FeedbackRecord)
                     .where(FeedbackRecord.prediction_id == prediction_id, FeedbackRecord.user == user)
                     .order_by(FeedbackRecord.id.desc()).limit(1))
            record = session.scalars(query).first()
            if record is None:
                record = FeedbackRecord(prediction_id=prediction_id, user=user, **values)
                session.add(record)
            else:
                for name, value in values.items():
                    setattr(record, name, value)
            session.flush()
            return record.id

    def latest_feedback(self, prediction_id: int, user: str | None = None) -> FeedbackRecord | None:
        """The most recently saved verdict on a prediction (by ``user``, if given), or ``None``."""
        with Session(self.engine) as session:
            query = select(FeedbackRecord).where(FeedbackRecord.prediction_id == prediction_id)
            if user is not None:
                query = query.where(FeedbackRecord.user == (user or "anonymous"))
            query = query.order_by(FeedbackRecord.created_at.desc(), FeedbackRecord.id.desc()).limit(1)
            return session.scalars(query).first()

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

    def filter_choices(self) -> dict[str, list[str]]:
        """The distinct users, model names and statuses in the log, sorted: the options of the filters."""
        columns = {"user": PredictionRecord.user, "model_name": PredictionRecord.model_name,
                   "status": PredictionRecord.status}
        with Session(self.engine) as session:
            return {name: list(session.scalars(select(column).distinct().order_by(column)))
                    for name, column in columns.items()}

    def prediction_table(self, *, user: str | None = None, model_name: str | None = None,
                         status: str | None = None, since: dt.date | dt.datetime | None = None,
                         until: dt.date | dt.datetime | None = None, limit: int = 1000) -> pd.DataFrame:
        """Predictions with their latest feedback, newest first, as the audit page and its CSV show them.

        Parameters
        ----------
        user, model_name, status : str, optional
            Keep only records that match exactly; ``None`` keeps all.
        since, until : datetime.date or datetime.datetime, optional
            Keep records from ``since`` up to ``until``, both inclusive; a date ``until`` covers the
            whole day. Times are UTC (a naive datetime is taken as UTC).
        limit : int
            At most this many records, the newest.

        Returns
        -------
        pandas.DataFrame
            One row per prediction: ``id``, ``when (UTC)``, ``user``, ``via``, ``model``, ``version``,
            ``status``, ``label``, one ``P(<label>)`` column per label seen, ``uncertainty``,
            ``feedback`` ("agree", "override → <label>" or empty), ``feedback by``, ``comment`` and
            ``input SHA-256``.
        """
        import pandas as pd

        query = select(PredictionRecord)
        for column, wanted in ((PredictionRecord.user, user), (PredictionRecord.model_name, model_name),
                               (PredictionRecord.status, status)):
            if wanted is not None:
                query = query.where(column == wanted)
        if since is not None:
            query = query.where(PredictionRecord.created_at >= _as_utc(since))
        if until is not None:
            if isinstance(until, dt.datetime):
                query = query.where(PredictionRecord.created_at <= _as_utc(until))
            else:
                query = query.where(PredictionRecord.created_at < _as_utc(until + dt.timedelta(days=1)))
        query = query.order_by(PredictionRecord.created_at.desc(), PredictionRecord.id.desc()).limit(limit)
        with Session(self.engine) as session:
            predictions = list(session.scalars(query))
            feedback = self._latest_feedback_by_prediction(session, [p.id for p in predictions])
        labels = sorted({label for p in predictions for label in (p.probabilities or {})})
        rows = []
        for record in predictions:
            verdict = feedback.get(record.id)
            rows.append({
                "id": record.id, "when (UTC)": record.created_at, "user": record.user, "via": record.source,
                "model": record.model_name, "version": record.model_version, "status": record.status,
                "label": record.label,
                **{f"P({label})": (record.probabilities or {}).get(label) for label in labels},
                "uncertainty": record.uncertainty,
                "feedback": describe_verdict(verdict) if verdict else "",
                "feedback by": verdict.user if verdict else "",
                "comment": (verdict.comment or "") if verdict else "",
                "input SHA-256": record.input_sha256,
            })
        columns = ["id", "when (UTC)", "user", "via", "model", "version", "status", "label",
                   *(f"P({label})" for label in labels), "uncertainty", "feedback", "feedback by", "comment",
                   "input SHA-256"]
        return pd.DataFrame(rows, columns=columns)

    @staticmethod
    def _latest_feedback_by_prediction(session: Session, prediction_ids: list[int]) -> dict[int, FeedbackRecord]:
        latest: dict[int, FeedbackRecord] = {}
        for start in range(0, len(prediction_ids), 500):  # keep each IN (...) list short
            query = (select(FeedbackRecord)
                     .where(FeedbackRecord.prediction_id.in_(prediction_ids[start:start + 500]))
                     .order_by(FeedbackRecord.created_at, FeedbackRecord.id))
            latest.update({record.prediction_id: record for record in session.scalars(query)})
        return latest


def describe_verdict(feedback: FeedbackRecord) -> str:
    """ "agree", or "override → <label>", as the audit table and the page show a verdict."""
    if feedback.verdict == "override":
        return f"override → {feedback.corrected_label}" if feedback.corrected_label else "override"
    return feedback.verdict


def _as_utc(moment: dt.date | dt.datetime) -> dt.datetime:
    """An aware UTC datetime: a naive one is taken as UTC (as recorded), a date means its midnight."""
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment, dt.time())
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)
