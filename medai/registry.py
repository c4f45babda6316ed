"""The model registry: every shipped model's name, version, labels, input spec, files and card.

Each model lives in ``medai/models/<name>/`` with ``spec.json`` (machine-readable: version, labels,
input, file checksums, fitted calibration) and ``card.json`` (the model card shown to people).
Weights are verified against their SHA-256 and loaded lazily, once per process. The registry is
domain-free: ``spec.json`` names the function that builds the model (``"loader": "module:function"``)
and the one that retrains it (``"trainer"``); they are imported only when first needed.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from medai import config
from medai.errors import MedAIError, ModelIntegrityError, ModelNotFoundError


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows of one model without loading it.

    Attributes
    ----------
    name, version, task : str
        Identity; ``task`` groups models for the pages (e.g. ``"image-classification"``).
    labels : tuple of str
        Output classes, negative first.
    input : dict
        Input description (formats, size, channels, preprocessing).
    files : dict
        File name → SHA-256 hex digest, for every file the loader reads.
    parameters : dict
        Fitted values the loader needs (calibration, threshold).
    directory : Path
        Where the files are.
    loader, trainer : str
        ``"module:function"`` that builds the model from this spec, and the one that retrains it
        (called as ``trainer(model_dir, **options)``); empty when the model cannot be retrained.
    """

    name: str
    version: str
    task: str
    labels: tuple[str, ...]
    input: dict[str, Any]
    files: dict[str, str]
    parameters: dict[str, Any]
    directory: Path
    loader: str
    trainer: str = ""

    def path(self, file_name: str) -> Path:
        """Absolute path of one of the model's files."""
        return self.directory / file_name


def resolve(target: str) -> Callable[..., Any]:
    """The function named by ``"package.module:function"`` (a spec's ``loader`` or ``trainer``)."""
    module_name, _, function_name = target.partition(":")
    return getattr(importlib.import_module(module_name), function_name)


_loaded: dict[tuple[str, str], Any] = {}
_model_locks: dict[tuple[str, str], threading.Lock] = {}
_locks_lock = threading.Lock()


def _lock_for(key: tuple[str, str]) -> threading.Lock:
    """One lock per model: loading one model never makes a request for another wait."""
    with _locks_lock:
        return _model_locks.setdefault(key, threading.Lock())


def models_dir() -> Path:
    """Folder holding one sub-folder per model."""
    return config.MODELS_DIR


def names(task: str | None = None) -> list[str]:
    """Names of the shipped models (optionally of one task), sorted."""
    found = sorted(path.parent.name for path in models_dir().glob("*/spec.json"))
    return [name for name in found if task is None or get_spec(name).task == task]


def get_spec(name: str) -> ModelSpec:
    """The spec of model ``name``; raises :class:`ModelNotFoundError` if there is none."""
    spec_path = models_dir() / name / "spec.json"
    if not spec_path.is_file():
        known = ", ".join(sorted(p.parent.name for p in models_dir().glob("*/spec.json"))) or "none"
        raise ModelNotFoundError(f"No model named '{name}'. Available: {known}.")
    raw = json.loads(spec_path.read_text())
    return ModelSpec(raw["name"], raw["version"], raw["task"], tuple(raw["labels"]), raw["input"],
                     raw["files"], raw.get("parameters", {}), spec_path.parent, raw["loader"],
                     raw.get("trainer", ""))


def get_spec_of_task(name: str, task: str, kind: str) -> ModelSpec:
    """The spec of model ``name`` when it does ``task``; otherwise :class:`MedAIError` saying it is not
    ``kind`` (e.g. "an image classifier") and naming the installed models that are."""
    spec = get_spec(name)
    if spec.task != task:
        raise MedAIError(f"Model '{name}' is not {kind}; choose one of: {', '.join(names(task)) or 'none installed'}.")
    return spec


def card(name: str) -> dict[str, Any]:
    """The model card of ``name`` as a dict (rendered by the app, printed by the CLI)."""
    return json.loads((get_spec(name).directory / "card.json").read_text())


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def weights_digest(spec: ModelSpec) -> str:
    """One SHA-256 for all of a model's files, as the audit trail records it.

    The digest is taken over ``"<sha256>  <file name>\n"`` lines (``sha256sum``'s format) for every
    file of ``spec.files``, sorted by name, so running ``sha256sum`` on those files (in that order,
    in the model folder) and piping its output into ``sha256sum`` gives the same value. :func:`load`
    verifies each checksum, so the digest of a loaded model is that of the files it was built from.
    """
    lines = "".join(f"{checksum}  {name}\n" for name, checksum in sorted(spec.files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def verify(spec: ModelSpec) -> None:
    """Check every file of ``spec`` exists and matches its SHA-256."""
    for file_name, expected in spec.files.items():
        path = spec.path(file_name)
        if not path.is_file():
            raise ModelIntegrityError(f"Model '{spec.name}' is missing its file {file_name}.")
        if sha256_of(path) != expected:
            raise ModelIntegrityError(f"Model '{spec.name}': {file_name} does not match its recorded checksum.")


def load(name: str) -> Any:
    """Load model ``name`` once (verified), then return the same object on every call."""
    spec = get_spec(name)
    key = (spec.name, spec.version)
    with _lock_for(key):
        if key not in _loaded:
            verify(spec)
            try:
                _loaded[key] = resolve(spec.loader)(spec)
            except MedAIError:
                raise
            except Exception as exc:  # files that verify but do not fit this code: an upgrade left half done
                raise ModelIntegrityError(f"Model '{spec.name}' {spec.version} could not be built from its files "
                                          f"({type(exc).__name__}: {exc}); reinstall or retrain it.") from exc
        return _loaded[key]


def is_loaded(name: str) -> bool:
    """Whether ``name`` is already in memory (for the app's model-status panel)."""
    return any(key[0] == name for key in _loaded)
