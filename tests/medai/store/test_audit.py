"""The audit trail keeps who, when, which model version and the input hash — and nothing identifying."""

import pytest
from sqlalchemy import inspect

from medai.store import AuditStore


def test_prediction_and_feedback_round_trip(tmp_path):
    store = AuditStore(f"sqlite:///{tmp_path / 'a.sqlite'}")
    first = store.record_prediction(user="dr.a", source="ui", model_name="m", model_version="1.0.0",
                                    input_sha256="ab" * 32, status="ok", label="pneumonia",
                                    probabilities={"normal": 0.2, "pneumonia": 0.8}, uncertainty=0.05)
    second = store.record_prediction(user="", source="cli", model_name="m", model_version="1.0.0",
                                     input_sha256=None, status="error")
    records = store.recent_predictions()
    assert [r.id for r in records] == [second, first]
    assert records[0].user == "anonymous"
    assert records[1].probabilities == {"normal": 0.2, "pneumonia": 0.8}
    assert records[1].created_at is not None
    store.record_feedback(first, user="dr.b", verdict="override", corrected_label="normal", comment="old scar")
    (feedback,) = store.feedback_for(first)
    assert (feedback.verdict, feedback.corrected_label, feedback.user) == ("override", "normal", "dr.b")
    assert store.feedback_counts() == {first: 1}
    with pytest.raises(ValueError):
        store.record_feedback(first, user="dr.b", verdict="maybe")


def test_no_column_can_hold_a_file_name_or_pixels(tmp_path):
    store = AuditStore(f"sqlite:///{tmp_path / 'b.sqlite'}")
    columns = {c["name"] for c in inspect(store.engine).get_columns("predictions")}
    assert not columns & {"file", "file_name", "filename", "image", "pixels", "patient_id", "patient_name"}
    assert {"user", "created_at", "model_name", "model_version", "input_sha256"} <= columns


def test_an_unknown_event_kind_is_refused_before_anything_is_written(tmp_path):
    store = AuditStore(f"sqlite:///{tmp_path / 'a.sqlite'}")
    with pytest.raises(ValueError, match="export.audit-log"):
        store.record_event("export.audit_log", user="ana")  # a slip that would hide it from the log's filter
    assert store.events() == []


@pytest.mark.parametrize("metadata", [
    {"AccessionNumber": "A123"},                  # a direct identifier beside the patient's name
    {"series": [{"PatientName": "DOE^JANE"}]},    # an identifying key inside a list
])
def test_identifying_metadata_is_refused_wherever_it_sits(tmp_path, metadata):
    store = AuditStore(f"sqlite:///{tmp_path / 'a.sqlite'}")
    with pytest.raises(ValueError, match="identifying"):
        store.record_prediction(user="u", source="ui", model_name="m", model_version="1", input_sha256=None,
                                status="ok", input_metadata=metadata)
    assert store.recent_predictions() == []
