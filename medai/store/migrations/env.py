"""Alembic environment of the audit store.

:mod:`medai.store.schema` runs the migrations programmatically, handing over an open connection in
``config.attributes["connection"]``; without one (``alembic -x url=... upgrade head`` from a shell,
with ``script_location`` pointing here) the URL comes from ``-x url=`` or ``MEDAI_DB_URL``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection

from medai import config as medai_config
from medai.store.models import Base

target_metadata = Base.metadata


def _migrate(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    """Run the migrations on the given connection, or on a fresh engine for the URL."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or medai_config.db_url()
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            _migrate(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("The audit store's migrations run online only (they inspect existing rows).")
run()
