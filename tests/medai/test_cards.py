"""Card helpers: the reliability bins, and what they say about one new prediction."""

from __future__ import annotations

import numpy as np
import pytest

from medai.cards import outcomes_in_bin, reliability_points, wilson


def test_a_prediction_is_read_against_the_validation_cases_of_its_bin():
    truth = np.array([0] * 90 + [1] * 10 + [0] * 6 + [1] * 4)
    probability = np.array([0.05] * 100 + [0.35] * 10)
    reliability = reliability_points(truth, probability)
    low_bin = outcomes_in_bin(0.07, reliability)
    assert (low_bin["low"], low_bin["high"], low_bin["cases"]) == (0.0, 0.1, 100)
    assert low_bin["observed"] == pytest.approx(0.10) and low_bin["scored"] == pytest.approx(0.05)
    assert low_bin["ci95"][0] < 0.10 < low_bin["ci95"][1]  # Wilson: 0.055-0.174
    assert low_bin["ci95"] == pytest.approx((0.0552, 0.1744), abs=1e-3)
    assert outcomes_in_bin(0.31, reliability)["cases"] == 10
    assert outcomes_in_bin(0.75, reliability) is None, "no validation case scored 70-80 %"
    assert outcomes_in_bin(1.0, reliability) is None and outcomes_in_bin(0.0, reliability)["cases"] == 100


def test_every_shipped_card_says_how_to_retrain_it():
    from medai import registry
    from medai.cards import reproduction

    for name in registry.names():
        text = reproduction(registry.card(name))
        assert f"`python -m medai train {name}`" in text and "MEDAI_DATA_DIR" in text
    assert "about 4 min on 2 CPU cores" in reproduction({"name": "x", "recipe": {"training_seconds": 240}})
    assert "min on" not in reproduction({"name": "x"})
    assert "under a minute" in reproduction({"name": "x", "recipe": {"training_minutes_on_2_cpu_cores": 0.4}})


def test_band_bias_speaks_of_the_figure_shown_and_at_the_precision_shown():
    from medai.cards import band_bias

    # Death within a year: scored 6.5 %, observed 2-5 %: the model overestimated death, so survival is higher.
    over = {"scored": 0.065, "ci95": (0.02, 0.05)}
    assert "read its figure as high" in band_bias(over, "death in hospital")
    assert band_bias(over, "death within a year", shown="survival") == (
        " In this band the model underestimated survival in validation: the chance of being alive is likely higher "
        "than its figure.")
    under = {"scored": 0.01, "ci95": (0.02, 0.05)}
    assert "likely lower" in band_bias(under, "death within a year", shown="survival")
    # 6.4 % against an interval ending at 6.0 %: both read 6 %, so no bias is claimed.
    assert band_bias({"scored": 0.0644, "ci95": (0.03, 0.0601)}, "death within a year", shown="survival") == ""


def test_a_certain_prediction_reads_the_top_bin():
    assert outcomes_in_bin(1.0, {"x": [0.95], "y": [0.9], "count": [20]})["cases"] == 20


def test_the_bin_s_interval_counts_its_cases_to_the_nearest_whole_one():
    """0.29 x 100 is 28.999... in floating point: 29 cases, not 28."""
    assert outcomes_in_bin(0.25, {"x": [0.25], "y": [0.29], "count": [100]})["ci95"] == wilson(29, 100)
