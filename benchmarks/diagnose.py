"""Speed of the Diagnose path on this CPU: prints a table and writes benchmarks/results/diagnose.json.

    python benchmarks/diagnose.py [--repeats 50] [--batch 256]

Measures, for the shipped ``cxr-pneumonia`` model and a full-resolution sample X-ray:
- decode: bytes → MedicalImage (JPEG decode, grey conversion);
- predict + Grad-CAM at batch 1 (refusal check, squash, every ensemble member, heat map);
- throughput of predict (no heat map) on a batch of 256 decoded images.
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

import numpy as np  # noqa: E402

from medai import registry  # noqa: E402
from medai.imaging.io import read_image  # noqa: E402

SAMPLE = REPO / "sample_data" / "imaging" / "cxr_normal_NORMAL2-IM-1427-0001.jpeg"


def _percentiles(seconds: list[float]) -> dict[str, float]:
    milliseconds = np.array(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(milliseconds, 50)), 1),
            "p95_ms": round(float(np.percentile(milliseconds, 95)), 1)}


def _timed(function, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--output", default=str(REPO / "benchmarks" / "results" / "diagnose.json"))
    args = parser.parse_args()

    model = registry.load("cxr-pneumonia")
    data = SAMPLE.read_bytes()
    image = read_image(data)
    for _ in range(3):  # warm-up: trace the tf.functions
        model.predict([image], explain=True)
        model.predict([image] * 8)

    decode = _percentiles(_timed(lambda: read_image(data), args.repeats))
    explain = _percentiles(_timed(lambda: model.predict([image], explain=True), args.repeats))
    plain = _percentiles(_timed(lambda: model.predict([image]), args.repeats))
    images = [image] * args.batch
    batch_seconds = min(_timed(lambda: model.predict(images), 3))
    spec = registry.get_spec("cxr-pneumonia")
    results = {
        "model": f"{spec.name} {spec.version}",
        "members": len(spec.parameters["members"]),
        "sample": f"{SAMPLE.name} ({image.shape[1]}x{image.shape[0]} px)",
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "python": platform.python_version()},
        "decode_batch1": decode,
        "predict_gradcam_batch1": explain,
        "predict_batch1": plain,
        f"throughput_batch{args.batch}_images_per_s": round(args.batch / batch_seconds, 1),
        "goal": "predict + Grad-CAM p50 <= 100 ms on 2 cores",
    }
    rows = [("decode (JPEG → grey)", decode), ("predict + Grad-CAM", explain), ("predict only", plain)]
    print(f"{'step (batch 1)':28s} {'p50 ms':>8s} {'p95 ms':>8s}")
    for name, values in rows:
        print(f"{name:28s} {values['p50_ms']:8.1f} {values['p95_ms']:8.1f}")
    print(f"throughput, batch of {args.batch}: {results[f'throughput_batch{args.batch}_images_per_s']} images/s")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
