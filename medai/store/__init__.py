"""Audit trail and clinician feedback, stored with SQLAlchemy (SQLite by default)."""

from medai.store.audit import AuditStore, FeedbackRecord, PredictionRecord

__all__ = ["AuditStore", "FeedbackRecord", "PredictionRecord"]
