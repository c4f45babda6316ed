"""Prediction records can no longer be changed or deleted, nor feedback deleted, by the database itself.

A prediction record ("who asked what, of which model version, and what it said") is the clinically
important trail; until now only ``audit_events`` refused changes. The same triggers now guard
``predictions`` (no UPDATE, DELETE or TRUNCATE) and ``feedback`` (no DELETE or TRUNCATE: a changed verdict
is an UPDATE whose old version goes to ``audit_events``). They stop accidents and the app's own code; a
role that owns the tables can still drop them, so a hosted install runs the app as a role that does not
(README, "Hosting and operations").

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from typing import Sequence, Union

from alembic import op

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

REFUSED = {"predictions": ("UPDATE", "DELETE"), "feedback": ("DELETE",)}
PG_FUNCTION = "medai_records_kept"


def upgrade() -> None:
    """Add the triggers (SQLite and PostgreSQL; other databases rely on their grants)."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table, events in REFUSED.items():
            for event in events:
                op.execute(f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} records are kept as written'); END")
    elif dialect == "postgresql":
        op.execute(f"CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN RAISE EXCEPTION '% records are kept as written', TG_TABLE_NAME; END $$")
        for table, events in REFUSED.items():
            op.execute(f"CREATE TRIGGER {table}_no_change BEFORE {' OR '.join(events)} ON {table} "
                       f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()")


def downgrade() -> None:
    """Drop the triggers."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table, events in REFUSED.items():
            for event in events:
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{event.lower()}")
    elif dialect == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}() CASCADE")
