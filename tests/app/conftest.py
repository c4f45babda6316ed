"""Shared by the page tests: every test starts with fresh cached resources (so a page opens that
test's own audit database) and ends once the app's model warm-up thread has finished (TensorFlow
aborts the interpreter if it is cut off at exit)."""

from __future__ import annotations

import threading

import pytest
import streamlit as st

WARM_UP_TIMEOUT_S = 180


@pytest.fixture(autouse=True)
def fresh_resources():
    st.cache_resource.clear()
    yield
    for thread in threading.enumerate():
        if thread.name == "medai-warm-up":
            thread.join(timeout=WARM_UP_TIMEOUT_S)
