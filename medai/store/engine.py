"""The audit store's database connection: an engine per URL (SQLite tuned for several writers), the
dialect's upsert, and the URL as it may be shown."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

from medai import config

SQLITE_BUSY_TIMEOUT_MS = 30_000


def engine_for(url: str) -> Engine:
    """An engine; SQLite files get WAL, a busy timeout and foreign-key checks, and their folder."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    memory = url in ("sqlite://", "sqlite:///:memory:")
    if not memory:  # the audit data are readable by the server's user only (0600 in a 0700 folder)
        database = Path(url.removeprefix("sqlite:///"))
        config.private_folder(database.parent)
        if not database.exists():
            config.write_private(database, b"")  # SQLite reads an empty file as an empty database
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
                           **({"poolclass": StaticPool} if memory else {}))

    @event.listens_for(engine, "connect")
    def _pragmas(connection, _record) -> None:
        cursor = connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def dialect_insert(dialect: str):
    """The ``insert`` with ``ON CONFLICT`` of PostgreSQL or SQLite."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


SECRET_QUERY_KEYS = ("password", "sslpassword", "passfile", "sslkey")  # libpq takes these in the query too


def masked(url: str) -> str:
    """``url`` with its password hidden, for messages and the Admin page: the password field, and the
    query parameters that carry one (``?password=``, which psycopg accepts)."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
        if "@" in (parsed.host or ""):  # an unencoded "@" in the password: the parser split it wrongly
            raise ValueError("ambiguous URL")
        hidden = {key: "***" for key in parsed.query if key.lower() in SECRET_QUERY_KEYS}
        return parsed.update_query_dict(hidden).render_as_string(hide_password=True).replace("%2A%2A%2A", "***")
    except Exception:  # an unparsable or ambiguous URL is shown as its scheme only
        return url.partition(":")[0] + "://…"
