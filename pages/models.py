"""Model cards: every shipped model's data, recipe and measured performance."""

import streamlit as st

from medai import registry
from pages.common import render_card, through_router

through_router("pages/models.py")

st.title("Model cards")
for name in registry.names():
    with st.container(border=True):
        render_card(registry.card(name))
