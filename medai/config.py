"""Settings read from the environment, with defaults that work on a fresh checkout.

``MEDAI_DATA_DIR``   folder holding the public training data (default: ``../shared/data``).
``MEDAI_DB_URL``     SQLAlchemy URL of the audit store (default: SQLite file ``var/medai.sqlite``).
``MEDAI_CACHE_DIR``  where decoded training arrays are cached (default: ``.cache/`` in the checkout).
``MEDAI_MAX_UPLOAD_MB`` / ``MEDAI_MAX_MEGAPIXELS``  caps on one uploaded image.
``MEDAI_PRELOAD``    ``1`` (default): a server loads every model in the background as it starts;
                     ``0``: each model loads when a page first needs it (less memory, slower first use).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_ROOT = Path(__file__).resolve().parent
MODELS_DIR = PACKAGE_ROOT / "models"


def data_dir() -> Path:
    """Folder with the public datasets (``imaging/``, ``timeline/``, ``drug/``)."""
    return Path(os.environ.get("MEDAI_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))


def cache_dir() -> Path:
    """Folder for decoded training arrays; created on demand."""
    path = Path(os.environ.get("MEDAI_CACHE_DIR", REPO_ROOT / ".cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def db_url() -> str:
    """SQLAlchemy URL of the audit store; an embedded SQLite file unless configured."""
    default = REPO_ROOT / "var" / "medai.sqlite"
    return os.environ.get("MEDAI_DB_URL", f"sqlite:///{default}")


def max_upload_bytes() -> int:
    """Largest accepted upload, in bytes (default 64 MB: a large uncompressed DICOM)."""
    return int(float(os.environ.get("MEDAI_MAX_UPLOAD_MB", "64")) * 1024 * 1024)


def max_pixels() -> int:
    """Largest accepted image, in pixels (default 40 megapixels, e.g. 6000 x 6600)."""
    return int(float(os.environ.get("MEDAI_MAX_MEGAPIXELS", "40")) * 1_000_000)


def preload() -> bool:
    """Whether a server loads (and traces) every model in the background as it starts."""
    return os.environ.get("MEDAI_PRELOAD", "1").strip().lower() not in ("0", "false", "no", "off")
