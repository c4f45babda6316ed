"""The server's background warm-up: the first Diagnose result's models first, then (once idle) tracing,
then every other model; a broken model is reported, not raised; ``MEDAI_PRELOAD=0`` starts nothing."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from medai import config, registry
from pages import common

EVENTS: list[str] = []


class FakeModel:
    def __init__(self, name: str):
        self.name = name

    def prepare(self) -> None:
        EVENTS.append(f"prepare {self.name}")


def fake_loader(spec: registry.ModelSpec) -> FakeModel:
    if spec.name == "broken":
        raise ValueError("weights unreadable")
    EVENTS.append(f"load {spec.name}")
    return FakeModel(spec.name)


@pytest.fixture
def fake_models(tmp_path: Path, monkeypatch) -> None:
    """A models folder with a classifier, the lung model, two other pages' models (one broken)."""
    for name, task in (("a-classifier", "image-classification"), ("cxr-lungs", "image-segmentation"),
                       ("drug-x", "molecular-property"), ("broken", "timeline")):
        (tmp_path / name).mkdir()
        spec = {"name": name, "version": "1.0.0", "task": task, "labels": [], "input": {}, "files": {},
                "loader": "tests.pages.test_warm_up:fake_loader"}
        (tmp_path / name / "spec.json").write_text(json.dumps(spec))
    monkeypatch.setattr(config, "MODELS_DIR", tmp_path)
    monkeypatch.setattr(registry, "_loaded", {})
    monkeypatch.setattr(common, "diagnose", lambda files, name, explain: EVENTS.append(f"diagnose {name}"))
    EVENTS.clear()


def test_first_result_models_then_tracing_when_idle_then_the_rest(fake_models, monkeypatch):
    stop, first_ready, failures = threading.Event(), threading.Event(), {}

    def wait_until_idle(stop_event):
        assert first_ready.is_set()  # serve.py opens the port before the warm-up waits for idle
        EVENTS.append("idle")

    monkeypatch.setattr(common, "wait_until_idle", wait_until_idle)
    common._load_all(failures, stop, first_ready)
    assert EVENTS == ["load a-classifier", "load cxr-lungs", "idle", "prepare a-classifier",
                      "diagnose a-classifier", "load drug-x"]
    said = ("Model 'broken' 1.0.0 could not be built from its files (ValueError: weights unreadable); "
            "reinstall or retrain it.")
    assert failures == {"broken": said}
    assert f"broken 1.0.0 · failed: {said}" in common.model_status(
        common.WarmUp(threading.Thread(target=lambda: None), stop, first_ready, failures))


def test_a_stopped_warm_up_skips_what_is_left(fake_models, monkeypatch):
    stop, first_ready = threading.Event(), threading.Event()
    monkeypatch.setattr(common, "wait_until_idle", lambda stop_event: stop.set())  # the server stops meanwhile
    common._load_all({}, stop, first_ready)
    assert EVENTS == ["load a-classifier", "load cxr-lungs"] and first_ready.is_set()


def test_preload_off_starts_nothing(fake_models, monkeypatch):
    monkeypatch.setenv("MEDAI_PRELOAD", "0")
    monkeypatch.setattr(common, "_started", None)
    warm = common.warm_up()
    assert warm.first_ready.is_set() and not warm.running and common.warm_up() is warm
    common.stop_warm_up()  # nothing to stop or join
    assert EVENTS == []
    assert common.model_status(warm)[0] == "a-classifier 1.0.0 · loads on first use"
