"""Timeline benchmark: risk, forecast, ward worklist and similar stays for the 4,000 stays of PhysioNet 2012
set B (read from the .tar.gz).

``python benchmarks/timeline.py [--limit N] [--audit]`` prints a table and writes
``benchmarks/results/timeline.json``: wall time of reading, risk (mortality + NEWS2), forecast (6 h), the
ward worklist (risk, its 6-hour change and the ranking) and similar stays, stays per second, and the peak
resident memory of the process. Predictions are not audited
unless ``--audit`` (then into a throw-away SQLite file), so the figures are those of the models.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from medai import registry  # noqa: E402
from medai.timeline.datasets import physionet_dir  # noqa: E402
from medai.timeline.sources import read_stays  # noqa: E402
from medai.timeline.service import assess_risk, find_similar, forecast_all  # noqa: E402
from medai.timeline.ward import worklist  # noqa: E402


def peak_mb() -> float:
    """Peak resident set size of this process so far, MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=4000, help="stays to use (default 4000)")
    parser.add_argument("--audit", action="store_true", help="record every prediction in a temporary audit store")
    args = parser.parse_args()
    archive = physionet_dir() / "set-b.tar.gz"
    store = None
    if args.audit:
        from medai.store import AuditStore
        store = AuditStore(f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite")
    started = time.perf_counter()
    registry.load("icu-mortality")
    registry.load("icu-vitals-forecast")
    registry.load("icu-similar-stays")
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    stays = list(islice(read_stays(archive), args.limit))
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    risks = list(assess_risk(stays, store=store, source="benchmark"))
    risk_s = time.perf_counter() - started
    started = time.perf_counter()
    forecasts = list(forecast_all(stays, 6, store=store, source="benchmark"))
    forecast_s = time.perf_counter() - started
    started = time.perf_counter()
    worklist(stays, store=store, source="benchmark")
    ward_s = time.perf_counter() - started
    started = time.perf_counter()
    list(find_similar(stays, store=store, source="benchmark"))
    similar_s = time.perf_counter() - started
    n = len(stays)
    rows = [("load models", load_s, None), ("read set B (.tar.gz)", read_s, n / read_s),
            ("risk + NEWS2", risk_s, n / risk_s), ("forecast 6 h", forecast_s, n / forecast_s),
            ("ward worklist", ward_s, n / ward_s), ("similar stays", similar_s, n / similar_s),
            ("read + risk (CLI risk)", read_s + risk_s, n / (read_s + risk_s))]
    print(f"{n} stays, audit {'on' if args.audit else 'off'}, {os.cpu_count()} CPUs")
    print(f"{'step':<26}{'seconds':>10}{'stays/s':>10}")
    for label, seconds, rate in rows:
        print(f"{label:<26}{seconds:>10.1f}{'' if rate is None else f'{rate:10.0f}'}")
    print(f"peak memory: {peak_mb():.0f} MB; risk rows ok/flagged/error: "
          f"{sum(r.status == 'ok' for r in risks)}/{sum(r.status == 'flagged' for r in risks)}/"
          f"{sum(r.status == 'error' for r in risks)}; forecast points {sum(len(f.forecasts) for f in forecasts)}")
    result = {"stays": n, "audit": args.audit, "cpus": os.cpu_count(), "machine": platform.machine(),
              "seconds": {label: round(seconds, 2) for label, seconds, _ in rows},
              "peak_memory_mb": round(peak_mb()), "risk_goal_seconds": 60,
              "statuses": {s: sum(r.status == s for r in risks) for s in ("ok", "flagged", "error")}}
    out = ROOT / "benchmarks" / "results" / "timeline.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
