"""Migrations: a fresh database reaches head, goes down to base and up again, a database made by
``create_all`` before migrations is adopted with its rows, and the models match what the scripts build."""

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from medai.errors import StoreError
from medai.store import AuditStore, schema
from medai.store.models import Base

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


def _tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def _legacy_metadata() -> sa.MetaData:
    """The two tables exactly as ``Base.metadata.create_all`` made them before migrations existed."""
    metadata = sa.MetaData()
    sa.Table("predictions", metadata,
             sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
             sa.Column("user", sa.String(120), nullable=False), sa.Column("source", sa.String(20), nullable=False),
             sa.Column("model_name", sa.String(80), nullable=False),
             sa.Column("model_version", sa.String(40), nullable=False),
             sa.Column("input_sha256", sa.String(64), index=True), sa.Column("status", sa.String(20), nullable=False),
             sa.Column("label", sa.String(80)), sa.Column("probabilities", sa.JSON),
             sa.Column("uncertainty", sa.Float))
    sa.Table("feedback", metadata,
             sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("prediction_id", sa.ForeignKey("predictions.id"), nullable=False, index=True),
             sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
             sa.Column("user", sa.String(120), nullable=False), sa.Column("verdict", sa.String(20), nullable=False),
             sa.Column("corrected_label", sa.String(80)), sa.Column("comment", sa.String(2000)))
    return metadata


def test_fresh_database_reaches_head_and_models_match_the_scripts(db_url):
    store = AuditStore(db_url)
    assert schema.current_revision(store.engine) == schema.head_revision() == "0003"
    assert {"predictions", "feedback", "audit_events", "alembic_version"} <= _tables(store.engine)
    columns = {c["name"] for c in sa.inspect(store.engine).get_columns("predictions")}
    assert {"weights_sha256", "input_metadata", "output_summary", "duration_ms", "source"} <= columns
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    AuditStore(db_url)  # opening again is a no-op


def test_down_to_base_and_up_again(db_url):
    store = AuditStore(db_url)
    record = store.record_prediction(user="dr.a", source="cli", model_name="m", model_version="1",
                                     input_sha256="ab" * 32, status="ok", label="normal")
    schema.downgrade(store.engine, "0001")
    assert schema.current_revision(store.engine) == "0001"
    assert "audit_events" not in _tables(store.engine)
    assert "weights_sha256" not in {c["name"] for c in sa.inspect(store.engine).get_columns("predictions")}
    schema.upgrade(store.engine)
    assert [r.id for r in store.recent_predictions()] == [record]  # the row survived down and up
    schema.downgrade(store.engine, "base")
    assert _tables(store.engine) <= {"alembic_version"}
    schema.upgrade(store.engine)
    assert schema.current_revision(store.engine) == "0003" and store.recent_predictions() == []


def test_a_database_made_before_migrations_is_adopted_with_its_rows(db_url):
    engine = sa.create_engine(db_url)
    legacy = _legacy_metadata()
    legacy.create_all(engine)
    predictions, feedback = legacy.tables["predictions"], legacy.tables["feedback"]
    with engine.begin() as connection:
        connection.execute(predictions.insert(), [
            {"created_at": NOW, "user": "dr.a", "source": "ui", "model_name": "cxr-pneumonia", "model_version": "1.0.0",
             "input_sha256": "ab" * 32, "status": "ok", "label": "pneumonia", "probabilities": {"pneumonia": 0.9}},
            {"created_at": NOW, "user": "dr.b", "source": "cli", "model_name": "cxr-pneumonia",
             "model_version": "1.0.0", "input_sha256": None, "status": "error", "label": None,
             "probabilities": None}])
        connection.execute(feedback.insert(), [  # two verdicts by dr.c on record 1: saved before the upsert
            {"prediction_id": 1, "created_at": NOW, "user": "dr.c", "verdict": "agree", "corrected_label": None,
             "comment": None},
            {"prediction_id": 1, "created_at": NOW, "user": "dr.c", "verdict": "override",
             "corrected_label": "normal", "comment": "second look"},
            {"prediction_id": 2, "created_at": NOW, "user": "dr.d", "verdict": "agree", "corrected_label": None,
             "comment": None}])
    engine.dispose()

    store = AuditStore(db_url)
    assert schema.current_revision(store.engine) == "0003"
    table = store.prediction_table()
    assert table["id"].tolist() == [2, 1]
    assert table.set_index("id").loc[1, "feedback"] == "override → normal"
    assert [f.verdict for f in store.feedback_for(1)] == ["override"]
    (moved,) = store.events(kind="feedback.superseded")
    assert moved.details["verdict"] == "agree" and moved.details["prediction_id"] == 1
    assert store.recent_predictions()[0].weights_sha256 is None  # old records simply lack it


