"""Whole-process time of ``python -m medai diagnose`` against a DenseNet-121 reference on the same films.

    python benchmarks/cxr_speed.py [--copies 16] [--runs 2] [--folder DIR]

Both read the same folder of full-resolution JPEGs (default: the 40 originals in
``MEDAI_DATA_DIR/imaging/kermany_cxr/full_res_samples``, each copied ``--copies`` times under a new
name) in a fresh process each (``medai diagnose`` recording every film in a scratch audit store, as in
use), timed from launch to exit, alternating so that a busy machine slows
both alike. Goal (issue 10): ``medai diagnose`` in at most a third of the reference's time.
Also measures how far the fast decode (JPEG draft mode) moves the calibrated probability from a
full-size decode, on the originals. Prints a table and writes ``benchmarks/results/cxr_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from medai import config  # noqa: E402

GOAL_RATIO = 1 / 3


def film_folder(destination: Path, copies: int) -> int:
    """Copy each full-resolution original ``copies`` times into ``destination``; return the count."""
    originals = sorted((config.data_dir() / "imaging" / "kermany_cxr" / "full_res_samples").glob("*/*.jpeg"))
    for copy in range(copies):
        for path in originals:
            shutil.copyfile(path, destination / f"{copy:02d}_{path.name}")
    return copies * len(originals)


def timed(command: list[str], environment: dict[str, str]) -> float:
    """Seconds from launch to exit of ``command`` (its output discarded; a failure stops the benchmark)."""
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=REPO, env=environment, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def draft_agreement() -> dict[str, float]:
    """Largest and mean |p(draft decode) - p(full decode)| over the originals, through the shipped path."""
    import numpy as np

    from medai import registry
    from medai.imaging.io import read_image

    model = registry.load("cxr-pneumonia")
    originals = sorted((config.data_dir() / "imaging" / "kermany_cxr" / "full_res_samples").glob("*/*.jpeg"))
    contents = [path.read_bytes() for path in originals]
    full = model.predict([read_image(data) for data in contents])
    fast = model.predict([read_image(data, least_side=model.least_side) for data in contents])
    differences = np.array([abs(a.positive_probability - b.positive_probability) for a, b in zip(full, fast)
                            if a.status == b.status == "ok"])
    same_label = np.mean([a.label == b.label for a, b in zip(full, fast)])
    return {"films": len(contents), "max_abs_probability_difference": round(float(differences.max()), 4),
            "mean_abs_probability_difference": round(float(differences.mean()), 5),
            "same_decision": round(float(same_label), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=16)  # 640 films, as many as the evaluation's 624
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--folder", help="a folder of JPEGs to use instead of the copied originals")
    parser.add_argument("--output", default=str(REPO / "benchmarks" / "results" / "cxr_speed.json"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.folder) if args.folder else Path(scratch, "films")
        if not args.folder:
            folder.mkdir()
            count = film_folder(folder, args.copies)
        else:
            count = len(list(folder.glob("*.jp*g")))
        medai = [sys.executable, "-m", "medai", "diagnose", str(folder), "--output", str(Path(scratch, "out.csv")),
                 "--quiet"]  # audited, as in use, into a scratch store
        environment = {**os.environ, "MEDAI_DB_URL": f"sqlite:///{Path(scratch, 'audit.sqlite')}"}
        reference = [sys.executable, str(REPO / "benchmarks" / "densenet_reference.py"), str(folder)]
        times: dict[str, list[float]] = {"medai diagnose": [], "DenseNet-121 reference": []}
        for _ in range(args.runs):
            times["medai diagnose"].append(timed(medai, environment))
            times["DenseNet-121 reference"].append(timed(reference, environment))
    best = {name: min(values) for name, values in times.items()}
    ratio = best["medai diagnose"] / best["DenseNet-121 reference"]
    results = {
        "films": count, "runs": args.runs,
        "seconds": {name: [round(v, 2) for v in values] for name, values in times.items()},
        "ms_per_film_best_run": {name: round(1000 * value / count, 1) for name, value in best.items()},
        "ratio_best_runs": round(ratio, 3), "goal_ratio_at_most": round(GOAL_RATIO, 3),
        "draft_decode_agreement": draft_agreement(),
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()},
    }
    print(f"{'whole process, ' + str(count) + ' full-resolution JPEGs':44s} {'best s':>8s} {'ms/film':>8s}")
    for name, value in best.items():
        print(f"{name:44s} {value:8.1f} {results['ms_per_film_best_run'][name]:8.1f}")
    print(f"ratio {ratio:.3f} (goal <= {GOAL_RATIO:.3f}); draft decode vs full: {results['draft_decode_agreement']}")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
