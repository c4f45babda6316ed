"""Shared by the page tests: every test starts with fresh cached resources, so a page opens that test's
own audit database."""

from __future__ import annotations

import pytest
import streamlit as st


@pytest.fixture(autouse=True)
def fresh_resources():
    st.cache_resource.clear()
