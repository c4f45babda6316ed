"""Store tests run against SQLite and against a real PostgreSQL server started for the test run.

The server: Debian's ``postgresql`` binaries (``make test`` installs them), a cluster made by
``initdb`` in a temporary folder this run owns, started by ``pg_ctl`` on 127.0.0.1 at a free port
(as the ``postgres`` user when the tests run as root: PostgreSQL refuses to run as root), one
database per test, and stopped at the end of the session. Without the binaries the PostgreSQL
cases are skipped, unless ``CI`` is set, where they fail instead.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_USER = "medai"
BACKENDS = ("sqlite", "postgresql")
_databases = itertools.count(1)


@dataclass(frozen=True)
class PostgresServer:
    """A running throw-away PostgreSQL server."""

    host: str
    port: int
    user: str

    def url(self, database: str) -> str:
        """SQLAlchemy URL (psycopg 3) of ``database`` on this server."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        """Run one statement in the ``postgres`` database, outside a transaction (CREATE/DROP DATABASE)."""
        import psycopg

        with psycopg.connect(host=self.host, port=self.port, user=self.user, dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(sql)


def postgres_bindir() -> Path | None:
    """Folder holding ``initdb`` and ``pg_ctl``: Debian's ``/usr/lib/postgresql/<version>/bin``, or PATH."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
                         if Path(p).parent.name.isdigit() else 0, reverse=True):
        if (Path(folder) / "initdb").is_file() and (Path(folder) / "pg_ctl").is_file():
            return Path(folder)
    found = shutil.which("pg_ctl")
    return Path(found).resolve().parent if found and shutil.which("initdb") else None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so the PostgreSQL tests must run (make test installs postgresql).")
    pytest.skip(f"{reason} (make test installs Debian's postgresql)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server():
    """Start PostgreSQL on loopback in a folder this run owns; stop it and remove the folder at the end."""
    bindir = postgres_bindir()
    if bindir is None:
        _unavailable("PostgreSQL's initdb/pg_ctl were not found")
    folder = Path(tempfile.mkdtemp(prefix="medai-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(folder)
            _unavailable("running as root and there is no 'postgres' user to run the server as")
        os.chown(folder, account.pw_uid, account.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()
    subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(data), "-U", PG_USER, "--auth=trust",
                    "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
    subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"), "-w",
                    "-o", f"-h 127.0.0.1 -p {port} -k {folder} -c max_connections=200", "start"],
                   check=True, capture_output=True)
    try:
        yield PostgresServer("127.0.0.1", port, PG_USER)
    finally:
        subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty PostgreSQL database for one test (dropped afterwards)."""
    name = f"medai_test_{os.getpid()}_{next(_databases)}"
    postgres_server.admin(f"CREATE DATABASE {name}")
    yield postgres_server.url(name)
    postgres_server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """An empty database on each backend in turn: an SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("postgres_url")
