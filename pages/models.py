"""Model cards: pick a model, read its card (data, recipe, measured performance), download it as JSON."""

import json

import streamlit as st

from medai import registry
from pages.card_view import render_card
from pages.common import open_page

open_page("pages/models.py")

st.title("Model cards")
names = registry.names()
if not names:
    st.info("No models are installed.")
    st.stop()
classifiers = registry.names(task="image-classification")  # Diagnose's model opens first, the others by name
name = st.selectbox("Model", names, key="card_model", index=names.index(classifiers[0]) if classifiers else 0,
                    format_func=lambda n: f"{n} {registry.get_spec(n).version} ({registry.get_spec(n).task})")
card = registry.card(name)
st.download_button("Download this card (JSON)", json.dumps(card, indent=2, ensure_ascii=False),
                   file_name=f"{name}-{card.get('version', 'card')}.json", mime="application/json",
                   icon=":material/download:")
with st.container(border=True):
    render_card(card)
