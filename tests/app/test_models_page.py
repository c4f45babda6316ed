"""Model cards page (AppTest): a full card shows charts, headline and every figure; a bare card every figure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from streamlit.testing.v1 import AppTest

from medai import config, registry
from pages.card_view import label
from tests.conftest import REPO
from tests.pages.cards import FULL_CARD

TIMEOUT = 60
NEW_SECTIONS = ("headline", "confusion", "curves")
SHIPPED_CARD = config.MODELS_DIR / "cxr-pneumonia" / "card.json"


def _shipped_card() -> dict:
    return json.loads(SHIPPED_CARD.read_text())


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch) -> Path:
    """A models folder with a card that has every section and the shipped card without the new ones."""
    folder = tmp_path / "models"
    bare = {key: value for key, value in _shipped_card().items() if key not in NEW_SECTIONS}
    for name, card in (("demo-full", FULL_CARD), ("demo-bare", bare)):
        (folder / name).mkdir(parents=True)
        spec = {"name": name, "version": card["version"], "task": "image-classification", "labels": ["a", "b"],
                "input": {}, "files": {}, "loader": "builtins:repr"}  # the app's warm-up "loads" it
        (folder / name / "spec.json").write_text(json.dumps(spec))
        (folder / name / "card.json").write_text(json.dumps({**card, "name": name}))
    monkeypatch.setattr(config, "MODELS_DIR", folder)
    return folder


def _cards_page(model: str) -> AppTest:
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT).run()
    app.switch_page("pages/models.py").run()
    app.selectbox(key="card_model").set_value(model).run()
    assert not app.exception
    return app


def _text(app: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "warning") for e in getattr(app, kind))


def _cells(app: AppTest) -> str:
    return "\n".join(str(cell) for table in app.table for cell in table.value.to_numpy().ravel())


def _numbers(value: Any) -> Iterator[float]:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            yield from _numbers(item)
    elif isinstance(value, float):
        yield value


def test_full_card_shows_charts_headline_confusion_and_every_figure(models_dir):
    app = _cards_page("demo-full")
    assert len(app.get("plotly_chart")) == 3  # ROC, reliability, parity
    assert [m.label for m in app.metric] == ["ROC-AUC", "Sensitivity"]
    assert app.metric[0].value == "0.9968"
    text, cells = _text(app), _cells(app)
    assert "95 % CI 0.9941 – 0.9988" in text and "prevalence only: 0.5" in text
    assert "732 (96.6 %)" in cells  # the confusion table, with row percentages
    assert "0.9588 – 0.982" in cells  # a figure and its interval share a row
    assert all(str(v) in cells for v in _numbers(FULL_CARD["metrics"]))
    assert FULL_CARD["limitations"][0] in text
    assert FULL_CARD["data"]["source"].strip() in text
    assert "**Input:**\n  - **Formats:** png, jpeg" in text  # a nested recipe as a nested list
    assert app.get("download_button")


def test_card_without_the_new_sections_shows_every_figure(models_dir):
    app = _cards_page("demo-bare")
    assert not app.get("plotly_chart") and not app.metric
    cells = _cells(app)
    metrics = _shipped_card()["metrics"]
    assert all(str(v) in cells for v in _numbers(metrics))  # 41 of 51 were once hidden in scroll boxes
    assert "adult chest X-rays" in cells


def test_the_page_opens_on_the_diagnose_classifiers_card():
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT).run()
    app.switch_page("pages/models.py").run()
    assert not app.exception
    assert registry.names()[0] != "cxr-pneumonia"  # else opening on the first name would pass too
    assert app.selectbox(key="card_model").value == "cxr-pneumonia"


def test_shipped_cards_render():
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT).run()
    app.switch_page("pages/models.py").run()
    for name in registry.names():
        app.selectbox(key="card_model").set_value(name).run()
        assert not app.exception
        assert f"### {name}" in _text(app)


def test_keys_read_as_words():
    assert label("auprc") == "AUPRC" and label("c_index") == "C-index"
    assert label("training_minutes_on_2_cpu_cores") == "Training minutes on 2 CPU cores"
