"""Shared by the page tests: every test starts with fresh cached resources, so a page opens that test's
own audit database."""

from __future__ import annotations

import re

import pytest
import streamlit as st


@pytest.fixture(autouse=True)
def fresh_resources():
    st.cache_resource.clear()


def shown(markdown: str) -> str:
    """``markdown`` as a reader sees it: the backslash escapes and word joiners of ``pages.common.plain`` removed."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")
