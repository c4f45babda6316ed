"""Speed of the drug screen end to end: prints a table and writes benchmarks/results/screen.json.

    python benchmarks/screen.py [--limit N] [--workers 2]

Screens the MoleculeNet HIV file (about 37,000 molecules; ``MEDAI_DATA_DIR/drug/moleculenet/HIV.csv``)
through :func:`medai.drug.service.screen` — read, standardise (incl. canonical tautomer), descriptors,
QED, SA score, PAINS/Brenk alerts, features, all six property models, nearest-training similarity
per model, approved-drug percentiles — and times RDKit's bare ``MolFromSmiles`` on the same SMILES.
Model loading is excluded (it happens once per server process); the rest is wall-clock time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from rdkit import Chem, RDLogger  # noqa: E402

from medai import registry  # noqa: E402
from medai.drug import datasets  # noqa: E402
from medai.drug.io import read_csv  # noqa: E402
from medai.drug.service import SCREEN_MODELS, screen  # noqa: E402

RDLogger.DisableLog("rdApp.*")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="screen only the first N molecules (0 = all)")
    parser.add_argument("--workers", type=int, default=2, help="processes for the per-molecule work")
    args = parser.parse_args()
    molecules = read_csv((datasets.data_root() / "HIV.csv").read_bytes())
    if args.limit:
        molecules = molecules[:args.limit]
    for name in SCREEN_MODELS:
        registry.load(name)

    started = time.perf_counter()
    parsed = sum(Chem.MolFromSmiles(m.smiles) is not None for m in molecules)
    parse_seconds = time.perf_counter() - started

    started = time.perf_counter()
    result = screen(molecules, workers=args.workers)
    screen_seconds = time.perf_counter() - started
    valid = sum(m.valid for m in result.molecules)

    rows = {
        "molecules": len(molecules),
        "valid": valid,
        "rdkit_parse_seconds": round(parse_seconds, 2),
        "rdkit_parse_molecules_per_second": round(len(molecules) / parse_seconds),
        "screen_seconds": round(screen_seconds, 2),
        "screen_molecules_per_second": round(len(molecules) / screen_seconds),
        "screen_to_parse_time_ratio": round(screen_seconds / parse_seconds, 1),
        "workers": args.workers,
        "models": {name: registry.get_spec(name).version for name in SCREEN_MODELS},
    }
    print(f"{'step':34s} {'seconds':>9s} {'molecules/s':>12s}")
    print(f"{'RDKit MolFromSmiles only':34s} {parse_seconds:9.2f} {rows['rdkit_parse_molecules_per_second']:12,d}")
    print(f"{'medai screen (6 models, end to end)':34s} {screen_seconds:9.2f} {rows['screen_molecules_per_second']:12,d}")
    print(f"screen takes {rows['screen_to_parse_time_ratio']}x the time of bare parsing; "
          f"{valid} of {len(molecules)} valid; {parsed} parsed by RDKit")
    rows["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    out = REPO / "benchmarks" / "results" / "screen.json"
    out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
