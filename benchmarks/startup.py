"""From a cold server to the first result on screen: prints a table, writes benchmarks/results/startup.json.

    python benchmarks/startup.py [--runs 3]

Each run starts ``python serve.py`` (what ``make run`` starts) on a free port, waits for ``/_stcore/health``, then (with a
browser launched beforehand: Debian's Chromium through Playwright) opens /diagnose, uploads one film and
waits for its decision. Times are measured from the health check. Goal: the first result within 10 s of
the health check. The server log is checked for the noise the issue named (file-watcher overflow,
TensorFlow retracing, tracebacks).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sessions import RESULTS, SAMPLES, TIMEOUT_MS, launch_options, start_server, stop_server, wait_healthy  # noqa: E402

FILM = SAMPLES / "cxr_pneumonia_person1946_bacteria_4874.jpeg"
NOISE = {"inotify_overflow": "Inotify queue overflowed", "tf_retracing": "triggered tf.function retracing",
         "traceback": "Traceback (most recent call last)"}


def one_run(browser) -> dict:
    """One cold start: seconds from launch to health, and from health to page, upload and first result."""
    with tempfile.TemporaryDirectory() as folder:
        launched = time.monotonic()
        server, url = start_server(Path(folder))
        try:
            healthy = wait_healthy(server, url)
            context = browser.new_context(viewport={"width": 1400, "height": 1200})
            page = context.new_page()
            page.goto(f"{url}/diagnose", timeout=TIMEOUT_MS)
            upload = page.locator("input[type='file']")
            upload.wait_for(state="attached", timeout=TIMEOUT_MS)
            page_shown = time.monotonic()
            upload.set_input_files(str(FILM))
            page.get_by_text("decision at threshold").wait_for(state="visible", timeout=TIMEOUT_MS)
            result = time.monotonic()
            context.close()
            time.sleep(2)  # let the log catch up
        finally:
            stop_server(server)
        log = (Path(folder) / "streamlit.log").read_text(errors="replace")
    return {"launch_to_health_s": round(healthy - launched, 2), "health_to_page_s": round(page_shown - healthy, 2),
            "upload_to_result_s": round(result - page_shown, 2), "health_to_result_s": round(result - healthy, 2),
            "log_lines": {name: log.count(text) for name, text in NOISE.items()}}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**launch_options())
        try:
            runs = [one_run(browser) for _ in range(args.runs)]
        finally:
            browser.close()
    keys = ["launch_to_health_s", "health_to_page_s", "upload_to_result_s", "health_to_result_s"]
    print(f"{'run':>3} " + " ".join(f"{key:>20}" for key in keys) + "  log noise")
    for number, run in enumerate(runs, start=1):
        print(f"{number:>3} " + " ".join(f"{run[key]:>20}" for key in keys) + f"  {run['log_lines']}")
    median = {key: round(statistics.median(run[key] for run in runs), 2) for key in keys}
    print("med " + " ".join(f"{median[key]:>20}" for key in keys))
    result = {
        "machine": {"cpus": os.cpu_count(), "processor": platform.machine(), "python": platform.python_version()},
        "film": FILM.name, "runs": runs, "median": median,
        "goal": "first result on screen within 10 s of the health check (health_to_result_s <= 10)",
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "startup.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
