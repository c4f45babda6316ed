"""Shared helpers: a real sample stay shipped in sample_data/timeline (PhysioNet 2012 set A, ODC-BY 1.0)."""

from __future__ import annotations

from pathlib import Path

from medai.timeline.io import Stay, read_physionet

SAMPLES = Path(__file__).resolve().parents[3] / "sample_data" / "timeline"


def sample_stay(name: str | None = None) -> Stay:
    """One shipped sample patient (the first by name unless ``name`` is given)."""
    path = SAMPLES / name if name else sorted(SAMPLES.glob("*.txt"))[0]
    return read_physionet(path.read_bytes(), path.name)
