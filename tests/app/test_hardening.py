"""Hardening: XSRF protection on, the upload cap in the Streamlit config equal to the one checked in code,
uploads kept in memory (never a temp file), no secrets file in the repository."""

from __future__ import annotations

import inspect
import re
import subprocess
import tomllib

import pytest
from streamlit.web.server import server

from medai import config
from tests.conftest import REPO

SETTINGS = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())


def test_xsrf_protection_stays_on():
    assert SETTINGS["server"]["enableXsrfProtection"] is True
    assert SETTINGS["server"].get("enableCORS", True) is True


def test_upload_cap_matches_the_cap_checked_in_code(monkeypatch):
    monkeypatch.delenv("MEDAI_MAX_UPLOAD_MB", raising=False)
    assert SETTINGS["server"]["maxUploadSize"] * 1024 * 1024 == config.max_upload_bytes() == 64 * 1024 * 1024


def test_uploads_stay_in_memory():
    assert "MemoryUploadedFileManager(" in inspect.getsource(server)  # Streamlit keeps uploads in memory
    pattern = re.compile(r"\b(tempfile|NamedTemporaryFile|mkstemp|SpooledTemporaryFile)\b")
    sources = [*REPO.joinpath("pages").glob("*.py"), REPO / "app.py", *REPO.joinpath("medai").rglob("*.py")]
    offenders = [str(path.relative_to(REPO)) for path in sources if pattern.search(path.read_text())]
    assert offenders == []


def test_no_secrets_file_is_tracked():
    try:
        tracked = subprocess.run(["git", "ls-files", ".streamlit"], cwd=REPO, capture_output=True, text=True,
                                 check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    assert ".streamlit/secrets.toml" not in tracked
    example = (REPO / ".streamlit" / "secrets.toml.example").read_text()
    assert "replace-with" in example and "[auth]" in example and "[medai.roles]" in example


def test_a_demo_without_sign_in_listens_on_this_computer_only(monkeypatch, tmp_path):
    import serve

    monkeypatch.setattr(serve, "SECRETS", tmp_path / "secrets.toml")  # no secrets file: demo mode
    assert serve.listen_options([], {}) == ["--server.address", "127.0.0.1"]
    assert serve.listen_options(["--server.address", "0.0.0.0"], {}) == []  # the host chose
    assert serve.listen_options([], {"STREAMLIT_SERVER_ADDRESS": "10.0.0.5"}) == []
    assert serve.listen_options([], {"MEDAI_REQUIRE_LOGIN": "1"}) == []  # sign-in guards the network
    (tmp_path / "secrets.toml").write_text('[auth]\nredirect_uri = "https://medai.example.org/oauth2callback"\n')
    assert serve.listen_options([], {}) == []
