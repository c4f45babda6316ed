"""Shared fixtures: an isolated audit database for every test, and paths to the sample files."""

from __future__ import annotations

import datetime as dt
import io
import os
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Iterator

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The pages load each model on first use and trace its graphs at once (MEDAI_PRELOAD=0), as a batch does: a
# background warm-up in the test process would race the tests for 2 cores and for monkeypatched registries.
# The end-to-end server preloads, as `make run` does; tests/pages/test_warm_up.py tests the warm-up itself.
os.environ["MEDAI_PRELOAD"] = "0"
REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_data" / "imaging"


@pytest.fixture(autouse=True)
def isolated_database(tmp_path, monkeypatch):
    """Every test writes its audit records to its own SQLite file (and its de-identification salt beside it)."""
    monkeypatch.setenv("MEDAI_DB_URL", f"sqlite:///{tmp_path / 'audit.sqlite'}")
    monkeypatch.setenv("MEDAI_DEID_SALT_FILE", str(tmp_path / "deid-salt"))  # never the checkout's var/


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


@contextmanager
def recorded_at(when: dt.datetime) -> Iterator[None]:
    """Audit records made inside carry ``when`` as their time: a test's way to backdate them, since the
    database refuses to change a prediction record afterwards."""
    from unittest import mock

    class Clock(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return when

    with mock.patch("medai.store.audit.dt", SimpleNamespace(datetime=Clock, timezone=dt.timezone, date=dt.date)):
        yield
