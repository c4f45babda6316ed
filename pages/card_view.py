"""A model card (the JSON of ``medai.registry.card``) drawn as a person would write it.

Order: identity and summary, the regulatory warning, intended use, headline figures with their 95 %
intervals, the confusion table, the curves (plotly), data and recipe in prose, every other measured
figure in full, limitations, citation. The sections ``headline``, ``confusion`` and ``curves`` follow
:mod:`medai.cards` and are optional; ``metrics`` may nest to any depth. Nothing is cut: long text wraps,
and every figure sits in a table that is either open or one click away.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from medai.cards import reproduction

KNOWN_SECTIONS = ("name", "version", "date", "summary", "regulatory_status", "intended_use", "not_intended_for",
                  "headline", "confusion", "curves", "data", "recipe", "metrics", "limitations", "citation")
ACRONYMS = {"auc": "AUC", "roc": "ROC", "ece": "ECE", "ppv": "PPV", "npv": "NPV", "rmse": "RMSE", "mae": "MAE",
            "mse": "MSE", "r2": "R²", "sd": "SD", "ci": "CI", "95ci": "95 % CI", "ci95": "95 % CI", "id": "ID",
            "cnn": "CNN", "pca": "PCA", "iou": "IoU", "smiles": "SMILES", "ood": "OOD", "auprc": "AUPRC",
            "gru": "GRU", "cpu": "CPU", "mlp": "MLP", "news2": "NEWS2"}
WHOLE_KEYS = {"c_index": "C-index", "baselines_c_index": "Baselines C-index", "one_fit_1_1_0": "1.1.0 (one fit)"}
CI_SUFFIXES = ("_95ci", "_ci95", "_ci")
CURVE_AXES = {  # curve name → (title, x label, y label, reference diagonal)
    "roc": ("ROC curve", "False-positive rate (1 − specificity)", "True-positive rate (sensitivity)", True),
    "reliability": ("Reliability (calibration)", "Mean predicted probability", "Observed frequency", True),
    "parity": ("Predicted vs measured", "Measured", "Predicted", True),
}
MARKDOWN_SPECIALS = "\\`*_$~[]|<>#"
HEADLINE_PER_ROW = 4


def label(key: str) -> str:
    """A JSON key as a heading: ``"roc_auc"`` → ``"ROC AUC"``; keys already written for people are kept."""
    if key != key.lower() or " " in key or "(" in key:
        return key
    if key in WHOLE_KEYS:
        return WHOLE_KEYS[key]
    words = [ACRONYMS.get(word, word) for word in key.split("_") if word]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def fmt(value: Any) -> str:
    """One value as text, in full: numbers unrounded (cards round them), lists joined, ``None`` as a dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return str(value)
    if isinstance(value, (list, tuple)):
        if all(not isinstance(item, (list, tuple, dict)) for item in value):
            return ", ".join(fmt(item) for item in value)
        return json.dumps(value)
    return str(value)


def escape(text: str, specials: str = MARKDOWN_SPECIALS) -> str:
    """``text`` safe to embed in Streamlit markdown (no stray emphasis, LaTeX or links): each of ``specials``
    backslash-escaped; line breaks become spaces."""
    flat = text.replace("\r", " ").replace("\n", " ")
    return "".join("\\" + char if char in specials else char for char in flat)


def _is_figure(value: Any) -> bool:
    """A number (or an interval of two) rather than words: records of figures read best on one line."""
    numbers = value if isinstance(value, (list, tuple)) and len(value) == 2 else [value]
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in numbers)


def _is_leaf(value: Any) -> bool:
    return not isinstance(value, dict) and not (isinstance(value, list) and any(isinstance(v, dict) for v in value))


def _interval(values: Mapping[str, Any], key: str) -> str | None:
    for suffix in CI_SUFFIXES:
        low_high = values.get(key + suffix)
        if isinstance(low_high, (list, tuple)) and len(low_high) == 2:
            return f"{fmt(low_high[0])} – {fmt(low_high[1])}"
    return None


def _is_interval_of_sibling(values: Mapping[str, Any], key: str) -> bool:
    return any(key.endswith(suffix) and key[:-len(suffix)] in values and _interval(values, key[:-len(suffix)])
               for suffix in CI_SUFFIXES)


def _is_table_of_records(value: Any) -> bool:
    """A dict of dicts of plain values (e.g. refusal rate per data set): one table, a row per key."""
    return (isinstance(value, dict) and bool(value) and all(isinstance(v, dict) for v in value.values())
            and all(_is_leaf(inner) for v in value.values() for inner in v.values()))


def _records_frame(records: Mapping[str, Mapping[str, Any]] | list[Mapping[str, Any]]) -> pd.DataFrame:
    """A row per record; a dict of records gets its keys as the first, unnamed column."""
    def cells(record: Mapping[str, Any]) -> dict[str, str]:
        return {label(key): fmt(value) for key, value in record.items()}

    if isinstance(records, Mapping):
        return pd.DataFrame([{"": label(str(key)), **cells(r)} for key, r in records.items()]).fillna("—")
    return pd.DataFrame([cells(r) for r in records]).fillna("—")


