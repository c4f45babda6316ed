"""Every prediction is recorded: who, when, which model and version, and the input's hash.

Nothing that identifies a patient is stored: no file name, no pixels, no DICOM tags — only the
SHA-256 of the input bytes, which lets an auditor match a record to a file they already hold.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Iterator

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from medai import config
from medai.errors import InputError, StoreError
from medai.store import schema
from medai.store.engine import dialect_insert, engine_for, masked
from medai.store.models import COMMENT_CHARS, LABEL_CHARS, AuditEvent, Base, FeedbackRecord, PredictionRecord
from medai.store.redact import redact_identifiers

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["AuditEvent", "AuditStore", "Base", "FeedbackRecord", "PredictionRecord", "describe_verdict"]
VERDICTS = ("agree", "override")
EVENT_KINDS = ("sign-in", "export.audit-log", "export.feedback", "export.report", "feedback.superseded")
# Keys that would name or locate a patient: never accepted in input_metadata or event details.
IDENTIFYING_KEY = re.compile(r"patient|birth|address|phone|accession|institution|physician|operator|file_?name"
                             r"|path|^name$|uid$", re.IGNORECASE)
log = logging.getLogger(__name__)


class AuditStore:
    """Access to the audit tables: predictions and events are only appended; feedback is one row per user.

    Opening a store migrates its database to the newest schema (:func:`medai.store.schema.upgrade`).
    Every write is one transaction; a write that fails raises :class:`medai.errors.StoreError`.

    Parameters
    ----------
    url : str, optional
        SQLAlchemy database URL; defaults to :func:`medai.config.db_url` (an SQLite file).
        ``postgresql+psycopg://user:password@host/db`` selects PostgreSQL.

    Raises
    ------
    StoreError
        The database cannot be opened or migrated.
    """

    def __init__(self, url: str | None = None):
        self.url = url or config.db_url()
        try:
            self.engine = engine_for(self.url)
            schema.upgrade(self.engine)
        except SQLAlchemyError as exc:
            log.error("audit database %s cannot be opened: %s", masked(self.url), type(exc).__name__)
            raise StoreError("The audit database cannot be opened, so nothing can be recorded; "
                             "ask the administrator to check MEDAI_DB_URL and the database server.") from exc

    @property
    def masked_url(self) -> str:
        """The database URL with any password replaced by ``***`` (for display)."""
        return masked(self.url)

    @contextmanager
    def _transaction(self, what: str) -> Iterator[Session]:
        """One transaction: committed on success, rolled back and re-raised as ``StoreError`` on failure."""
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            log.error("audit store: %s failed: %s", what, type(exc).__name__)
            raise StoreError(f"The audit database could not save the {what}; it was not recorded. "
                             "Try again, or ask the administrator to check the database.") from exc

    @contextmanager
    def reading(self, what: str) -> Iterator[Session]:
        """A read-only session; a failure is re-raised as ``StoreError`` naming ``what`` was being read."""
        try:
            with Session(self.engine) as session:
                yield session
        except SQLAlchemyError as exc:
            log.error("audit store: reading %s failed: %s", what, type(exc).__name__)
            raise StoreError(f"The audit database could not be read ({what}); "
                             "ask the administrator to check the database.") from exc

    def record_prediction(self, *, user: str, source: str, model_name: str, model_version: str,
                          input_sha256: str | None, status: str, label: str | None = None,
                          probabilities: dict[str, float] | None = None,
                          uncertainty: float | None = None, weights_sha256: str | None = None,
                          input_metadata: dict[str, Any] | None = None,
                          output_summary: dict[str, Any] | None = None,
                          duration_ms: float | None = None) -> int:
        """Store one prediction and return its id.

        Parameters
        ----------
        user, source : str
            Who asked, and through which page or command.
        model_name, model_version, weights_sha256 : str
            The model that answered; ``weights_sha256`` is :func:`medai.registry.weights_digest`.
        input_sha256 : str or None
            SHA-256 of the input bytes (``None`` when they could not be read).
        status, label, probabilities, uncertainty
            The answer as shown.
        input_metadata, output_summary : dict, optional
            JSON-able technical facts about the input and a summary of the output; a key that
            looks identifying (patient, name, birth, file, UID, ...) is refused.
        duration_ms : float, optional
            Wall time for this input.

        Raises
        ------
        ValueError
            ``input_metadata`` or ``output_summary`` has an identifying key.
        StoreError
            The write failed; nothing was stored.
        """
        record = PredictionRecord(
            created_at=dt.datetime.now(dt.timezone.utc), user=user or "anonymous", source=source,
            model_name=model_name, model_version=model_version, input_sha256=input_sha256, status=status,
            label=label, probabilities=_json(probabilities), uncertainty=uncertainty,
            weights_sha256=weights_sha256, input_metadata=_technical(input_metadata, "input_metadata"),
            output_summary=_technical(output_summary, "output_summary"),
            duration_ms=None if duration_ms is None else round(float(duration_ms), 3))
        with self._transaction("prediction record") as session:
            session.add(record)
            session.flush()
            return record.id

    def record_feedback(self, prediction_id: int, *, user: str, verdict: str,
                        corrected_label: str | None = None, comment: str | None = None,
                        correction: dict[str, Any] | None = None) -> int:
        """Store a clinician's verdict on prediction ``prediction_id``; return the feedback id.

        One verdict per user and prediction: saving again updates that row (and its time) instead
        of adding another, atomically (``INSERT ... ON CONFLICT DO UPDATE`` on the unique index); the
        verdict it replaces goes to the append-only audit log as a ``feedback.superseded`` entry, in
        the same transaction, so a changed call stays visible.
        The comment and a typed corrected label are passed through :func:`redact_identifiers` first
        (then cut to the columns' widths, since a removal can lengthen the text).

        Raises
        ------
        ValueError
            ``verdict`` is not one of ``VERDICTS``.
        InputError
            The comment or the corrected label is longer than its column (refused whole, not cut before
            the scrubbing, which could leave half an identifier behind).
        StoreError
            The write failed (or no such prediction); nothing was stored.
        """
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}")
        for text, most, what in ((comment, COMMENT_CHARS, "comment"),
                                 (corrected_label, LABEL_CHARS, "corrected label")):
            if text and len(text.strip()) > most:
                raise InputError(f"The {what} is {len(text.strip()):,} characters long; at most {most:,} are kept. "
                                 "Shorten it and save again.")
        values = {
            "created_at": dt.datetime.now(dt.timezone.utc), "verdict": verdict,
            "corrected_label": (redact_identifiers(corrected_label.strip())[:LABEL_CHARS] or None
                                if verdict == "override" and corrected_label else None),
            "comment": redact_identifiers(comment.strip())[:COMMENT_CHARS] if comment and comment.strip() else None,
            "correction": _json(correction) if verdict == "override" else None,
        }
        keys = {"prediction_id": prediction_id, "user": user or "anonymous"}
        with self._transaction("feedback") as session:
            previous = session.scalars(select(FeedbackRecord).filter_by(**keys).with_for_update()).first()
            if previous is not None:
                session.add(AuditEvent(created_at=values["created_at"], user=keys["user"], kind="feedback.superseded",
                                       details={"feedback_id": previous.id, "prediction_id": prediction_id,
                                                "verdict": previous.verdict, "corrected_label": previous.corrected_label,
                                                "comment": previous.comment, "had_correction": bool(previous.correction),
                                                "saved_at": previous.created_at.isoformat()}))
            if self.engine.dialect.name in ("sqlite", "postgresql"):
                insert = dialect_insert(self.engine.dialect.name)
                statement = (insert(FeedbackRecord).values(**keys, **values)
                             .on_conflict_do_update(index_elements=["prediction_id", "user"], set_=values)
                             .returning(FeedbackRecord.id))
                return session.execute(statement).scalar_one()
            record = session.scalars(select(FeedbackRecord).filter_by(**keys).with_for_update()).first()
            if record is None:
                record = FeedbackRecord(**keys, **values)
                session.add(record)
            for name, value in values.items():
                setattr(record, name, value)
            session.flush()
            return record.id

    def record_event(self, kind: str, *, user: str, details: dict[str, Any] | None = None) -> int:
        """Append one entry to the audit log (a sign-in, an export) and return its id.

        Parameters
        ----------
        kind : str
            What happened: one of ``EVENT_KINDS``.
        user : str
            Who did it.
        details : dict, optional
            JSON-able facts (filters used, row count); identifying keys are refused.

        Raises
        ------
        ValueError
            ``kind`` is not one of ``EVENT_KINDS`` (a misspelt kind would hide an entry from every filter).
        StoreError
            The write failed; nothing was stored.
        """
        if kind not in EVENT_KINDS:
            raise ValueError(f"Unknown audit event kind {kind!r}; one of {', '.join(EVENT_KINDS)}.")
        entry = AuditEvent(created_at=dt.datetime.now(dt.timezone.utc), user=user or "anonymous", kind=kind,
                           details=_technical(details, "details"))
        with self._transaction("audit event") as session:
            session.add(entry)
            session.flush()
            return entry.id

    def events(self, kind: str | None = None, limit: int = 200) -> list[AuditEvent]:
        """The newest audit-log entries first (of one ``kind``, if given)."""
        query = select(AuditEvent)
        if kind is not None:
            query = query.where(AuditEvent.kind == kind)
        with self.reading("audit events") as session:
            return list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))

    def latest_feedback(self, prediction_id: int, user: str | None = None) -> FeedbackRecord | None:
        """The most recently saved verdict on a prediction (by ``user``, if given), or ``None``."""
        with self.reading("feedback") as session:
            query = select(FeedbackRecord).where(FeedbackRecord.prediction_id == prediction_id)
            if user is not None:
                query = query.where(FeedbackRecord.user == (user or "anonymous"))
            query = query.order_by(FeedbackRecord.created_at.desc(), FeedbackRecord.id.desc()).limit(1)
            return session.scalars(query).first()

    def prediction(self, prediction_id: int) -> PredictionRecord | None:
        """One prediction record, or ``None``."""
        with self.reading("the audit log") as session:
            return session.get(PredictionRecord, prediction_id)

    def recent_predictions(self, limit: int = 50) -> list[PredictionRecord]:
        """The newest predictions first."""
        with self.reading("the audit log") as session:
            query = select(PredictionRecord).order_by(PredictionRecord.id.desc()).limit(limit)
            return list(session.scalars(query))

    def feedback_for(self, prediction_id: int) -> list[FeedbackRecord]:
        """All feedback on one prediction, oldest first."""
        with self.reading("feedback") as session:
            query = select(FeedbackRecord).where(FeedbackRecord.prediction_id == prediction_id)
            return list(session.scalars(query.order_by(FeedbackRecord.id)))

    def feedback_counts(self) -> dict[int, int]:
        """Number of feedback entries per prediction id (predictions without feedback are absent)."""
        with self.reading("feedback counts") as session:
            query = select(FeedbackRecord.prediction_id, func.count()).group_by(FeedbackRecord.prediction_id)
            return {prediction_id: count for prediction_id, count in session.execute(query)}

    def filter_choices(self) -> dict[str, list[str]]:
        """The distinct users, model names and statuses in the log, sorted: the options of the filters."""
        columns = {"user": PredictionRecord.user, "model_name": PredictionRecord.model_name,
                   "status": PredictionRecord.status}
        with self.reading("filter choices") as session:
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
            ``status``, ``label``, one ``P(<label>)`` column per label seen, ``uncertainty``, ``feedback``
            ("agree", "override → <label>" or empty), ``feedback by``, ``comment``, ``input SHA-256``,
            ``weights SHA-256``, ``time (ms)``, ``details`` (input metadata and output summary, JSON).
        """
        import pandas as pd

        query = select(PredictionRecord)
        for column, wanted in ((PredictionRecord.user, user), (PredictionRecord.model_name, model_name),
                               (PredictionRecord.status, status)):
            if wanted is not None:
                query = query.where(column == wanted)
        if since is not None:
            query = query.where(PredictionRecord.created_at >= _as_utc(since))
        if isinstance(until, dt.datetime):
            query = query.where(PredictionRecord.created_at <= _as_utc(until))
        elif until is not None:  # a date covers its whole day
            query = query.where(PredictionRecord.created_at < _as_utc(until + dt.timedelta(days=1)))
        query = query.order_by(PredictionRecord.created_at.desc(), PredictionRecord.id.desc()).limit(limit)
        with self.reading("the audit log") as session:
            predictions = list(session.scalars(query))
            feedback = self._latest_feedback_by_prediction(session, [p.id for p in predictions])
        labels = sorted({label for p in predictions for label in (p.probabilities or {})})
        rows = []
        for record in predictions:
            verdict = feedback.get(record.id)
            rows.append({
                "id": record.id, "when (UTC)": _naive_utc(record.created_at), "user": record.user, "via": record.source,
                "model": record.model_name, "version": record.model_version, "status": record.status,
                "label": record.label,
                **{f"P({label})": (record.probabilities or {}).get(label) for label in labels},
                "uncertainty": record.uncertainty,
                "feedback": describe_verdict(verdict) if verdict else "",
                "feedback by": verdict.user if verdict else "",
                "comment": (verdict.comment or "") if verdict else "",
                "input SHA-256": record.input_sha256, "weights SHA-256": record.weights_sha256,
                "time (ms)": record.duration_ms, "details": json.dumps({"input": record.input_metadata,
                                                                        "output": record.output_summary}),
            })
        return pd.DataFrame(rows, columns=[*rows[0]] if rows else [
            "id", "when (UTC)", "user", "via", "model", "version", "status", "label", "uncertainty", "feedback",
            "feedback by", "comment", "input SHA-256", "weights SHA-256", "time (ms)", "details"])

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


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    """A stored time as naive UTC (SQLite returns naive UTC, PostgreSQL an aware time)."""
    return moment.astimezone(dt.timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


def _as_utc(moment: dt.date | dt.datetime) -> dt.datetime:
    """An aware UTC datetime: a naive one is taken as UTC (as recorded), a date means its midnight."""
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment, dt.time())
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def _json(value: Any) -> Any:
    """A plain-JSON copy (numpy numbers become floats), or ``None`` for an empty value."""
    return json.loads(json.dumps(value, default=float)) if value else None


def _technical(value: dict[str, Any] | None, what: str) -> dict[str, Any] | None:
    """``value`` as plain JSON, refusing any key (at any depth) that looks identifying."""
    def check(item: Any) -> None:
        if isinstance(item, dict):
            for key, inner in item.items():
                if IDENTIFYING_KEY.search(str(key)):
                    raise ValueError(f"{what} may not hold identifying fields ({key!r})")
                check(inner)
        elif isinstance(item, list):
            for inner in item:
                check(inner)
    check(value)
    return _json(value)
