"""Hardening: XSRF protection on, the upload cap in the Streamlit config equal to the one checked in code,
uploads kept in memory (never a temp file), no secrets file in the repository."""

from __future__ import annotations

import inspect
import os
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


def test_light_theme_captions_reach_wcag_aa_contrast():
    def luminance(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    text = SETTINGS["theme"]["light"]["textColor"].lstrip("#")
    caption = [0.6 * int(text[i:i + 2], 16) / 255 + 0.4 for i in (0, 2, 4)]  # captions: 60 % text over white
    lightness = sum(w * luminance(c) for w, c in zip((0.2126, 0.7152, 0.0722), caption))
    assert 1.05 / (lightness + 0.05) >= 4.5


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


def test_a_trailing_address_option_without_a_value_does_not_crash_the_start(monkeypatch, tmp_path):
    import serve

    monkeypatch.setattr(serve, "SECRETS", tmp_path / "secrets.toml")
    assert serve.listen_options(["--server.address"], {}) == ["--server.address", "127.0.0.1"]


def test_the_log_says_who_can_sign_in_and_where_it_listens(monkeypatch, tmp_path):
    import serve

    monkeypatch.setattr(serve, "SECRETS", tmp_path / "secrets.toml")
    demo = serve.mode_lines(["--server.port=8790"], {})
    assert demo[0] == "listening on 127.0.0.1, port 8790." and "this computer only" in demo[1]
    shared = serve.mode_lines(["--server.address", "0.0.0.0"], {})
    assert "anyone who can reach it can use it" in shared[1]
    assert "NOBODY CAN SIGN IN: no [auth]" in serve.mode_lines([], {"MEDAI_REQUIRE_LOGIN": "1"})[1]
    (tmp_path / "secrets.toml").write_text('[auth]\ncookie_secret = "replace-with-a-long-random-string"\n')
    assert "NOBODY CAN SIGN IN until the [auth] section" in serve.mode_lines([], {})[1]


def test_streamlits_upload_cap_follows_medai_max_upload_mb(monkeypatch):
    import serve

    monkeypatch.setenv("MEDAI_MAX_UPLOAD_MB", "200")
    assert serve.upload_options([], {}) == ["--server.maxUploadSize", "200"]
    assert serve.upload_options(["--server.maxUploadSize", "10"], {}) == []  # the host chose


def test_streamlits_upload_cap_is_rounded_up_never_below_medai_max_upload_mb(monkeypatch):
    import serve

    monkeypatch.setenv("MEDAI_MAX_UPLOAD_MB", "10.5")
    assert serve.upload_options([], {}) == ["--server.maxUploadSize", "11"]


@pytest.mark.parametrize(("name", "value"), [("MEDAI_MAX_UPLOAD_MB", "64MB"), ("MEDAI_MAX_UPLOAD_MB", "inf"),
                                             ("MEDAI_MAX_MEGAPIXELS", "-1"), ("MEDAI_REQUIRE_LOGIN", "yess"),
                                             ("MEDAI_DB_URL", "postgres://medai@db/medai")])
def test_a_mistyped_setting_is_named_when_a_command_starts(monkeypatch, capsys, name, value):
    from medai.cli import main

    monkeypatch.setenv(name, value)
    assert main(["card", "cxr-pneumonia"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and name in error and error.count("\n") == 1


def test_audit_files_are_readable_by_the_servers_user_only(tmp_path):
    import pydicom
    from pydicom.dataset import FileMetaDataset

    from medai.store import AuditStore
    from medai.store.deid import keep

    old = os.umask(0o022)  # a common default, under which plain files come out world-readable
    try:
        store = AuditStore(f"sqlite:///{tmp_path / 'var' / 'audit.sqlite'}")
        store.record_event("sign-in", user="dr.a")
        dataset = pydicom.Dataset()
        dataset.file_meta = FileMetaDataset()
        dataset.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
        dataset.file_meta.MediaStorageSOPClassUID = pydicom.uid.SecondaryCaptureImageStorage
        dataset.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
        dataset.SOPClassUID, dataset.SOPInstanceUID = dataset.file_meta.MediaStorageSOPClassUID, pydicom.uid.generate_uid()
        kept = keep(dataset, tmp_path / "kept")
    finally:
        os.umask(old)
    assert (tmp_path / "var").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "var" / "audit.sqlite").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "kept").stat().st_mode & 0o777 == 0o700 and kept.stat().st_mode & 0o777 == 0o600
