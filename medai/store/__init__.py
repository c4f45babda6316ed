"""Audit trail and clinician feedback, stored with SQLAlchemy (SQLite by default)."""

from medai.store.audit import AuditStore, FeedbackRecord, PredictionRecord, describe_verdict
from medai.store.redact import redact_identifiers

__all__ = ["AuditStore", "FeedbackRecord", "PredictionRecord", "describe_verdict", "redact_identifiers"]
