"""The card renderer's pure helpers: labels, values in full, nested metrics as tables, prose, curves."""

from __future__ import annotations

from pages.card_view import curve_figure, escape, fmt, label, metric_tables, prose
from tests.pages.cards import FULL_CARD


def test_labels_read_as_words_and_keep_keys_written_for_people():
    assert label("roc_auc") == "ROC AUC"
    assert label("refusal_rate_validation_xrays") == "Refusal rate validation xrays"
    assert label("colonoscopy (Kvasir-SEG)") == "colonoscopy (Kvasir-SEG)"


def test_values_are_never_rounded_or_cut():
    assert fmt(1.6832425594329834) == "1.6832425594329834"
    assert fmt(4457) == "4,457" and fmt(None) == "—" and fmt(True) == "yes"
    assert fmt([0.995, 0.9955]) == "0.995, 0.9955"
    assert fmt("x" * 500) == "x" * 500


def test_escape_keeps_markdown_literal():
    assert escape("T^2 and $5 *bold* train_224") == "T^2 and \\$5 \\*bold\\* train\\_224"


def test_metric_tables_pair_intervals_and_keep_every_figure():
    tables = dict(metric_tables(FULL_CARD["metrics"]))
    top = tables[()]
    assert top.to_dict("records") == [{"figure": "Refusal rate validation xrays", "value": "0.0026"}]
    validation = tables[("Validation",)]
    assert validation.iloc[0].to_dict() == {"figure": "ROC AUC", "value": "0.9968", "95 % CI": "0.9941 – 0.9988"}
    assert "ROC AUC 95 % CI" not in set(validation["figure"])
    assert tables[("Validation", "At threshold in sample")].iloc[0]["95 % CI"] == "0.9588 – 0.982"
    per_set = tables[("Refusal rate out of distribution",)]
    assert per_set.iloc[0].tolist() == ["colonoscopy, made grey", "300", "0.97"]
    tasks = tables[("Tasks",)]  # a multi-task model's per-task figures: a row per task
    assert tasks[["Task", "ROC AUC"]].values.tolist() == [["NR-AR", "0.81"], ["SR-p53", "0.77"]]


def test_prose_nests_dicts_and_lists_of_records():
    text = prose(FULL_CARD["recipe"])
    assert text.splitlines() == ["- **Input:**", "  - **Formats:** png, jpeg", "  - **Size:** 128",
                                 "- **Ensemble:**", "  - Seed 100 · Val AUC 0.995", "  - Seed 101 · Val AUC 0.9955"]


def test_a_group_of_figures_reads_on_one_line_with_its_intervals():
    text = prose({"unseen_group": {"films": 1133, "roc_auc": 0.9961, "roc_auc_95ci": [0.9935, 0.9981], "ece": 0.01}})
    assert text == "- **Unseen group:** Films 1,133 · ROC AUC 0.9961 (0.9935 – 0.9981) · ECE 0.01"


def test_curves_become_plotly_figures_with_their_axes():
    roc = curve_figure("roc", FULL_CARD["curves"]["roc"])
    assert roc.layout.xaxis.title.text.startswith("False-positive rate")
    assert list(roc.data[-1].x) == FULL_CARD["curves"]["roc"]["x"]
    reliability = curve_figure("reliability", FULL_CARD["curves"]["reliability"])
    assert list(reliability.data[-1].customdata) == [120, 30, 600]
    parity = curve_figure("parity", FULL_CARD["curves"]["parity"])
    assert parity.data[0].x == (-2.0, 1.5) and parity.data[-1].mode == "markers"
    other = curve_figure("precision_recall", {"x": [0, 1], "y": [1, 0]})
    assert other.layout.title.text == "Precision recall"


def test_a_curve_per_task_becomes_one_figure_with_a_trace_per_task():
    figure = curve_figure("roc", {"NR-AR": {"x": [0, 1], "y": [0, 1]}, "SR-p53": {"x": [0, 0.5, 1], "y": [0, 0.8, 1]}})
    assert [trace.name for trace in figure.data] == ["chance", "NR-AR", "SR-p53"]


def _render_regression_card() -> None:
    from pages.card_view import render_card

    render_card({"name": "drug-solubility", "version": "0.1.0",
                 "headline": [{"name": "RMSE (log mol/L)", "value": 0.61, "ci95": [0.55, 0.68], "split": "test",
                               "higher_is_better": False, "baseline": {"mean predictor": 2.1}}],
                 "curves": {"parity": {"x": [-6.0, -2.0, 0.5], "y": [-5.5, -2.4, 0.2]}},
                 "metrics": {"test": {"rmse": 0.61, "r2": 0.88, "per_scaffold": {"benzene": {"n": 40, "rmse": 0.5}}}}})


def test_a_regression_card_renders_rmse_with_inverse_arrows_and_a_parity_plot():
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(_render_regression_card, default_timeout=30).run()
    assert not app.exception
    (metric,) = app.metric
    assert metric.label == "RMSE (log mol/L)" and metric.delta == "-1.49"
    assert metric.proto.color == metric.proto.GREEN  # lower is better
    assert len(app.get("plotly_chart")) == 1 and not app.table[0].value.empty


def _render_full_card() -> None:
    from pages.card_view import render_card
    from tests.pages.cards import FULL_CARD

    render_card(FULL_CARD)


def test_a_card_shows_its_regulatory_status():
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(_render_full_card, default_timeout=30).run()
    assert not app.exception
    assert any("Not a medical device" in warning.value for warning in app.warning)
