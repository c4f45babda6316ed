"""Audit log: predictions with label, probabilities and feedback, newest first; filters and CSV export.

The query lives in ``AuditStore.prediction_table``; this page only reads the filters and draws.
"""

import datetime as dt

import streamlit as st

from medai import auth
from medai.errors import MedAIError
from medai.spreadsheet import to_spreadsheet_csv
from pages.common import (audit_columns, audit_store, current_identity, current_user, open_page,
                          recorded_download)

open_page("pages/audit.py")

ALL = "all"
MOST_ROWS = 1000

st.title("Audit log")
st.caption("Inputs are identified by their SHA-256 only; file names and images are never stored. "
           "Feedback comments are stored with dates, record numbers and names after a title removed.")
try:
    store = audit_store()
    choices = store.filter_choices()
except MedAIError as exc:
    st.error(str(exc), icon=":material/error:")
    st.stop()
if not choices["status"]:
    st.info("No predictions yet.")
    st.stop()

by_user, by_model, by_status, by_date = st.columns(4)
if current_identity().can(auth.ADMIN):
    user = by_user.selectbox("User", [ALL, *choices["user"]], key="audit_user")
else:  # a clinician reviews their own requests; everyone's records, and their export, are the admin's
    user = by_user.selectbox("User", [current_user()], key="audit_user_own", disabled=True,
                             help="Your own records. An admin sees everyone's here and on the Admin page.")
model = by_model.selectbox("Model", [ALL, *choices["model_name"]], key="audit_model")
status = by_status.selectbox("Status", [ALL, *choices["status"]], key="audit_status")
dates = by_date.date_input("Dates (UTC)", value=(), key="audit_dates", help="Leave empty for all dates.")
since: dt.date | None = dates[0] if len(dates) >= 1 else None
until: dt.date | None = dates[-1] if len(dates) >= 1 else None  # one date picked: that day only

table = store.prediction_table(user=None if user == ALL else user, model_name=None if model == ALL else model,
                               status=None if status == ALL else status, since=since, until=until,
                               limit=MOST_ROWS)
if table.empty:
    st.info("No records match these filters.")
    st.stop()

st.dataframe(table, placeholder="—", hide_index=True, width="stretch", column_config=audit_columns(table))
shown = f"{len(table)} record{'s' if len(table) != 1 else ''}, newest first"
st.caption(shown + (f" (the newest {MOST_ROWS}; narrow the filters to see older ones)" if len(table) == MOST_ROWS else ""))
filters = {"user": user, "model": model, "status": status, "since": str(since or ""), "until": str(until or "")}
recorded_download("Prepare CSV export (recorded in the audit log)", kind="export.audit-log",
                  data=to_spreadsheet_csv(table),
                  file_name="medai-audit-log.csv", key="audit_export",
                  details={"rows": len(table), "filters": {k: v for k, v in filters.items() if v and v != ALL}})
