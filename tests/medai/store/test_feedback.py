"""Feedback: one verdict per user and prediction, comments scrubbed, the latest readable back."""

from medai.store import AuditStore


def _store_with_prediction(tmp_path) -> tuple[AuditStore, int]:
    store = AuditStore(f"sqlite:///{tmp_path / 'f.sqlite'}")
    prediction = store.record_prediction(user="dr.a", source="ui", model_name="m", model_version="1",
                                         input_sha256="ab" * 32, status="ok", label="normal",
                                         probabilities={"normal": 0.9, "pneumonia": 0.1})
    return store, prediction


def test_saving_twice_updates_the_same_row(tmp_path):
    store, prediction = _store_with_prediction(tmp_path)
    first = store.record_feedback(prediction, user="dr.b", verdict="agree")
    second = store.record_feedback(prediction, user="dr.b", verdict="override", corrected_label="pneumonia",
                                   comment="left base")
    assert first == second
    (only,) = store.feedback_for(prediction)
    assert (only.verdict, only.corrected_label, only.comment) == ("override", "pneumonia", "left base")
    assert store.feedback_counts() == {prediction: 1}


def test_a_changed_verdict_keeps_the_one_it_replaces_in_the_audit_log(tmp_path):
    store, prediction = _store_with_prediction(tmp_path)
    store.record_feedback(prediction, user="dr.b", verdict="override", corrected_label="pneumonia", comment="left base")
    assert store.events(kind="feedback.superseded") == [], "a first verdict replaces nothing"
    store.record_feedback(prediction, user="dr.b", verdict="agree", comment="changed my mind")
    (entry,) = store.events(kind="feedback.superseded")
    assert entry.user == "dr.b"
    assert {k: entry.details[k] for k in ("prediction_id", "verdict", "corrected_label", "comment")} == {
        "prediction_id": prediction, "verdict": "override", "corrected_label": "pneumonia", "comment": "left base"}
    (only,) = store.feedback_for(prediction)
    assert (only.verdict, only.comment) == ("agree", "changed my mind")


def test_another_user_adds_a_row_and_latest_is_the_last_saved(tmp_path):
    store, prediction = _store_with_prediction(tmp_path)
    assert store.latest_feedback(prediction) is None
    store.record_feedback(prediction, user="dr.b", verdict="agree")
    store.record_feedback(prediction, user="dr.c", verdict="override", corrected_label="pneumonia")
    assert store.feedback_counts() == {prediction: 2}
    assert store.latest_feedback(prediction).user == "dr.c"
    assert store.latest_feedback(prediction, user="dr.b").verdict == "agree"
    store.record_feedback(prediction, user="dr.b", verdict="agree", comment="on reflection")
    assert store.latest_feedback(prediction).user == "dr.b"


def test_agree_clears_a_previous_correction(tmp_path):
    store, prediction = _store_with_prediction(tmp_path)
    store.record_feedback(prediction, user="dr.b", verdict="override", corrected_label="pneumonia")
    store.record_feedback(prediction, user="dr.b", verdict="agree", corrected_label="pneumonia")
    assert store.latest_feedback(prediction).corrected_label is None


def test_comment_is_scrubbed_before_it_is_stored(tmp_path):
    store, prediction = _store_with_prediction(tmp_path)
    store.record_feedback(prediction, user="dr.b", verdict="agree",
                          comment="patient DOE^JANE MRN-555-1234 seen 01/03/2024")
    stored = store.latest_feedback(prediction).comment
    assert stored == "patient [removed] [removed] seen [removed]"
    with store.engine.connect() as connection:  # nothing of it survives anywhere in the table
        raw = " ".join(str(row) for row in connection.exec_driver_sql("SELECT * FROM feedback"))
    assert "DOE" not in raw and "555-1234" not in raw and "01/03/2024" not in raw


def test_blank_comment_is_stored_as_none(tmp_path):
    store, prediction = _store_with_prediction(tmp_path)
    store.record_feedback(prediction, user="dr.b", verdict="agree", comment="   ")
    assert store.latest_feedback(prediction).comment is None


def test_a_typed_corrected_label_is_scrubbed_and_kept_within_its_column(tmp_path):
    store, prediction = _store_with_prediction(tmp_path)
    store.record_feedback(prediction, user="dr.b", verdict="override",
                          corrected_label="missed vessels, Mr Smith MRN 1234567 12/03/2024")
    assert store.latest_feedback(prediction).corrected_label == "missed vessels, Mr [removed] [removed] [removed]"
    # Each short date becomes the longer "[removed]": the stored label still fits String(80).
    store.record_feedback(prediction, user="dr.b", verdict="override", corrected_label=" ".join(["1/2/24"] * 11))
    assert len(store.latest_feedback(prediction).corrected_label) == 80
    store.record_feedback(prediction, user="dr.b", verdict="override", corrected_label="pneumonia")
    assert store.latest_feedback(prediction).corrected_label == "pneumonia"


def test_a_comment_longer_than_its_column_is_refused_whole(tmp_path):
    import pytest

    from medai.errors import InputError
    from medai.store.models import COMMENT_CHARS

    store, prediction = _store_with_prediction(tmp_path)
    with pytest.raises(InputError, match="at most 2,000"):
        store.record_feedback(prediction, user="dr.b", verdict="agree", comment="DOE^" + "J" * COMMENT_CHARS)
    assert store.feedback_for(prediction) == []
    store.record_feedback(prediction, user="dr.b", verdict="agree", comment="a" * COMMENT_CHARS)
    assert len(store.latest_feedback(prediction).comment) == COMMENT_CHARS


def test_a_corrected_label_longer_than_its_column_is_refused_whole(tmp_path):
    import pytest

    from medai.errors import InputError
    from medai.store.models import LABEL_CHARS

    store, prediction = _store_with_prediction(tmp_path)
    with pytest.raises(InputError, match="corrected label"):
        store.record_feedback(prediction, user="dr.b", verdict="override", corrected_label="x" * (LABEL_CHARS + 1))
    assert store.feedback_for(prediction) == []


def test_the_audit_table_shows_the_latest_reader_s_verdict(tmp_path):
    store, prediction = _store_with_prediction(tmp_path)
    store.record_feedback(prediction, user="dr.b", verdict="agree")
    store.record_feedback(prediction, user="dr.c", verdict="override", corrected_label="pneumonia")
    row = store.prediction_table().set_index("id").loc[prediction]
    assert (row["feedback"], row["feedback by"]) == ("override → pneumonia", "dr.c")


def test_a_changed_corrected_label_keeps_the_one_it_replaces(tmp_path):
    store, prediction = _store_with_prediction(tmp_path)
    store.record_feedback(prediction, user="dr.b", verdict="override", corrected_label="pneumonia")
    store.record_feedback(prediction, user="dr.b", verdict="override", corrected_label="effusion")
    (entry,) = store.events(kind="feedback.superseded")
    assert entry.details["corrected_label"] == "pneumonia"


def test_agreeing_stores_no_correction(tmp_path):
    store, prediction = _store_with_prediction(tmp_path)
    store.record_feedback(prediction, user="dr.b", verdict="agree", correction={"structure": "heart"})
    assert store.latest_feedback(prediction).correction is None
