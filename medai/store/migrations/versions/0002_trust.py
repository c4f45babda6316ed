"""Trust: weights digest, input metadata, output summary and duration on predictions; one verdict per
user and prediction enforced by a unique index; structured corrections; the append-only audit log.

Older databases may hold several verdicts by one user on one prediction (saved before the upsert);
the newest is kept and each older one is moved, whole, into ``audit_events`` as a
``feedback.superseded`` entry, so no row's content is lost.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

APPEND_ONLY = "audit_events is append-only"
PG_FUNCTION = "medai_audit_events_append_only"


def upgrade() -> None:
    """Add the columns and the audit log; move duplicate verdicts into it; protect it."""
    with op.batch_alter_table("predictions") as batch:
        batch.alter_column("source", type_=sa.String(80), existing_type=sa.String(20), existing_nullable=False)
        batch.add_column(sa.Column("weights_sha256", sa.String(64), nullable=True))
        batch.add_column(sa.Column("input_metadata", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("output_summary", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("duration_ms", sa.Float(), nullable=True))
    op.add_column("feedback", sa.Column("correction", sa.JSON(), nullable=True))
    events = op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
    )
    op.create_index("ix_audit_events_created_at", "audit_events", ["created_at"])
    op.create_index("ix_audit_events_kind", "audit_events", ["kind"])
    _move_superseded_feedback(events)
    op.create_index("uq_feedback_prediction_user", "feedback", ["prediction_id", "user"], unique=True)
    _protect_audit_events()


def downgrade() -> None:
    """Drop what ``upgrade`` added (the audit log with its rows); ``source`` stays 80 characters wide."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}() CASCADE")
    op.drop_index("uq_feedback_prediction_user", table_name="feedback")
    op.drop_index("ix_audit_events_kind", table_name="audit_events")
    op.drop_index("ix_audit_events_created_at", table_name="audit_events")
    op.drop_table("audit_events")
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("correction")
    with op.batch_alter_table("predictions") as batch:
        for column in ("duration_ms", "output_summary", "input_metadata", "weights_sha256"):
            batch.drop_column(column)


def _move_superseded_feedback(events: sa.Table) -> None:
    feedback = sa.table("feedback", sa.column("id", sa.Integer), sa.column("prediction_id", sa.Integer),
                        sa.column("created_at", sa.DateTime(timezone=True)), sa.column("user", sa.String),
                        sa.column("verdict", sa.String), sa.column("corrected_label", sa.String),
                        sa.column("comment", sa.String))
    newest = sa.select(sa.func.max(feedback.c.id)).group_by(feedback.c.prediction_id, feedback.c.user)
    bind = op.get_bind()
    superseded = bind.execute(sa.select(feedback).where(feedback.c.id.not_in(newest))).mappings().all()
    if not superseded:
        return
    bind.execute(events.insert(), [
        {"created_at": row["created_at"], "user": row["user"], "kind": "feedback.superseded",
         "details": {"feedback_id": row["id"], "prediction_id": row["prediction_id"], "verdict": row["verdict"],
                     "corrected_label": row["corrected_label"], "comment": row["comment"]}}
        for row in superseded])
    bind.execute(feedback.delete().where(feedback.c.id.in_([row["id"] for row in superseded])))


def _protect_audit_events() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_events_no_{event.lower()} BEFORE {event} ON audit_events "
                       f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END")
    elif dialect == "postgresql":
        op.execute(f"CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$")
        op.execute(f"CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
                   f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()")
        op.execute(f"CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()")
