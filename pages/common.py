"""Helpers shared by the pages: cached loaders and the model-card renderer. No model code here."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from medai import registry
from medai.store import AuditStore

RESEARCH_USE = "Research use only. Not a medical device: do not use for diagnosis or treatment decisions."
ROUTER_FLAG, RESUME_KEY = "_router_ran", "_resume_page"


@st.cache_resource(show_spinner="Loading the model…")
def cached_model(name: str):
    """The registry's model, loaded once per server process."""
    return registry.load(name)


@st.cache_resource
def audit_store() -> AuditStore:
    """The audit store (``MEDAI_DB_URL``, SQLite by default), opened once per server process."""
    return AuditStore()


def through_router(page_file: str) -> None:
    """Send a page run that bypassed ``app.py`` back through it, then on to ``page_file``.

    Because the repository has a ``pages/`` folder, Streamlit runs a deep link (``/diagnose``) that
    arrives before any session has called ``st.navigation`` as a bare script, without the router's
    sidebar and banner. ``app.py`` sets ``ROUTER_FLAG`` on every run and resumes ``RESUME_KEY``.
    """
    if not st.session_state.get(ROUTER_FLAG):
        st.session_state[RESUME_KEY] = page_file
        st.switch_page("app.py")


def current_user() -> str:
    """The name typed in the sidebar, or ``anonymous``."""
    return (st.session_state.get("user") or "").strip() or "anonymous"


def model_status() -> list[str]:
    """One line per registered model: name, version, whether it is in memory."""
    lines = []
    for name in registry.names():
        spec = registry.get_spec(name)
        state = "loaded" if registry.is_loaded(name) else "loads on first use"
        lines.append(f"{spec.name} {spec.version} · {state}")
    return lines or ["no models installed"]


def _flat(prefix: str, value, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flat(f"{prefix}{key}" if not prefix else f"{prefix} › {key}", inner, rows)
    else:
        rows.append((prefix, ", ".join(map(str, value)) if isinstance(value, list) else str(value)))


def render_card(card: dict) -> None:
    """Draw a model card (the JSON of ``registry.card``) as text and tables."""
    st.markdown(f"**{card['name']} {card['version']}** ({card['date']}) — {card['summary']}")
    st.warning(card["regulatory_status"], icon=":material/warning:")
    st.markdown(f"**Intended use.** {card['intended_use']}")
    st.markdown("**Not intended for:** " + "; ".join(card["not_intended_for"]) + ".")
    for section in ("metrics", "data", "recipe"):
        rows: list[tuple[str, str]] = []
        _flat("", card[section], rows)
        st.markdown(f"**{section.capitalize()}**")
        st.dataframe(pd.DataFrame(rows, columns=["item", "value"]), hide_index=True, width="stretch")
    st.markdown("**Limitations**\n" + "\n".join(f"- {item}" for item in card["limitations"]))
    st.caption(f"Cite: {card['citation']}")
