"""Fetch the public training data, for users who have a network: ``python -m medai download NAME``.

Nothing else downloads: the app, the other commands and the tests read ``MEDAI_DATA_DIR``. Each
dataset is laid out as its loader reads it; the upstream copies are whole (the files under
``MEDAI_DATA_DIR`` of this project's development lack the held-out rows), so a pinned SHA-256 is
checked where one is known and the digest is returned either way, for the user to pin.
"""

from __future__ import annotations

import hashlib
import importlib
import urllib.request
from pathlib import Path

from medai.errors import DataNotFoundError

# Name → "module:function(destination) -> dict of file name to SHA-256", imported only when asked for.
DATASETS = {
    "chest-xray": "medai.imaging.datasets:download_kermany",
    "moleculenet": "medai.drug.datasets:download",
    "huuskonen": "medai.drug.external:download",
    "physionet2012": "medai.timeline.datasets:download",
}


def fetch(url: str, target: Path, sha256: str | None = None, timeout_s: float = 60.0) -> str:
    """Stream ``url`` into ``target`` (its folder made); return the file's SHA-256.

    The file appears only once whole and, when ``sha256`` is given, only when it matches.

    Raises
    ------
    DataNotFoundError
        The download failed or does not match ``sha256``.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response, partial.open("wb") as out:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise DataNotFoundError(f"Could not download {url}: {exc}.") from exc
    if sha256 and digest.hexdigest() != sha256:
        partial.unlink()
        raise DataNotFoundError(f"The file from {url} does not match its published SHA-256; nothing was kept.")
    partial.replace(target)
    return digest.hexdigest()


def download(name: str, destination: Path) -> dict[str, str]:
    """Fetch dataset ``name`` (a key of :data:`DATASETS`) under ``destination``, as ``MEDAI_DATA_DIR`` lays it out.

    Returns
    -------
    dict of str to str
        Each fetched file (relative to ``destination``) and its SHA-256.
    """
    module, function = DATASETS[name].split(":")
    return getattr(importlib.import_module(module), function)(destination)
