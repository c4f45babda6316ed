"""The audit table the page draws and exports: newest first, filters, probabilities and feedback."""

import datetime as dt
import json

import pytest

from medai.store import AuditStore
from tests.conftest import recorded_at

DAY = dt.datetime(2026, 3, 1, 12, 0)


@pytest.fixture
def store(tmp_path) -> AuditStore:
    store = AuditStore(f"sqlite:///{tmp_path / 't.sqlite'}")
    rows = [  # (user, model, status, label, p_pneumonia, days after DAY)
        ("dr.a", "cxr-pneumonia", "ok", "pneumonia", 0.91, 0),
        ("dr.b", "cxr-pneumonia", "refused", None, None, 1),
        ("dr.a", "other-model", "ok", "normal", 0.12, 2),
        ("dr.b", "cxr-pneumonia", "error", None, None, 3),
    ]
    for user, model, status, label, p, days in rows:
        probabilities = {"normal": 1 - p, "pneumonia": p} if p is not None else None
        with recorded_at(DAY + dt.timedelta(days=days)):  # backdated, so the date filter has something to cut
            store.record_prediction(user=user, source="ui", model_name=model, model_version="1",
                                    input_sha256="cd" * 32, status=status, label=label,
                                    probabilities=probabilities, uncertainty=0.02 if p else None)
    return store


def test_newest_first_with_label_probabilities_and_feedback(store):
    store.record_feedback(1, user="dr.c", verdict="override", corrected_label="normal", comment="MRN 5551234")
    store.record_feedback(3, user="dr.c", verdict="agree")
    table = store.prediction_table()
    assert table["id"].tolist() == [4, 3, 2, 1]
    first = table.set_index("id").loc[1]
    assert (first["label"], first["P(pneumonia)"]) == ("pneumonia", pytest.approx(0.91))
    assert first["feedback"] == "override → normal" and first["feedback by"] == "dr.c"
    assert first["comment"] == "[removed]"
    assert table.set_index("id").loc[3, "feedback"] == "agree"
    assert table.set_index("id").loc[2, "feedback"] == ""
    assert {"P(normal)", "P(pneumonia)", "status", "input SHA-256"} <= set(table.columns)
    # What the README says a record holds is shown and exported too: weights digest, time, metadata.
    assert list(table.columns[-3:]) == ["weights SHA-256", "time (ms)", "details"]
    assert set(json.loads(first["details"])) == {"input", "output"}


def test_filters_by_user_model_status_and_dates(store):
    assert store.prediction_table(user="dr.a")["id"].tolist() == [3, 1]
    assert store.prediction_table(model_name="other-model")["id"].tolist() == [3]
    assert store.prediction_table(status="refused")["id"].tolist() == [2]
    assert store.prediction_table(since=dt.date(2026, 3, 2), until=dt.date(2026, 3, 3))["id"].tolist() == [3, 2]
    aware = dt.datetime(2026, 3, 3, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # 12:00 UTC
    assert store.prediction_table(since=aware)["id"].tolist() == [4, 3]
    assert store.prediction_table(user="dr.a", status="error").empty
    assert store.prediction_table(limit=2)["id"].tolist() == [4, 3]


def test_filter_choices_list_what_is_in_the_log(store):
    assert store.filter_choices() == {"user": ["dr.a", "dr.b"], "model_name": ["cxr-pneumonia", "other-model"],
                                      "status": ["error", "ok", "refused"]}


def test_empty_log_gives_an_empty_table_with_its_columns(tmp_path):
    table = AuditStore(f"sqlite:///{tmp_path / 'e.sqlite'}").prediction_table()
    assert table.empty and {"feedback", "label", "status"} <= set(table.columns)
