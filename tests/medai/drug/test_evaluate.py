import numpy as np
import pytest

from medai.drug import evaluate


def test_notation_check_finds_classes_written_differently():
    # Class 0 written as protonated amines, class 1 neutral or as salts: the strings alone separate them.
    charged = ["C[NH3+]", "CC[NH3+]", "CCC[NH3+]", "CCCC(=O)[O-]"]
    neutral = ["CN", "CCN.Cl", "CCCN", "CCCCC(=O)O.[Na+]"]
    check = evaluate.notation_check(charged + neutral, np.array([0, 0, 0, 0, 1, 1, 1, 1], float))
    assert check["charged_share_label_0"] == 1.0
    assert check["salt_share_label_1"] == 0.5
    assert check["rule_roc_auc"] == pytest.approx(1.0)


def test_notation_check_is_chance_when_both_classes_are_written_alike():
    # The unmeasured last row (NaN) is left out.
    smiles = ["C[NH3+]", "CN", "CCN.Cl", "CCC"] * 2 + ["CC"]
    check = evaluate.notation_check(smiles, np.array([0, 0, 0, 0, 1, 1, 1, 1, np.nan]))
    assert check["rule_roc_auc"] == pytest.approx(0.5)


def test_the_bootstrap_interval_is_a_two_sided_95_percent_one():
    truth = np.random.default_rng(3).normal(0, 1, 400)
    low, high = evaluate.bootstrap_interval(truth, np.zeros(400), lambda t, p: float(np.mean(t - p)))
    se = truth.std() / np.sqrt(400)
    assert 1.8 < (high - truth.mean()) / se < 2.15  # the 97.5th percentile, about 1.96 standard errors up
    assert 1.8 < (truth.mean() - low) / se < 2.15


def test_the_bootstrap_can_resample_every_row_the_last_included():
    truth = np.arange(50.0)  # the largest value is the last row, drawn in about 64 % of resamples
    low, high = evaluate.bootstrap_interval(truth, truth, lambda t, p: float(np.max(t)))
    assert high == 49.0


def test_a_rows_cross_fitted_calibration_does_not_depend_on_its_own_label():
    rng = np.random.default_rng(0)
    probability = rng.uniform(0.05, 0.95, 200)
    truth = (rng.uniform(size=200) < probability).astype(float)
    before = evaluate.cross_fitted_platt(truth, probability)
    for row in (0, 1, 2, 3):
        flipped = truth.copy()
        flipped[row] = 1 - flipped[row]
        assert evaluate.cross_fitted_platt(flipped, probability)[row] == pytest.approx(before[row], abs=1e-12)


def test_a_zero_sd_gives_a_finite_scale():
    scale = evaluate.fit_std_scale(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.1, 2.1, 2.9, 4.0]),
                                   np.array([0.1, 0.1, 0.1, 0.0]))
    assert np.isfinite(scale) and 0 < scale < 10


def test_interval_coverage_counts_misses_on_both_sides():
    assert evaluate.interval_coverage(np.zeros(4), np.array([10.0, -10.0, 0.5, -0.5]), np.ones(4)) == 0.5


def _domain_data(far_error: float) -> tuple[np.ndarray, np.ndarray]:
    """Molecules below 0.25 similarity err ``far_error``, the nearer ones 1.0."""
    similarity = np.linspace(0.05, 1.0, 200)
    return similarity, np.where(similarity < 0.25, far_error, 1.0)


def test_the_domain_cut_off_falls_where_far_molecules_err_more():
    cutoff, ratio = evaluate.domain_cutoff(*_domain_data(far_error=3.0))
    assert 0.2 < cutoff <= 0.26 and ratio >= 1.5


def test_a_domain_ratio_below_1_5_falls_back_to_the_5th_similarity_percentile():
    similarity, error = _domain_data(far_error=1.3)
    cutoff, ratio = evaluate.domain_cutoff(similarity, error)
    assert cutoff == pytest.approx(float(np.percentile(similarity, 5))) and ratio == 1.0
