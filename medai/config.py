"""Settings read from the environment, with defaults that work on a fresh checkout.

``MEDAI_DATA_DIR``   folder holding the public training data (default: ``../shared/data``).
``MEDAI_DB_URL``     SQLAlchemy URL of the audit store (default: SQLite file ``var/medai.sqlite``).
``MEDAI_CACHE_DIR``  where decoded training arrays are cached (default: ``.cache/`` in the checkout).
``MEDAI_MAX_UPLOAD_MB`` / ``MEDAI_MAX_MEGAPIXELS``  caps on one uploaded image.
``MEDAI_PRELOAD``    ``1`` (default): a server loads every model in the background as it starts;
                     ``0``: each model loads when a page first needs it (less memory, slower first use).

:func:`problems` names a mistyped setting as a server or command starts; :func:`private_folder` and
:func:`write_private` keep the audit data readable by the server's user only.
"""

from __future__ import annotations

import os
from pathlib import Path

from medai.errors import ConfigurationError

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


SWITCHES = ("MEDAI_REQUIRE_LOGIN", "MEDAI_PRELOAD", "MEDAI_KEEP_DEIDENTIFIED")
SWITCH_ON, SWITCH_OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _positive(name: str, default: str) -> float:
    """The number in environment variable ``name``; :class:`ConfigurationError` naming it when it is not one."""
    text = os.environ.get(name, default)
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):  # also NaN
        raise ConfigurationError(f"{name} must be a positive number (it is {text!r}); unset it for the default "
                                 f"{default}.")
    return value


def max_upload_mb() -> float:
    """Largest accepted upload, in MB (default 64: a large uncompressed DICOM)."""
    return _positive("MEDAI_MAX_UPLOAD_MB", "64")


def max_upload_bytes() -> int:
    """Largest accepted upload, in bytes."""
    return int(max_upload_mb() * 1024 * 1024)


def max_pixels() -> int:
    """Largest accepted image, in pixels (default 40 megapixels, e.g. 6000 x 6600)."""
    return int(_positive("MEDAI_MAX_MEGAPIXELS", "40") * 1_000_000)


def problems() -> list[str]:
    """What is wrong with the settings, one sentence each (empty when nothing is): checked as a server or
    command starts, so that a typo is named then, not met as a failed upload."""
    found = []
    for check in (max_upload_bytes, max_pixels):
        try:
            check()
        except ConfigurationError as exc:
            found.append(str(exc))
    for name in SWITCHES:  # a mistyped switch must not quietly mean "off" (MEDAI_REQUIRE_LOGIN=yess)
        value = os.environ.get(name, "").strip().lower()
        if value and value not in (*SWITCH_ON, *SWITCH_OFF):
            found.append(f"{name} must be one of {', '.join(SWITCH_ON)} or {', '.join(SWITCH_OFF)} (it is {value!r}).")
    url = db_url()
    if url.startswith("postgres://"):
        found.append("MEDAI_DB_URL starts with postgres://, which SQLAlchemy does not know: write "
                     "postgresql+psycopg://user:password@host/database.")
    return found


def private_folder(path: Path) -> Path:
    """``path``, each missing folder of it created readable by this user only (0700): audit data live there."""
    for folder in reversed([path, *path.parents]):
        if not folder.exists():
            try:
                folder.mkdir(mode=0o700)
            except FileExistsError:  # made meanwhile by another process
                pass
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, readable by this user only (0600) whatever the umask."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def preload() -> bool:
    """Whether a server loads (and traces) every model in the background as it starts."""
    return os.environ.get("MEDAI_PRELOAD", "1").strip().lower() not in SWITCH_OFF
