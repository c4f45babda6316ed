"""Accuracy of ``cxr-pneumonia`` on a labelled folder: prints a table, writes JSON.

    python benchmarks/cxr_accuracy.py [FOLDER]

FOLDER holds ``NORMAL/`` and ``PNEUMONIA/`` sub-folders of original images (the layout of the
Kermany release); default: ``$MEDAI_DATA_DIR/imaging/kermany_cxr/full_res_samples``. Images go
through the same path as an upload (decode → refusal → squash → ensemble → calibration).
Writes ``benchmarks/results/cxr_accuracy.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

from medai import config  # noqa: E402
from medai.calibration import expected_calibration_error, threshold_metrics  # noqa: E402
from medai.imaging.service import diagnose  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = config.data_dir() / "imaging" / "kermany_cxr" / "full_res_samples"
    parser.add_argument("folder", nargs="?", default=str(default))
    parser.add_argument("--output", default=str(REPO / "benchmarks" / "results" / "cxr_accuracy.json"))
    args = parser.parse_args()

    files = [(path, label) for label, name in enumerate(("NORMAL", "PNEUMONIA"))
             for path in sorted(Path(args.folder, name).glob("*")) if path.is_file()]
    outcomes = []
    for start in range(0, len(files), 32):
        chunk = files[start:start + 32]
        outcomes += diagnose([(str(path), path.read_bytes()) for path, _ in chunk], "cxr-pneumonia")
    labels = np.array([label for _, label in files])
    ok = np.array([o.status == "ok" for o in outcomes])
    probabilities = np.array([o.diagnosis.positive_probability if o.status == "ok" else np.nan for o in outcomes])
    threshold = next(o.diagnosis.threshold for o in outcomes if o.diagnosis is not None)
    metrics = threshold_metrics(probabilities[ok], labels[ok], threshold)
    results = {
        "folder": args.folder,
        "images": len(files),
        "refused": int(sum(o.status == "refused" for o in outcomes)),
        "errors": int(sum(o.status == "error" for o in outcomes)),
        "roc_auc": round(float(roc_auc_score(labels[ok], probabilities[ok])), 4) if len(set(labels[ok])) == 2 else None,
        "threshold": threshold,
        **{key: round(value, 4) for key, value in metrics.items()},
        "ece": round(expected_calibration_error(probabilities[ok], labels[ok]), 4),
    }
    for key, value in results.items():
        print(f"{key:12s} {value}")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
