"""The Audit log page through AppTest: label, probability and feedback shown, newest first, filters, CSV."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from medai.store import AuditStore
from tests.conftest import REPO, recorded_at

TIMEOUT = 180


def _seed() -> list[int]:
    """Three predictions on three days (written to the test's own database by conftest's MEDAI_DB_URL)."""
    store = AuditStore()
    ids = []
    for day, (user, status, label, p) in enumerate([("dr.a", "ok", "pneumonia", 0.93),
                                                     ("dr.b", "refused", None, None),
                                                     ("dr.a", "ok", "normal", 0.21)]):
        with recorded_at(dt.datetime(2026, 3, 1 + day, 9, 30)):
            ids.append(store.record_prediction(
                user=user, source="ui", model_name="cxr-pneumonia", model_version="2.0.0", input_sha256="ef" * 32,
                status=status, label=label, probabilities={"normal": 1 - p, "pneumonia": p} if p else None))
    store.record_feedback(ids[0], user="dr.c", verdict="agree")
    store.record_feedback(ids[2], user="dr.c", verdict="override", corrected_label="pneumonia",
                          comment="DOE^JANE looks worse")
    return ids


def _audit_page() -> AppTest:
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    app.run()
    app.switch_page("pages/audit.py").run()
    assert not app.exception
    return app


def test_empty_log_says_so():
    app = _audit_page()
    assert any("No predictions yet" in info.value for info in app.info)


def test_table_shows_label_probability_and_feedback_newest_first():
    first, second, third = _seed()
    app = _audit_page()
    (frame,) = app.dataframe
    table = frame.value
    assert table["id"].tolist() == [third, second, first]
    assert table["label"].tolist()[::2] == ["normal", "pneumonia"]
    assert table["P(pneumonia)"].iloc[0] == pytest.approx(0.21)
    assert table["feedback"].tolist() == ["override → pneumonia", "", "agree"]
    assert table["comment"].iloc[0] == "[removed] looks worse"
    assert "3 records, newest first" in " ".join(c.value for c in app.caption)
    assert not app.download_button  # an export is recorded first, then offered
    app.button(key="audit_export_prepare").click().run()
    (download,) = app.download_button
    assert download.label == "Save medai-audit-log.csv"
    (event,) = AuditStore().events(kind="export.audit-log")
    assert event.details == {"rows": 3, "filters": {}} and event.user == "anonymous"
    app.selectbox(key="audit_user").set_value("dr.a").run()  # the table changed: the 3-row export is withdrawn
    assert not app.download_button


def test_filters_narrow_the_table():
    first, second, third = _seed()
    app = _audit_page()
    app.selectbox(key="audit_user").set_value("dr.a").run()
    assert app.dataframe[0].value["id"].tolist() == [third, first]
    app.selectbox(key="audit_status").set_value("refused").run()
    assert any("No records match" in info.value for info in app.info) and not app.dataframe
    app.selectbox(key="audit_user").set_value("all").run()
    assert app.dataframe[0].value["id"].tolist() == [second]
    app.selectbox(key="audit_status").set_value("all").run()
    app.date_input(key="audit_dates").set_value((dt.date(2026, 3, 1), dt.date(2026, 3, 2))).run()
    assert app.dataframe[0].value["id"].tolist() == [second, first]
    app.date_input(key="audit_dates").set_value((dt.date(2026, 3, 3),)).run()
    assert app.dataframe[0].value["id"].tolist() == [third]
    app.date_input(key="audit_dates").set_value((dt.date(2026, 3, 1),)).run()
    assert app.dataframe[0].value["id"].tolist() == [first], "one date picked: that day only, not since then"
    assert app.selectbox(key="audit_model").options == ["all", "cxr-pneumonia"]


def test_an_unreachable_database_is_shown_not_swallowed(monkeypatch):
    monkeypatch.setenv("MEDAI_DB_URL", "postgresql+psycopg://nobody@127.0.0.1:9/medai?connect_timeout=2")
    app = _audit_page()
    assert any("audit database cannot be opened" in error.value for error in app.error)
    assert not app.dataframe


def test_the_csv_export_writes_formula_like_text_as_text():
    store = AuditStore()
    record = store.record_prediction(user="dr.a", source="ui", model_name="cxr-pneumonia", model_version="2.0.0",
                                     input_sha256="ef" * 32, status="ok", label="normal",
                                     probabilities={"normal": 0.8, "pneumonia": 0.2})
    store.record_feedback(record, user="dr.c", verdict="agree", comment='=HYPERLINK("http://example.org","open")')
    app = _audit_page()
    app.button(key="audit_export_prepare").click().run()
    exported, _ = app.session_state["audit_export"]
    assert "'=HYPERLINK(" in exported and ',=HYPERLINK(' not in exported and '"=HYPERLINK(' not in exported
