"""Audit trail, clinician feedback and the audit log, stored with SQLAlchemy (SQLite by default)."""

from medai.store.audit import AuditStore, describe_verdict
from medai.store.models import AuditEvent, FeedbackRecord, PredictionRecord
from medai.store.redact import redact_identifiers

__all__ = ["AuditEvent", "AuditStore", "FeedbackRecord", "PredictionRecord", "describe_verdict",
           "redact_identifiers"]
