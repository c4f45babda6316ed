"""The agree / override control every page puts beside a recorded result (one verdict per user and record)."""

from __future__ import annotations

import hashlib
from typing import Any, Callable, Sequence

import streamlit as st

from medai.errors import MedAIError
from medai.store.models import COMMENT_CHARS, LABEL_CHARS
from pages.common import audit_store, current_user, plain

IDENTIFIER_WARNING = ("Do not type patient names, record numbers or dates in a label or comment. Dates, record "
                      "numbers, e-mail addresses, phone numbers and names after a title (Dr, Mrs, patient …) are "
                      "removed before saving; other names may not be.")


def feedback_control(record_id: int | None, labels: Sequence[str] | None = None, *, title: str = "Feedback",
                     label_prompt: str | None = "Correct answer",
                     correction: Callable[[str], dict[str, Any] | None] | None = None,
                     given: str | None = None) -> None:
    """An expander to agree with or override record ``record_id``, and a line saying what was saved.

    Parameters
    ----------
    record_id : int or None
        The audit record; nothing is drawn without one.
    labels : sequence of str, optional
        Choices for the corrected label; without them it is typed after ``label_prompt`` (None: no label).
    title : str
        The expander's label.
    correction : callable, optional
        Draws extra override inputs (given a widget-key prefix) and returns the ``correction`` to
        store with the verdict (a corrected mask, a measured value), or None.
    given : str, optional
        The model's own label: an override offers the other labels only (it cannot "correct" to it).
    """
    if record_id is None:
        return
    store, user = audit_store(), current_user()
    saved = store.latest_feedback(record_id, user=user)  # this user's own verdict: one per user and record
    # Each reader's own form: another name typed in the same browser must not inherit (and save) this one's.
    key = f"{record_id}_{hashlib.sha256(user.encode()).hexdigest()[:12]}"
    # The text fields are new widgets after each save (their keys name the saved version), so that they show
    # what was stored, after the scrubbing: a browser keeps showing what it typed into a widget it still has.
    fields = f"{key}_{int(saved.created_at.timestamp() * 1e6)}" if saved else key
    # An expander, not a popover: a popover's fields sit at the end of the page for the keyboard (39 Tab presses
    # away on Patient timeline, off screen when reached); an expander's follow its header.
    with st.expander(f"{title} ✓ saved" if saved else title, key=f"feedback_{key}", icon=":material/rate_review:"):
        # The form starts from this reader's saved verdict (a reader back at the screen must not save "agree"
        # over their own override by one click).
        verdict = st.radio("Your reading", ["agree", "override"], key=f"verdict_{key}", horizontal=True,
                           index=1 if saved and saved.verdict == "override" else 0)
        if given:  # what 'agree' agrees with, where the page shows a probability rather than a label
            st.caption(f"The model's reading: {given.replace('_', ' ')}.")
        st.warning(IDENTIFIER_WARNING, icon=":material/privacy_tip:")  # above every field it concerns
        corrected, details = None, None
        if verdict == "override":
            choices = [label for label in labels or () if label != given]
            before = saved.corrected_label if saved and saved.verdict == "override" else None
            if choices:
                corrected = st.selectbox("Correct label", choices, key=f"label_{fields}",
                                         index=choices.index(before) if before in choices else 0)
            elif label_prompt:
                corrected = st.text_input(label_prompt, before or "", key=f"label_{fields}", max_chars=LABEL_CHARS) or None
            details = correction(f"correction_{key}") if correction else None
        comment = st.text_input("Comment", (saved.comment or "") if saved else "", key=f"comment_{fields}",
                                max_chars=COMMENT_CHARS, help=f"Up to {COMMENT_CHARS:,} characters.")
        # The name field sits in the sidebar, which a portrait tablet keeps folded away.
        signed = "" if user != "anonymous" else " (type your name under 'Your name' in the sidebar, », to sign it)"
        st.caption(f"Record {record_id}, saved as {plain(user)}{signed}.")
        pressed = st.button("Save feedback", key=f"save_{key}")
        if pressed and verdict == "override" and corrected is None and not details:
            # An empty override would count as a disagreement with nothing to learn from.
            st.error("An override needs the correct answer (a label, a measured value or a corrected mask, as "
                     "asked above), or choose 'agree'. Nothing was saved.", icon=":material/error:")
        elif pressed:
            try:
                store.record_feedback(record_id, user=user, verdict=verdict, corrected_label=corrected,
                                      comment=comment or None, correction=details)
            except MedAIError as exc:  # a failed write is shown, never swallowed
                st.error(f"Feedback was not saved: {plain(exc)}", icon=":material/error:")
            else:
                st.rerun()  # the expander's label and the caption then say "saved", from the store
    if saved:
        stored = f" Comment as stored: “{plain(saved.comment)}”." if saved.comment else ""  # after the scrubbing
        st.caption(f"Your feedback on record {record_id}: {_reading(saved)} ({plain(saved.user)}).{stored}")
    others = [f"{_reading(f)} ({plain(f.user)})" for f in store.feedback_for(record_id) if f.user != user]
    if others:
        st.caption(f"Other readers of record {record_id}: {'; '.join(others)}.")


def _reading(feedback: Any) -> str:
    """A saved verdict in a few words: "agree" or "override to pneumonia"."""
    return "agree" if feedback.verdict == "agree" else f"override to {plain(feedback.corrected_label or 'a correction')}"
