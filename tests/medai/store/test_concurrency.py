"""Twenty writers at once: every prediction and verdict present afterwards, none duplicated.

SQLite: 20 threads of one process sharing one store (as the app's server does). PostgreSQL: 20
processes, each opening its own store (as several app servers and CLI runs would). Every worker
records ``PER_WORKER`` predictions, saves a verdict on each and then changes it (the upsert path),
and all of them save a verdict by the same user on one shared prediction at the same time (the
conflict path). The timings are written to ``test-artifacts/store-concurrency-<backend>.json``.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa

from medai.store import AuditStore

WORKERS, PER_WORKER = 20, 10
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"


def write(url: str, worker: int, shared_id: int, start, store: AuditStore | None = None
          ) -> tuple[list[int], float, float]:
    """One worker's writes, begun when all are ready: the ids it recorded, and when it began and ended."""
    store = store or AuditStore(url)
    start.wait()
    began = time.time()
    ids = []
    for index in range(PER_WORKER):
        ids.append(store.record_prediction(
            user=f"worker-{worker}", source="test", model_name="m", model_version="1",
            input_sha256=f"{worker:032x}{index:032x}", status="ok", label="normal",
            probabilities={"normal": 0.7, "pneumonia": 0.3}, weights_sha256="ab" * 32,
            input_metadata={"worker": worker, "index": index}, duration_ms=1.0))
        store.record_feedback(ids[-1], user=f"worker-{worker}", verdict="agree")
        store.record_feedback(ids[-1], user=f"worker-{worker}", verdict="override", corrected_label="pneumonia")
    store.record_feedback(shared_id, user="everyone", verdict="override", corrected_label=f"label-{worker}")
    return ids, began, time.time()


def _process_worker(arguments) -> tuple[list[int], float, float]:
    return write(*arguments)


def _span(results) -> tuple[list[int], float]:
    """All ids, and the seconds from the first worker's start to the last one's end."""
    ids = [i for result in results for i in result[0]]
    return ids, max(r[2] for r in results) - min(r[1] for r in results)


def _check(store: AuditStore, ids: list[int], shared_id: int) -> None:
    expected = WORKERS * PER_WORKER
    assert len(ids) == len(set(ids)) == expected
    with store.engine.connect() as connection:
        predictions = connection.execute(sa.text("SELECT count(*), count(DISTINCT input_sha256) FROM predictions "
                                                 "WHERE source = 'test'")).one()
        feedback = connection.execute(sa.text("SELECT count(*), count(DISTINCT prediction_id || '/' || \"user\") "
                                              "FROM feedback")).one()
        overrides = connection.execute(sa.text("SELECT count(*) FROM feedback WHERE verdict = 'override' "
                                               "AND corrected_label = 'pneumonia'")).scalar_one()
    assert tuple(predictions) == (expected, expected)
    assert tuple(feedback) == (expected + 1, expected + 1)  # one verdict per worker's prediction, one shared
    assert overrides == expected
    (shared,) = store.feedback_for(shared_id)
    assert shared.user == "everyone" and shared.corrected_label.startswith("label-")


def _report(backend: str, how: str, seconds: float) -> None:
    writes = WORKERS * PER_WORKER * 3 + WORKERS
    figures = {"backend": backend, "workers": WORKERS, "how": how, "predictions": WORKERS * PER_WORKER,
               "feedback_saves": WORKERS * PER_WORKER * 2 + WORKERS, "transactions": writes,
               "seconds": round(seconds, 3), "transactions_per_second": round(writes / seconds, 1)}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"store-concurrency-{backend}.json").write_text(json.dumps(figures, indent=2))
    print(figures)


def _shared_prediction(store: AuditStore) -> int:
    return store.record_prediction(user="dr.shared", source="ui", model_name="m", model_version="1",
                                   input_sha256="ff" * 32, status="ok", label="normal")


def test_twenty_threads_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'concurrent.sqlite'}"
    store = AuditStore(url)
    shared_id = _shared_prediction(store)
    start = threading.Barrier(WORKERS)
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = [pool.submit(write, url, worker, shared_id, start, store) for worker in range(WORKERS)]
        ids, seconds = _span([future.result() for future in futures])
    _check(store, ids, shared_id)
    _report("sqlite", "20 threads, one store", seconds)


def test_twenty_processes_on_postgresql(postgres_url):
    store = AuditStore(postgres_url)  # migrate once up front; each process opens its own store too
    shared_id = _shared_prediction(store)
    # forkserver: children fork from a fresh server process that imported the store once, so they
    # inherit nothing of the test process (its threads, its engines) and start in milliseconds.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["medai.store", __name__])
    with context.Manager() as manager, context.Pool(WORKERS) as pool:
        start = manager.Barrier(WORKERS)  # timing starts once every process has imported and opened its store
        ids, seconds = _span(pool.map(_process_worker, [(postgres_url, worker, shared_id, start)
                                                        for worker in range(WORKERS)], chunksize=1))
    _check(store, ids, shared_id)
    _report("postgresql", "20 processes, a store each", seconds)
