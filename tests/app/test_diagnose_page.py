"""The Diagnose page through Streamlit's AppTest: a sample gives a result, garbage gives a message."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import REPO

TIMEOUT = 180


@pytest.fixture(autouse=True)
def fresh_resources():
    """Cached resources outlive an AppTest; drop them so each test gets its own audit database."""
    st.cache_resource.clear()


@pytest.fixture
def diagnose_page() -> AppTest:
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    app.run()
    app.switch_page("pages/diagnose.py").run()
    assert not app.exception
    return app


def _text(app: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "error", "warning", "success", "info", "caption") for e in getattr(app, kind)]
    return "\n".join(str(p) for p in parts)


def test_home_page_says_research_use_only():
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT).run()
    assert not app.exception
    assert "Not a medical device" in _text(app)


def test_uploaded_sample_gets_a_diagnosis(diagnose_page, samples):
    data = (samples / "cxr_pneumonia_person1946_bacteria_4874.jpeg").read_bytes()
    diagnose_page.file_uploader(key="uploads").set_value(("xray.jpeg", data, "image/jpeg")).run()
    assert not diagnose_page.exception
    assert any("Decision at threshold" in e.value and "pneumonia" in e.value for e in diagnose_page.error)
    assert [m.label for m in diagnose_page.metric] == ["P(pneumonia)", "Uncertainty (ensemble SD)"]


def test_garbage_upload_gets_a_plain_message(diagnose_page):
    diagnose_page.file_uploader(key="uploads").set_value(("scan.png", b"garbage bytes", "image/png")).run()
    assert not diagnose_page.exception
    assert any("not a PNG, JPEG or DICOM" in e.value for e in diagnose_page.error)


def test_non_xray_sample_is_refused(diagnose_page):
    diagnose_page.multiselect[0].set_value(["not_xray_retina_CHASE_Image_01L.jpg"]).run()
    assert not diagnose_page.exception
    assert any(w.value.startswith("Refused") for w in diagnose_page.warning)


def test_model_cards_and_audit_pages_render(diagnose_page):
    diagnose_page.multiselect[0].set_value(["cxr_normal_NORMAL2-IM-1427-0001.jpeg"]).run()
    cards = diagnose_page.switch_page("pages/models.py").run()
    assert not cards.exception and "cxr-pneumonia" in _text(cards)
    audit = cards.switch_page("pages/audit.py").run()
    assert not audit.exception and len(audit.dataframe) == 1
    assert audit.dataframe[0].value["status"].tolist() == ["ok"]
