"""PhysioNet 2012 sets A and B with their outcomes, read once and cached (``MEDAI_CACHE_DIR``).

``python -m medai download physionet2012`` fetches them for users who have a network (:func:`download`).
"""

from __future__ import annotations

import csv
import pickle
from pathlib import Path

import numpy as np

from medai import config
from medai.errors import DataNotFoundError
from medai.timeline.io import Stay
from medai.timeline.sources import read_stays

SETS = ("a", "b")
PHYSIONET_URL = "https://physionet.org/files/challenge-2012/1.0.0/{file}"
CITATION = ("Silva I et al. Predicting in-hospital mortality of ICU patients: the PhysioNet/Computing in Cardiology "
            "Challenge 2012. CinC 39:245-248 (2012)")


def physionet_dir() -> Path:
    """``MEDAI_DATA_DIR/timeline/physionet2012``."""
    return config.data_dir() / "timeline" / "physionet2012"


def download(destination: Path) -> dict[str, str]:
    """Fetch sets A and B and their outcomes (open access, ODC-BY) into ``destination/timeline/physionet2012``.

    PhysioNet publishes their SHA-256 sums beside them (``SHA256SUMS.txt``); none is pinned here, so the
    ones returned are what was fetched, to compare.
    """
    from medai.downloads import fetch

    files = [name for set_name in SETS for name in (f"set-{set_name}.tar.gz", f"Outcomes-{set_name}.txt")]
    return {f"timeline/physionet2012/{name}": fetch(PHYSIONET_URL.format(file=name),
                                                    destination / "timeline" / "physionet2012" / name)
            for name in files}


def outcomes(set_name: str) -> dict[str, dict[str, float]]:
    """RecordID → {SAPS-I, SOFA, Length_of_stay, Survival, In-hospital_death} of one set (-1 = missing)."""
    path = physionet_dir() / f"Outcomes-{set_name}.txt"
    if not path.is_file():
        raise DataNotFoundError(f"PhysioNet 2012 outcomes not found under {physionet_dir()}.")
    with path.open() as handle:
        return {row["RecordID"]: {k: float(v) for k, v in row.items() if k != "RecordID"}
                for row in csv.DictReader(handle)}


def load_set(set_name: str) -> list[Stay]:
    """Every stay of ``set-<set_name>.tar.gz`` in RecordID order (cached as a pickle after the first read)."""
    archive = physionet_dir() / f"set-{set_name}.tar.gz"
    if not archive.is_file():
        raise DataNotFoundError(f"PhysioNet 2012 set {set_name.upper()} not found under {physionet_dir()}.")
    cache = config.cache_dir() / f"physionet2012_set_{set_name}_{archive.stat().st_size}.pkl"
    if cache.is_file():
        with cache.open("rb") as handle:
            return pickle.load(handle)
    stays = [s for s in read_stays(archive) if isinstance(s, Stay)]
    with cache.open("wb") as handle:
        pickle.dump(stays, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return stays


def development_data() -> tuple[list[Stay], dict[str, np.ndarray]]:
    """Sets A + B: stays and aligned outcome arrays (``death``, ``saps``, ``los``, ``survival``, ``set``), each (n,)."""
    stays, rows, which = [], [], []
    for set_name in SETS:
        table = outcomes(set_name)
        for stay in load_set(set_name):
            if stay.patient_id in table:
                stays.append(stay)
                rows.append(table[stay.patient_id])
                which.append(set_name)
    arrays = {"death": np.array([r["In-hospital_death"] for r in rows], int),
              "saps": np.array([r["SAPS-I"] for r in rows], float),
              "los": np.array([r["Length_of_stay"] for r in rows], float),
              "survival": np.array([r["Survival"] for r in rows], float),
              "set": np.array(which)}
    return stays, arrays
