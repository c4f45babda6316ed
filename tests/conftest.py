"""Shared fixtures: an isolated audit database for every test, and paths to the sample files."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_data" / "imaging"


@pytest.fixture(autouse=True)
def isolated_database(tmp_path, monkeypatch):
    """Every test writes its audit records to its own SQLite file (and its de-identification salt beside it)."""
    monkeypatch.setenv("MEDAI_DB_URL", f"sqlite:///{tmp_path / 'audit.sqlite'}")
    monkeypatch.setenv("MEDAI_DEID_SALT_FILE", str(tmp_path / "deid-salt"))  # never the checkout's var/


@pytest.fixture(scope="session", autouse=True)
def finish_background_warm_ups():
    """Let the app's model warm-up threads (started by AppTests) finish before the interpreter exits.

    They are daemon threads running TensorFlow; one still inside TensorFlow when Python finalizes is
    unwound by force and aborts the process ("FATAL: exception not rethrown", exit status 134).
    """
    yield
    common = sys.modules.get("pages.common")
    if common is not None:
        common.stop_warm_up(timeout_s=600)


@pytest.fixture(scope="session")
def samples() -> Path:
    """Folder of the shipped sample images."""
    return SAMPLES


def png_bytes(array: np.ndarray) -> bytes:
    """Encode an array (uint8/uint16 grey, or uint8 RGB) as PNG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(array: np.ndarray, quality: int = 95) -> bytes:
    """Encode a uint8 array as JPEG bytes."""
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
