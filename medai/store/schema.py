"""Bring an audit database to the newest schema with the Alembic scripts in ``migrations/``.

:class:`medai.store.AuditStore` calls :func:`upgrade` whenever it opens a database, so a fresh file
is created, an older one is upgraded, and one made by ``Base.metadata.create_all`` before there were
migrations (tables but no ``alembic_version``) is stamped at the baseline and upgraded in place.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).resolve().with_name("migrations")
BASELINE = "0001"
PG_LOCK_KEY = 0x6D65_6461  # "meda": one migration at a time per PostgreSQL database
_lock = threading.Lock()  # one migration at a time per process


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the scripts in ``migrations/`` (and an open connection, if given)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` for an empty or pre-migration database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database up to ``revision``, adopting a database made before migrations.

    On PostgreSQL an advisory lock makes concurrent openers wait for each other; on SQLite the
    foreign-key checks are off while tables are rebuilt (Alembic's batch mode copies them).
    """
    _run(engine, lambda config: command.upgrade(config, revision), adopt=True)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the database down to ``revision`` (``"base"`` drops every table)."""
    _run(engine, lambda config: command.downgrade(config, revision), adopt=False)


def _run(engine: Engine, step: Callable[[Config], None], *, adopt: bool) -> None:
    sqlite = engine.dialect.name == "sqlite"
    with _lock, engine.connect() as connection:
        if sqlite:  # a no-op inside a transaction, so before the migration's transaction begins
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_LOCK_KEY})")
                tables = set(inspect(connection).get_table_names())
                config = alembic_config(connection)
                if adopt and "predictions" in tables and "alembic_version" not in tables:
                    command.stamp(config, BASELINE)
                step(config)
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
