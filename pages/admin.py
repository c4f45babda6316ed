"""Admin: the audit log and its events, the model registry, clinician feedback and its export, database health.

Admins only in hosted mode (open in demo mode). Queries live in ``medai.store`` (``prediction_table``,
``medai.store.reports``); every export is recorded in the audit log before it is handed out.
"""

import streamlit as st

from medai import registry
from medai.errors import MedAIError
from medai.spreadsheet import to_spreadsheet_csv
from medai.store import reports
from pages.card_view import render_card
from pages.common import audit_columns, audit_store, open_page, recorded_download, require_role

open_page("pages/admin.py")
require_role("admin")

ALL = "all"
MOST_ROWS = 5000
_KEPT = "The store keeps no images: the export names each input by its SHA-256 with the reviewers' verdict. "
FOLD_IN = {  # how the export of one task's feedback goes back into training (README, "Feedback into training")
    "image-classification": _KEPT + "To train on it, keep the uploaded files and run `python -m medai export-feedback "
                            "--model {model} --images UPLOADS_DIR --output EXPORT`, then `python -m medai train {model} "
                            "--extra-data EXPORT` (the matched images join the training split only).",
    "image-segmentation": _KEPT + "Overrides that carry a corrected mask can be trained on: keep the uploaded files "
                          "and run `python -m medai export-feedback --model {model} --images UPLOADS_DIR --output "
                          "EXPORT` (images and masks in the dataset's layout), then `python -m medai train {model} "
                          "--extra-data EXPORT` (models trained on whole images only).",
}
FOLD_IN_OTHER = ("The export lists each reviewed input's SHA-256 with the reviewers' verdict and correction, for "
                 "a person to check before any of it is used for training.")


def event_details(details: dict | None) -> str:
    """An event's details as words: ``{"rows": 15, "filters": {"user": "dr.a"}}`` → ``rows 15 · filters: user dr.a``."""
    if not details:
        return ""
    parts = []
    for key, value in details.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k} {v}" for k, v in value.items())
            parts.append(f"{key.replace('_', ' ')}: {inner or 'none'}")
        else:
            parts.append(f"{key.replace('_', ' ')} {value}")
    return " · ".join(parts)


st.title("Admin")
try:
    store = audit_store()
    choices = store.filter_choices()
    health = reports.health(store)
except MedAIError as exc:
    st.error(str(exc), icon=":material/error:")
    st.stop()

log_tab, models_tab, feedback_tab, database_tab = st.tabs(["Audit log", "Models", "Feedback", "Database"])

with log_tab:
    by_user, by_model, by_status = st.columns(3)
    user = by_user.selectbox("User", [ALL, *choices["user"]], key="admin_user")
    model = by_model.selectbox("Model", [ALL, *choices["model_name"]], key="admin_model")
    status = by_status.selectbox("Status", [ALL, *choices["status"]], key="admin_status")
    filters = {"user": None if user == ALL else user, "model_name": None if model == ALL else model,
               "status": None if status == ALL else status}
    table = store.prediction_table(**filters, limit=MOST_ROWS)
    st.dataframe(table, placeholder="—", hide_index=True, width="stretch", key="admin_log",
                 column_config=audit_columns(table))
    st.caption(f"{len(table)} prediction record(s), newest first.")
    recorded_download("Export audit log (CSV)", kind="export.audit-log", data=to_spreadsheet_csv(table),
                      file_name="medai-audit-log.csv", key="admin_log_export",
                      details={"rows": len(table), "filters": {k: v for k, v in filters.items() if v}})
    st.subheader("Sign-ins, exports and changed verdicts")
    events = store.events(limit=500)
    st.dataframe([{"id": e.id, "when (UTC)": e.created_at, "user": e.user, "event": e.kind,
                   "details": event_details(e.details)} for e in events], placeholder="—", hide_index=True, width="stretch",
                 key="admin_events")
    if not events:
        st.caption("No sign-ins, exports or changed verdicts recorded yet.")

with models_tab:
    rows = []
    for name in registry.names():
        spec = registry.get_spec(name)
        rows.append({"model": spec.name, "version": spec.version, "task": spec.task, "files": len(spec.files),
                     "weights SHA-256": registry.weights_digest(spec)})
    st.dataframe(rows, placeholder="—", hide_index=True, width="stretch", key="admin_models")
    st.caption("The weights SHA-256 is the digest every prediction record carries: SHA-256 over the "
               "`sha256sum` lines of the model's files, sorted by name.")
    if rows:
        shown = st.selectbox("Model card", [row["model"] for row in rows], key="admin_card_model")
        with st.expander(f"Card of {shown}"):
            render_card(registry.card(shown))
    st.page_link("pages/models.py", label="All model cards", icon=":material/description:")

with feedback_tab:
    statistics = reports.feedback_statistics(store)
    st.dataframe(statistics, placeholder="—", hide_index=True, width="stretch", key="admin_feedback_stats",
                 column_config={"override share": st.column_config.NumberColumn(format="%.2f")})
    reviewed = statistics.loc[statistics["reviewed"] > 0, "model"].tolist()
    if not reviewed:
        st.info("No clinician feedback yet.")
    else:
        export_model = st.selectbox("Export the feedback on", reviewed, key="admin_export_model")
        dataset = reports.feedback_dataset(store, export_model)
        # One row per reviewed record: the same image diagnosed in several sessions is several records.
        st.write(f"**{len(dataset)}** reviewed record(s) with a label, of {dataset['input_sha256'].nunique()} "
                 f"distinct input(s) ({int((~dataset['unanimous']).sum())} where reviewers disagreed).")
        st.caption(FOLD_IN.get(registry.get_spec(export_model).task, FOLD_IN_OTHER).format(model=export_model))
        recorded_download("Export feedback dataset (CSV)", kind="export.feedback", data=to_spreadsheet_csv(dataset),
                          file_name=f"medai-feedback-{export_model}.csv", key=f"admin_feedback_export_{export_model}",
                          details={"model": export_model, "rows": len(dataset)})

with database_tab:
    st.write(f"**Database:** `{health.url}` ({health.backend})")
    st.write(f"**Schema revision:** {health.revision or 'none'} (newest shipped: {health.head})")
    if not health.up_to_date:
        st.warning("The database is not at the newest schema revision.", icon=":material/warning:")
    st.dataframe([{"table": name, "rows": count} for name, count in health.rows.items()], placeholder="—", hide_index=True,
                 key="admin_rows")