def test_audit_events_are_append_only(db_url):
    store = AuditStore(db_url)
    entry = store.record_event("export.audit-log", user="admin@example.org", details={"rows": 3})
    (saved,) = store.events()
    assert (saved.id, saved.kind, saved.user, saved.details) == (entry, "export.audit-log", "admin@example.org",
                                                                 {"rows": 3})
    for statement in (sa.text("UPDATE audit_events SET kind = 'x'"), sa.text("DELETE FROM audit_events")):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"):
            with store.engine.begin() as connection:
                connection.execute(statement)
    assert len(store.events()) == 1


def test_prediction_records_are_kept_as_written_and_feedback_is_never_deleted(db_url):
    store = AuditStore(db_url)
    record = store.record_prediction(user="dr.a", source="ui", model_name="m", model_version="1",
                                     input_sha256="ab" * 32, status="ok", label="pneumonia")
    store.record_feedback(record, user="dr.b", verdict="agree")
    refused = [sa.text("UPDATE predictions SET \"user\" = 'someone-else', label = 'normal'"),
               sa.text("DELETE FROM predictions"), sa.text("DELETE FROM feedback")]
    if store.engine.dialect.name == "postgresql":
        refused += [sa.text("TRUNCATE predictions CASCADE"), sa.text("TRUNCATE feedback")]
    for statement in refused:
        with pytest.raises(sa.exc.DatabaseError, match="records are kept as written"):
            with store.engine.begin() as connection:
                connection.execute(statement)
    (kept,) = store.recent_predictions()
    assert (kept.user, kept.label) == ("dr.a", "pneumonia")
    store.record_feedback(record, user="dr.b", verdict="override", corrected_label="normal")  # a changed verdict
    assert [f.verdict for f in store.feedback_for(record)] == ["override"]


def test_a_failed_write_raises_a_store_error_and_stores_nothing(db_url):
    store = AuditStore(db_url)
    with pytest.raises(StoreError, match="feedback"):
        store.record_feedback(999, user="dr.a", verdict="agree")  # no such prediction
    assert store.feedback_counts() == {}
    with store.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE feedback"))
        connection.execute(sa.text("DROP TABLE predictions"))
    with pytest.raises(StoreError, match="prediction record"):
        store.record_prediction(user="dr.a", source="ui", model_name="m", model_version="1",
                                input_sha256=None, status="error")
    with pytest.raises(StoreError, match="could not be read"):
        store.recent_predictions()


def test_identifying_metadata_keys_are_refused(tmp_path):
    store = AuditStore(f"sqlite:///{tmp_path / 'k.sqlite'}")
    for bad in ({"PatientName": "x"}, {"nested": {"file_name": "a.dcm"}}, {"SOPInstanceUID": "1.2"}):
        with pytest.raises(ValueError, match="identifying"):
            store.record_prediction(user="u", source="ui", model_name="m", model_version="1", input_sha256=None,
                                    status="ok", input_metadata=bad)
    assert store.recent_predictions() == []


def test_unreachable_database_is_a_store_error(postgres_server):
    with pytest.raises(StoreError, match="cannot be opened"):
        AuditStore(postgres_server.url("no_such_database"))


def test_the_app_runs_as_a_postgresql_role_that_cannot_drop_the_guards(postgres_server, postgres_url):
    import psycopg

    AuditStore(postgres_url)  # the owner (the tables' creator) migrates the schema once
    database = postgres_url.rsplit("/", 1)[1]
    with psycopg.connect(host=postgres_server.host, port=postgres_server.port, user=postgres_server.user,
                         dbname=database, autocommit=True) as owner:
        owner.execute("DO $$ BEGIN CREATE ROLE medai_app LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        for grant in ("CONNECT ON DATABASE " + database, "USAGE ON SCHEMA public",
                      "SELECT, INSERT ON ALL TABLES IN SCHEMA public", "UPDATE ON feedback",
                      "USAGE ON ALL SEQUENCES IN SCHEMA public"):
            owner.execute(f"GRANT {grant} TO medai_app")
    app = AuditStore(postgres_url.replace(f"{postgres_server.user}@", "medai_app@"))  # at head: nothing to migrate
    record = app.record_prediction(user="dr.a", source="ui", model_name="m", model_version="1",
                                   input_sha256="ab" * 32, status="ok", label="normal")
    app.record_feedback(record, user="dr.b", verdict="agree")
    app.record_feedback(record, user="dr.b", verdict="override", corrected_label="pneumonia")
    app.record_event("export.audit-log", user="dr.b", details={"rows": 1})
    for statement in ("DROP TRIGGER predictions_no_change ON predictions", "DELETE FROM predictions",
                      "ALTER TABLE audit_events DISABLE TRIGGER ALL"):
        with pytest.raises(sa.exc.ProgrammingError):
            with app.engine.begin() as connection:
                connection.execute(sa.text(statement))
    assert [r.id for r in app.recent_predictions()] == [record] and len(app.events()) == 2