def metric_tables(values: Mapping[str, Any], path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], pd.DataFrame]]:
    """Every figure of a (nested) metrics dict as ``(heading path, table)`` pairs, all values as full text.

    Plain values of one dict share a table (``figure``, ``value`` and, when a sibling ``<key>_95ci`` exists,
    ``95 % CI``); a dict of records (all values dicts of plain values) or a list of records becomes one
    table with a row per record; any other nested dict gets its own tables under a longer path.
    """
    rows, nested = [], []
    for key, value in values.items():
        if _is_interval_of_sibling(values, key):
            continue
        if _is_leaf(value):
            rows.append({"figure": label(key), "value": fmt(value), "95 % CI": _interval(values, key) or ""})
        elif _is_table_of_records(value):
            nested.append(((*path, label(key)), _records_frame(value)))
        elif isinstance(value, list):
            records = [v if isinstance(v, dict) else {"value": v} for v in value]
            nested.append(((*path, label(key)), _records_frame(records)))
        else:
            nested.extend(metric_tables(value, (*path, label(key))))
    tables = []
    if rows:
        frame = pd.DataFrame(rows)
        tables.append((path, frame if frame["95 % CI"].any() else frame.drop(columns="95 % CI")))
    return tables + nested


def _pairs(record: Mapping[str, Any]) -> str:
    """A flat record on one line, each figure with its interval: ``Films 659 · ROC AUC 0.99 (0.98 – 1.0)``."""
    parts = []
    for key, value in record.items():
        if not _is_interval_of_sibling(record, key):
            interval = _interval(record, key)
            parts.append(f"{escape(label(key))} {escape(fmt(value))}" + (f" ({escape(interval)})" if interval else ""))
    return " · ".join(parts)


def prose(value: Any, depth: int = 0) -> str:
    """A nested dict or list as a markdown bullet list, keys in bold, every value in full.

    A flat record (e.g. the ensemble members, or one group's figures) gives one line: ``Seed 100 · Epochs 12``.
    """
    indent = "  " * depth
    lines = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, inner in items:
        head = f"**{escape(label(key))}:**" if isinstance(key, str) else ""
        if _is_leaf(inner):
            lines.append(f"{indent}- {head} {escape(fmt(inner))}".rstrip())
        elif not head and isinstance(inner, dict) and all(_is_leaf(v) for v in inner.values()):
            lines.append(f"{indent}- {_pairs(inner)}")
        elif isinstance(inner, dict) and inner and all(_is_figure(v) for v in inner.values()):
            lines.append(f"{indent}- {head} {_pairs(inner)}")  # one group's figures on one line
        else:
            lines.append(f"{indent}- {head or f'item {key + 1}'}\n" + prose(inner, depth + 1))
    return "\n".join(lines)


def curve_series(curve: Mapping[str, Any]) -> dict[str, Mapping[str, list[float]]]:
    """The series of one card curve: ``{"x", "y"[, "count"]}`` is one (``model``); a dict of them, one per task."""
    if "x" in curve:
        return {"model": curve}
    return {str(key): points for key, points in curve.items() if isinstance(points, Mapping) and "x" in points}


def curve_figure(name: str, curve: Mapping[str, Any]) -> go.Figure:
    """One card curve as a plotly figure, with the y = x line where it means something; counts set marker sizes."""
    title, x_title, y_title, diagonal = CURVE_AXES.get(name, (label(name), "x", "y", False))
    series = curve_series(curve)
    values = [v for points in series.values() for v in (*points["x"], *points["y"])]
    figure = go.Figure()
    if diagonal and values:
        low, high = (min(values), max(values)) if name == "parity" else (0.0, 1.0)
        figure.add_trace(go.Scatter(x=[low, high], y=[low, high], mode="lines", name="chance" if name == "roc"
                                    else "perfect", line={"dash": "dash", "color": "grey"}))
    for series_name, points in series.items():
        x, y, counts = list(points["x"]), list(points["y"]), list(points.get("count") or [])
        if counts:
            biggest = max(counts) or 1
            trace = go.Scatter(x=x, y=y, mode="lines+markers", name=series_name, customdata=counts,
                               marker={"size": [8 + 16 * c / biggest for c in counts]},
                               hovertemplate="x %{x:.3f}<br>y %{y:.3f}<br>n = %{customdata}")
        else:
            trace = go.Scatter(x=x, y=y, mode="markers" if name == "parity" else "lines", name=series_name)
        figure.add_trace(trace)
    # The title sits just above the plot, under the band the chart's toolbar takes when hovered.
    figure.update_layout(title={"text": title, "y": 1, "yref": "paper", "yanchor": "bottom", "pad": {"b": 6}},
                         xaxis_title=x_title, yaxis_title=y_title, height=390,
                         margin={"l": 10, "r": 10, "t": 70, "b": 10}, legend={"orientation": "h", "y": -0.25})
    return figure


