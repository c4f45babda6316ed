"""The end-to-end harness: one server for the whole session, started the way `make run` starts it (`python
serve.py`, every model preloaded in the background), and Debian's Chromium for Playwright (never a browser
download; `make test` installs `chromium`, and the tests fail, not skip, when CI lacks it).

Each test counts the audit records it adds, so the tests share the server and its database. A Playwright
expectation waits up to a minute, not Playwright's default 5 s: on 2 cores the server can still be
loading the other pages' models in the background.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import REPO

expect.set_options(timeout=60_000)
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TIMEOUT_MS = 180_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """Start `python serve.py` (what `make run` starts) on a free loopback port; yield (URL, audit database URL);
    stop it."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is not installed; `make test` installs it")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    port = _free_port()
    folder = tmp_path_factory.mktemp("e2e")
    log = (folder / "streamlit.log").open("w")
    db_url = f"sqlite:///{folder / 'audit.sqlite'}"
    env = {**os.environ, "MEDAI_DB_URL": db_url, "MEDAI_PRELOAD": "1"}  # the unit tests turn preloading off
    server = subprocess.Popen(
        [sys.executable, "serve.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("the app did not start:\n" + (folder / "streamlit.log").read_text()[-3000:])
            time.sleep(0.5)
    # serve.py starts again with glibc's malloc arenas capped (a session's memory was otherwise kept after it closed)
    assert "MALLOC_ARENA_MAX=2" in Path(f"/proc/{server.pid}/environ").read_bytes().decode().split("\0")
    yield url, db_url
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture
def app_url(server) -> str:
    return server[0]
