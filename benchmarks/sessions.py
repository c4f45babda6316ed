"""Server memory and time to results with N clinicians at once: prints a table, writes JSON.

    python benchmarks/sessions.py [--sessions 1 2 4 8] [--films 10] [--settle 60]

Starts ``python serve.py`` (what ``make run`` starts) on a free port (its own audit database), warms it up with one film,
then for each N opens N browser sessions at once (Debian's Chromium, headless, through Playwright;
never a browser download), each uploading ``--films`` full-resolution chest films. It reports the
server's peak resident memory during the round, its memory before the round and ``--settle`` seconds
after the sessions closed, and each session's time from upload to all results on screen. Goal: peak
< 2 GB for 8 sessions x 10 films, and memory after closing within 200 MB of before.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]
FULL_RES = Path("/work/shared/data/imaging/kermany_cxr/full_res_samples")
SAMPLES = REPO / "sample_data" / "imaging"
TIMEOUT_MS = 600_000


def free_port() -> int:
    """A free loopback TCP port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(folder: Path) -> tuple[subprocess.Popen, str]:
    """``python serve.py`` (what ``make run`` starts) on a free port with its own audit database and log in ``folder``."""
    port = free_port()
    env = {**os.environ, "MEDAI_DB_URL": f"sqlite:///{folder / 'audit.sqlite'}", "TF_CPP_MIN_LOG_LEVEL": "2"}
    server = subprocess.Popen(
        [sys.executable, "serve.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=REPO, env=env, stdout=(folder / "streamlit.log").open("w"), stderr=subprocess.STDOUT)
    return server, f"http://127.0.0.1:{port}"


def wait_healthy(server: subprocess.Popen, url: str, timeout_s: float = 120) -> float:
    """Poll ``/_stcore/health`` until it answers 200; return the monotonic time it did."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return time.monotonic()
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the server did not answer its health check")


def stop_server(server: subprocess.Popen) -> None:
    """Terminate the server, killing it if it does not stop within 20 s."""
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def films(count: int) -> list[Path]:
    """``count`` chest films: the full-resolution validation samples when present, else the shipped samples."""
    pool = sorted(FULL_RES.glob("*/*.jpeg")) or sorted(SAMPLES.glob("cxr_*.jpeg"))
    return [pool[i % len(pool)] for i in range(count)]


def launch_options() -> dict:
    """Playwright launch arguments for Debian's Chromium."""
    if not Path(CHROMIUM).exists():
        raise SystemExit("Debian's chromium is missing: apt-get install -y chromium")
    return {"executable_path": CHROMIUM, "args": CHROMIUM_FLAGS, "headless": True}


class PeakSampler:
    """Sample a process's RSS every ``period`` seconds in a thread; keep the peak."""

    def __init__(self, pid: int, period: float = 0.2):
        self.pid, self.period, self.peak = pid, period, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(self.period)

    def __enter__(self) -> "PeakSampler":
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join()


async def one_session(browser, url: str, paths: list[Path]) -> float:
    """Open /diagnose in a new context, upload ``paths`` at once; seconds until every result is drawn."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1200})
    try:
        page = await context.new_page()
        await page.goto(f"{url}/diagnose", timeout=TIMEOUT_MS)
        upload = page.locator("input[type='file']")
        await upload.wait_for(state="attached", timeout=TIMEOUT_MS)
        files = [{"name": f"film_{i:02d}.jpeg", "mimeType": "image/jpeg", "buffer": path.read_bytes()}
                 for i, path in enumerate(paths)]
        started = time.monotonic()
        await upload.set_input_files(files=files)
        headings = page.locator("h3").filter(has_text="film_")
        await page.wait_for_function(
            "n => [...document.querySelectorAll('h3')].filter(h => h.textContent.includes('film_')).length >= n"
            " && !document.querySelector('[data-testid=stProgress]')", arg=len(paths), timeout=TIMEOUT_MS)
        elapsed = time.monotonic() - started
        assert await headings.count() == len(paths)
        return elapsed
    finally:
        await context.close()


async def round_of(url: str, sessions: int, paths: list[Path]) -> list[float]:
    """``sessions`` browser sessions at once, each uploading ``paths``; their upload→results seconds."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**launch_options())
        try:
            return list(await asyncio.gather(*(one_session(browser, url, paths) for _ in range(sessions))))
        finally:
            await browser.close()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--films", type=int, default=10)
    parser.add_argument("--settle", type=float, default=60.0, help="seconds to wait after closing")
    args = parser.parse_args(argv)
    paths = films(args.films)
    with tempfile.TemporaryDirectory() as folder:
        server, url = start_server(Path(folder))
        try:
            wait_healthy(server, url)
            warm_up = asyncio.run(round_of(url, 1, paths[:1]))[0]
            time.sleep(5)
            rounds = []
            for count in args.sessions:
                before = rss_mb(server.pid)
                with PeakSampler(server.pid) as sampler:
                    times = asyncio.run(round_of(url, count, paths))
                time.sleep(args.settle)
                after = rss_mb(server.pid)
                rounds.append({"sessions": count, "films_each": len(paths), "rss_before_mb": round(before),
                               "rss_peak_mb": round(sampler.peak), "rss_after_close_mb": round(after),
                               "after_minus_before_mb": round(after - before),
                               "upload_to_results_s": [round(t, 1) for t in times],
                               "upload_to_results_max_s": round(max(times), 1)})
                print(f"{count} session(s): peak {sampler.peak:.0f} MB, before {before:.0f}, "
                      f"{args.settle:.0f} s after close {after:.0f}; slowest {max(times):.1f} s", flush=True)
        finally:
            stop_server(server)
    result = {
        "machine": {"cpus": os.cpu_count(), "processor": platform.machine(), "python": platform.python_version()},
        "films": sorted({f"{p.parent.name}/{p.name}" for p in paths}),
        "film_source": str(paths[0].parent.parent),
        "warm_up_first_film_s": round(warm_up, 1),
        "settle_s": args.settle,
        "rounds": rounds,
        "goal": "8 sessions x 10 films: peak < 2048 MB; after close within 200 MB of before",
    }
    print(f"\n{'sessions':>8} {'before MB':>10} {'peak MB':>8} {'after MB':>9} {'after-before':>12} {'slowest s':>9}")
    for row in rounds:
        print(f"{row['sessions']:>8} {row['rss_before_mb']:>10} {row['rss_peak_mb']:>8} "
              f"{row['rss_after_close_mb']:>9} {row['after_minus_before_mb']:>12} {row['upload_to_results_max_s']:>9}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sessions.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
