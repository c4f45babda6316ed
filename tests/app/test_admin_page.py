"""The Admin page through AppTest: audit log and its export, registry with digests, feedback statistics and
export (each export recorded first), database health; admins only when sign-in is on."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from medai import registry
from medai.store import AuditStore
from tests.conftest import REPO

TIMEOUT = 180


def _seed() -> list[int]:
    store = AuditStore()
    ids = [store.record_prediction(user="dr.a", source="ui", model_name="cxr-pneumonia", model_version="1.1.0",
                                   input_sha256=f"{index:064x}", status="ok", label=label, weights_sha256="ab" * 32)
           for index, label in enumerate(["pneumonia", "normal", "pneumonia"])]
    store.record_feedback(ids[0], user="dr.b", verdict="override", corrected_label="normal")
    store.record_feedback(ids[1], user="dr.b", verdict="agree")
    return ids


FRAMES = ("log", "events", "models", "statistics", "rows")  # the page's tables, in page order


def _frames(app: AppTest) -> dict:
    return dict(zip(FRAMES, (frame.value for frame in app.dataframe), strict=True))


def _admin_page(app: AppTest | None = None) -> AppTest:
    if app is None:  # (an AppTest that has not run yet is falsy: it has no elements)
        app = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    app.run()
    app.switch_page("pages/admin.py").run()
    assert not app.exception, app.exception
    return app


def test_every_section_shows_what_the_store_and_registry_hold():
    _seed()
    app = _admin_page()
    assert [tab.label for tab in app.tabs] == ["Audit log", "Models", "Feedback", "Database"]
    frames = _frames(app)
    log = frames["log"]
    assert log["id"].tolist() == [3, 2, 1] and log["feedback"].tolist()[1:] == ["agree", "override → normal"]
    models = frames["models"]
    row = models.set_index("model").loc["cxr-pneumonia"]
    assert row["weights SHA-256"] == registry.weights_digest(registry.get_spec("cxr-pneumonia"))
    statistics = frames["statistics"].set_index("model")
    assert statistics.loc["cxr-pneumonia", ["predictions", "reviewed", "agree", "override"]].tolist() == [3, 2, 1, 1]
    text = " ".join(m.value for m in app.markdown)
    assert "Schema revision:** 0003" in text and "sqlite:///" in text
    assert "**2** reviewed record(s) with a label, of 2 distinct input(s)" in text
    rows = frames["rows"].set_index("table")["rows"].to_dict()
    assert rows == {"predictions": 3, "feedback": 2, "audit_events": 0}


def test_exports_are_recorded_before_they_are_offered():
    _seed()
    app = _admin_page()
    assert not app.download_button
    app.button(key="admin_log_export_prepare").click().run()
    app.button(key="admin_feedback_export_cxr-pneumonia_prepare").click().run()
    labels = sorted(button.label for button in app.download_button)
    assert labels == ["Save medai-audit-log.csv", "Save medai-feedback-cxr-pneumonia.csv"]
    events = AuditStore().events()
    assert [e.kind for e in events] == ["export.feedback", "export.audit-log"]
    assert events[0].details == {"model": "cxr-pneumonia", "rows": 2} and events[1].details["rows"] == 3
    app.run()  # the events table is drawn above the feedback tab's button: the next run lists it
    assert _frames(app)["events"]["event"].tolist() == ["export.feedback", "export.audit-log"]
    assert _frames(app)["events"]["details"].tolist() == ["model cxr-pneumonia · rows 2", "rows 3 · filters: none"]
    captions = " ".join(c.value for c in app.caption)
    assert "python -m medai export-feedback --model cxr-pneumonia" in captions  # the classifier's way back in


def test_hosted_mode_admits_admins_only(monkeypatch):
    monkeypatch.setenv("MEDAI_REQUIRE_LOGIN", "1")
    monkeypatch.setenv("MEDAI_ADMINS", "boss@hospital.org")
    monkeypatch.setenv("MEDAI_CLINICIANS", "@hospital.org")
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    app.user = {"is_logged_in": True, "email": "nurse@hospital.org"}
    app.run()
    assert not app.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not in a clinician's navigation
        app.switch_page("pages/admin.py")
    st.cache_resource.clear()
    admin = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    admin.user = {"is_logged_in": True, "email": "boss@hospital.org"}
    _admin_page(admin)
    admin.button(key="admin_log_export_prepare").click().run()
    assert AuditStore().events(kind="export.audit-log")[0].user == "boss@hospital.org"
