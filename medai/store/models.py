"""The audit tables, as the newest migration leaves them (``medai/store/migrations``).

The schema is owned by the migrations: these classes describe it for queries and must change only
together with a new migration script. Nothing here can hold a file name, pixels or a DICOM tag that
identifies a patient; ``input_metadata`` holds technical facts only (format, size, modality).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


# Column widths of the feedback text (PostgreSQL refuses longer; SQLite would store them).
LABEL_CHARS, COMMENT_CHARS = 80, 2000
USER_CHARS = 120  # a user name or a signed-in e-mail address

class Base(DeclarativeBase):
    """Declarative base of the audit tables."""


class PredictionRecord(Base):
    """One prediction (or refusal, or error) as it was shown to its user.

    Attributes
    ----------
    source : str
        The door it came in by: ``"ui"`` (a page), ``"cli"``, ``"python"``, or a more precise
        ``"page:diagnose"`` / ``"cli:screen"``.
    weights_sha256 : str or None
        :func:`medai.registry.weights_digest` of the model's files (``None`` on records made
        before it was kept).
    input_metadata, output_summary : dict or None
        Technical facts about the input (format, size, modality; never identifiers) and a short
        summary of the output (decision, threshold, counts).
    duration_ms : float or None
        Wall time spent on this input, in milliseconds.
    """

    __tablename__ = "predictions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    user: Mapped[str] = mapped_column(String(USER_CHARS))
    source: Mapped[str] = mapped_column(String(80))
    model_name: Mapped[str] = mapped_column(String(80))
    model_version: Mapped[str] = mapped_column(String(40))
    input_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20))
    label: Mapped[str | None] = mapped_column(String(80))
    probabilities: Mapped[dict | None] = mapped_column(JSON)
    uncertainty: Mapped[float | None] = mapped_column(Float)
    weights_sha256: Mapped[str | None] = mapped_column(String(64))
    input_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    output_summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    duration_ms: Mapped[float | None] = mapped_column(Float)


class FeedbackRecord(Base):
    """A clinician's verdict on a prediction: agree, or override with the correct label.

    One row per prediction and user (a unique index; saving again updates it); ``created_at``
    is when the verdict was last saved, and ``comment`` has been through
    :func:`medai.store.redact.redact_identifiers`. ``correction`` holds a structured correction
    that is not a label (an edited mask, say), as JSON.
    """

    __tablename__ = "feedback"
    __table_args__ = (Index("uq_feedback_prediction_user", "prediction_id", "user", unique=True),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prediction_id: Mapped[int] = mapped_column(ForeignKey("predictions.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    user: Mapped[str] = mapped_column(String(USER_CHARS))
    verdict: Mapped[str] = mapped_column(String(20))
    corrected_label: Mapped[str | None] = mapped_column(String(LABEL_CHARS))
    comment: Mapped[str | None] = mapped_column(String(COMMENT_CHARS))
    correction: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AuditEvent(Base):
    """An append-only log entry: a sign-in, an export, a feedback export.

    The database itself refuses ``UPDATE`` and ``DELETE`` on this table (triggers made by the
    migration), so an entry once written stays as written.
    """

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    user: Mapped[str] = mapped_column(String(USER_CHARS))
    kind: Mapped[str] = mapped_column(String(40), index=True)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
