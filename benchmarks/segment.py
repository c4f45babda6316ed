"""Speed of the Segment path on this CPU: prints a table and writes benchmarks/results/segment.json.

    python benchmarks/segment.py [--repeats 20] [--models cxr-lungs ...]

For each installed segmentation model, on one image of a typical size, per image (batch 1, after a
warm-up), p50 and p95 of:
- read: bytes → MedicalImage (decode, grey and colour pixels);
- predict: the U-Net and the refusal checks on a decoded image (``Segmenter.predict_one``);
- segment: ``service.segment`` as the page and the CLI call it (read + predict + areas and findings
  at the original size; no audit record);
- export: every structure's mask at the original size as a PNG (what the CLI writes per image).

Inputs: ``cxr-lungs`` a 1776x1416 chest X-ray from sample_data/imaging; ``retina-vessels`` the
999x960 CHASE_DB1 sample; ``colon-polyp`` a 622x529 Kvasir-SEG frame from ``MEDAI_DATA_DIR`` when the
data are there, else a synthetic colonoscopy-like frame of that size. The machine's load average is
recorded: figures taken while other jobs run (a training run, say) are slower than on a quiet machine.
"""

from __future__ import annotations

import argparse
import io
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
from PIL import Image  # noqa: E402

from medai import config, registry  # noqa: E402
from medai.imaging.io import read_image  # noqa: E402
from medai.imaging.segment.export import mask_png, outcome_masks  # noqa: E402
from medai.imaging.segment.service import segment  # noqa: E402

SAMPLES = REPO / "sample_data" / "imaging"
GOAL_MODEL, GOAL_MS = "cxr-lungs", 1000.0
KVASIR_SIZE = (622, 529)  # (width, height): the most common Kvasir-SEG frame size


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


def _synthetic_colonoscopy(size: tuple[int, int]) -> bytes:
    """A pink, shaded, vignetted frame with a darker raised blob: colour statistics like an endoscopy frame."""
    width, height = size
    rows, columns = np.mgrid[:height, :width].astype(np.float32)
    radius = np.hypot((rows - height / 2) / height, (columns - width / 2) / width)
    shade = np.clip(1.1 - 1.4 * radius, 0, 1)[..., None]
    rgb = np.array([200, 110, 100], np.float32) * shade
    blob = np.hypot(rows - height * 0.55, columns - width * 0.45) < min(size) * 0.12
    rgb[blob] *= np.array([0.8, 0.65, 0.6], np.float32)
    rgb += np.random.default_rng(0).normal(0, 6, rgb.shape)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()


def _kvasir_frame() -> tuple[str, bytes]:
    """A 622x529 Kvasir-SEG frame from the data folder, or a synthetic one of that size."""
    folder = config.data_dir() / "imaging" / "segmentation" / "Kvasir-SEG" / "images"
    if folder.is_dir():
        for path in sorted(folder.glob("*.jpg")):
            with Image.open(path) as image:
                if image.size == KVASIR_SIZE:
                    return f"Kvasir-SEG {path.name}", path.read_bytes()
    return "synthetic colonoscopy-like frame", _synthetic_colonoscopy(KVASIR_SIZE)


def sample_for(model: str) -> tuple[str, bytes]:
    """(description, file bytes) of a typical input for ``model``."""
    if model == "cxr-lungs":
        path = SAMPLES / "cxr_normal_NORMAL2-IM-1427-0001.jpeg"
    elif model == "retina-vessels":
        path = SAMPLES / "fundus_retina_CHASE_Image_01L.jpg"
    elif model == "colon-polyp":
        return _kvasir_frame()
    else:
        raise SystemExit(f"no typical input known for {model}")
    return path.name, path.read_bytes()


def bench(model_name: str, repeats: int) -> dict[str, object]:
    """Timings of one model on its typical input."""
    spec = registry.get_spec(model_name)
    model = registry.load(model_name)
    colour = int(spec.input.get("channels", 1)) == 3
    name, data = sample_for(model_name)
    image = read_image(data, keep_colour=colour)

    def full() -> None:
        segment([(name, data)], model_name)

    def export() -> None:
        for mask in outcome_masks(outcome).values():
            mask_png(mask)

    outcome = segment([(name, data)], model_name)[0]
    for _ in range(3):  # warm-up: trace the network at this input's working shape
        model.predict_one(image)
        full()
    return {
        "version": spec.version,
        "sample": f"{name} ({image.shape[1]}x{image.shape[0]} px)",
        "working_shape": list(model.working_shape(image.shape)),
        "status": outcome.status,
        "structures": len(spec.labels),
        "read": _percentiles(_timed(lambda: read_image(data, keep_colour=colour), repeats)),
        "predict": _percentiles(_timed(lambda: model.predict_one(image), repeats)),
        "segment": _percentiles(_timed(full, repeats)),
        "export_pngs": _percentiles(_timed(export, max(3, repeats // 4))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--models", nargs="*", help="default: every installed segmentation model")
    parser.add_argument("--output", default=str(REPO / "benchmarks" / "results" / "segment.json"))
    args = parser.parse_args()

    names = args.models or registry.names("image-segmentation")
    if not names:
        raise SystemExit("No segmentation model is installed under medai/models.")
    load_before = os.getloadavg()[0]
    models = {name: bench(name, args.repeats) for name in names}
    results = {
        "machine": {"cpus": os.cpu_count(), "processor": platform.processor() or platform.machine(),
                    "python": platform.python_version(),
                    "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]},
        "repeats": args.repeats,
        "models": models,
        "goal": f"{GOAL_MODEL}: service.segment p50 < {GOAL_MS:.0f} ms per image on 2 cores",
    }
    if GOAL_MODEL in models:
        results["goal_met"] = models[GOAL_MODEL]["segment"]["p50_ms"] < GOAL_MS
    print(f"{'model':16s} {'input':>10s} {'status':>8s} "
          + " ".join(f"{step + ' p50/p95 ms':>22s}" for step in ("read", "predict", "segment", "export PNGs")))
    for name, row in models.items():
        size = row["sample"].rsplit("(", 1)[1].split(" ")[0]
        cells = " ".join(f"{row[key]['p50_ms']:>13.0f} / {row[key]['p95_ms']:<6.0f}"
                         for key in ("read", "predict", "segment", "export_pngs"))
        print(f"{name:16s} {size:>10s} {row['status']:>8s} {cells}")
    print(f"load average (1 min) before/after: {results['machine']['load_average_1min']}")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
