"""The hourly grid of the GRU part of icu-mortality, and its NumPy GRU against Keras's."""

from __future__ import annotations

import numpy as np
import pytest

from medai import registry
from medai.timeline.vocabulary import variable_names
from medai.timeline.sequence import HOURS, GRUNet, Scaling, channels, hourly_inputs, step_of
from tests.medai.timeline.conftest import sample_stay


@pytest.fixture(scope="module")
def scaling() -> Scaling:
    return Scaling.fit([sample_stay()])


def test_grid_shape_and_meaning(scaling):
    stay = sample_stay()
    grid = hourly_inputs(stay, scaling)
    n_var = len(variable_names())
    assert grid.shape == (HOURS, channels())
    hr = variable_names().index("HR")
    first = np.flatnonzero(stay.variable == hr)[0]
    hour = int(np.ceil(stay.time[first])) - 1
    assert grid[hour, n_var + hr] == 1.0  # measured in its hour
    assert np.all(grid[:hour, n_var + hr] == 0.0) and np.all(grid[:hour, 2 * n_var + hr] == 1.0)  # never seen yet
    assert grid[hour, 2 * n_var + hr] == 0.0  # just measured


def test_grid_is_causal(scaling):
    """What happens after hour k never changes the inputs (so the risk) up to hour k."""
    stay = sample_stay()
    early, full = hourly_inputs(stay.until(20.0), scaling), hourly_inputs(stay, scaling)
    np.testing.assert_array_equal(early[:20, :3 * len(variable_names())], full[:20, :3 * len(variable_names())])
    assert not np.array_equal(early[20:], full[20:])


def test_step_of_cutoffs():
    np.testing.assert_array_equal(step_of(np.array([0.2, 1.0, 1.5, 48.0, 70.0])), [0, 0, 1, 47, 47])


def test_numpy_gru_matches_keras():
    import keras

    keras.utils.set_random_seed(3)
    entry = keras.Input((HOURS, 7))
    network = keras.Model(entry, keras.layers.Dense(1)(keras.layers.GRU(5, return_sequences=True)(entry)))
    weights = [w + np.random.default_rng(1).normal(0, 0.3, w.shape).astype(np.float32) for w in network.get_weights()]
    network.set_weights(weights)
    inputs = np.random.default_rng(2).normal(size=(4, HOURS, 7)).astype(np.float32)
    np.testing.assert_allclose(GRUNet(*weights).hourly_logits(inputs), network.predict(inputs, verbose=0)[..., 0],
                               atol=1e-4)


def test_shipped_risk_curve_uses_only_past_data():
    model = registry.load("icu-mortality")
    stay = sample_stay()
    hours, curve = model.risk_curve(stay)
    early = model.predict([stay.until(12.0)], [12.0])
    assert curve[list(hours).index(12.0)] == pytest.approx(early[0], abs=1e-5)
    assert model.predict([stay], [12.0])[0] == pytest.approx(early[0], abs=1e-5)


def test_a_cut_off_between_hours_reads_no_later_hour():
    np.testing.assert_array_equal(step_of(np.array([1.4, 1.6, 2.0, 2.1])), [1, 1, 1, 2])