def _table(frame: pd.DataFrame) -> None:
    """``st.table`` renders Markdown in its cells; show the card's text literally."""
    st.table(frame.map(escape).rename(columns=escape), hide_index=True)


def _headline_figure(figure: Mapping[str, Any]) -> None:
    baselines = figure.get("baseline") or {}
    delta = description = None
    if baselines:
        name, base = next(iter(baselines.items()))
        delta, description = f"{figure['value'] - base:+.3g}", f"vs {name}"
    interval = figure.get("ci95")
    notes = [f"95 % CI {fmt(interval[0])} – {fmt(interval[1])}" if interval else "no interval given",
             figure.get("split", "")]
    notes += [f"{name}: {fmt(base)}" for name, base in baselines.items()]
    st.markdown(f"**{escape(figure['name'])}**")  # in full: a metric's own label is cut at the box's width
    st.metric(figure["name"], fmt(figure["value"]), delta=delta, delta_description=description,
              delta_color="normal" if figure.get("higher_is_better", True) else "inverse", label_visibility="collapsed")
    st.caption(escape(" · ".join(note for note in notes if note)))


def _headline(figures: list[Mapping[str, Any]]) -> None:
    st.markdown("#### Headline figures")
    width = min(len(figures), HEADLINE_PER_ROW)
    for start in range(0, len(figures), width):  # rows of equal-height boxes
        for column, figure in zip(st.columns(width), figures[start:start + width]):
            with column.container(border=True, height="stretch"):
                _headline_figure(figure)


def _confusion(table: Mapping[str, Any]) -> None:
    labels, matrix = table["labels"], table["matrix"]
    cells = []
    for truth, row in zip(labels, matrix):
        total = sum(row) or 1
        cells.append({"truth": truth, **{f"predicted {p}": f"{n:,} ({100 * n / total:.1f} %)"
                                         for p, n in zip(labels, row)}, "total": f"{sum(row):,}"})
    st.markdown("#### Confusion table")
    _table(pd.DataFrame(cells))
    st.caption(escape(f"At the shipped threshold {fmt(table.get('threshold'))}; rows are the truth, "
                      "percentages are of each row (so the diagonal reads as sensitivity and specificity)."))


def _curves(curves: Mapping[str, Mapping[str, list[float]]], key: str) -> None:
    present = [(name, curve) for name, curve in curves.items() if isinstance(curve, Mapping) and curve_series(curve)]
    if not present:
        return
    columns = st.columns(min(len(present), 2))
    for index, (name, curve) in enumerate(present):
        with columns[index % len(columns)]:
            st.plotly_chart(curve_figure(name, curve), key=f"{key}-{name}")


def _metrics(metrics: Mapping[str, Any]) -> None:
    st.markdown("#### Every measured figure")
    groups: dict[str, list[tuple[tuple[str, ...], pd.DataFrame]]] = {}
    for path, frame in metric_tables(metrics):
        groups.setdefault(path[0] if path else "", []).append((path[1:], frame))
    for group, tables in groups.items():
        count = sum(len(frame) for _, frame in tables)
        container = st.container() if not group else st.expander(f"{group} ({count} {'row' if count == 1 else 'rows'})")
        with container:
            for path, frame in tables:
                if path:
                    st.markdown(f"**{escape(' › '.join(path))}**")
                _table(frame)


def render_card(card: dict) -> None:
    """Draw a model card: prose, headline figures with intervals, confusion table, curves, all figures in full."""
    st.markdown(f"### {escape(card['name'])} {escape(str(card.get('version', '')))}".rstrip())
    if card.get("date"):
        st.caption(escape(f"Card dated {card['date']}"))
    if card.get("summary"):
        st.markdown(escape(card["summary"]))
    if card.get("regulatory_status"):
        st.warning(card["regulatory_status"], icon=":material/warning:")
    if card.get("intended_use"):
        st.markdown(f"**Intended use.** {escape(card['intended_use'])}")
    if card.get("not_intended_for"):
        st.markdown("**Not intended for**\n" + "\n".join(f"- {escape(fmt(item))}" for item in card["not_intended_for"]))
    if card.get("headline"):
        _headline(card["headline"])
    st.info(reproduction(card), icon=":material/replay:")  # our own sentence; the name is a registry name
    if card.get("confusion"):
        _confusion(card["confusion"])
    if card.get("curves"):
        _curves(card["curves"], key=f"card-{card['name']}")
    for section in ("data", "recipe", *(k for k in card if k not in KNOWN_SECTIONS)):
        if card.get(section):
            st.markdown(f"#### {escape(label(section))}")
            value = card[section]
            st.markdown(prose(value) if not _is_leaf(value) else escape(fmt(value)))
    if card.get("metrics"):
        _metrics(card["metrics"])
    if card.get("limitations"):
        st.markdown("#### Limitations\n" + "\n".join(f"- {escape(fmt(item))}" for item in card["limitations"]))
    if card.get("citation"):
        st.caption(escape(f"Cite: {card['citation']}"))
