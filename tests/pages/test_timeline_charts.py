"""The Patient timeline's figures plot what they say: risk in per cent, the forecast from the last value, the
most-measured labs, each on an axis that holds its values (a shipped sample stay)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from medai.timeline.io import Stay
from medai.timeline.vocabulary import variables
from pages.timeline_charts import labs_figure, vitals_figure
from tests.medai.timeline.conftest import sample_stay


def _stay() -> Stay:
    return sample_stay("132539.txt")


def _view(stay: Stay) -> SimpleNamespace:
    """What the page hands ``vitals_figure``: two hourly heart-rate forecasts, six hours of NEWS2 and risk."""
    times, _ = stay.series("HR")
    forecasts = [SimpleNamespace(variable="HR", time=float(times[-1]) + h, p10=60.0, p50=80.0, p90=100.0)
                 for h in (1, 2)]
    hours = np.arange(0, 6, dtype=float)
    news2 = SimpleNamespace(missing=np.zeros(6, int), total=np.array([1, 2, 3, 3, 4, 5]), hours=hours)
    return SimpleNamespace(stay=stay, news2=news2, forecasts=forecasts, risk_hours=hours,
                           risk_curve=np.array([0.10, 0.12, 0.15, 0.2, 0.25, 0.31]))


def test_the_risk_curve_is_drawn_in_per_cent():
    (risk,) = [t for t in vitals_figure(_view(_stay())).data if t.name == "mortality risk (%)"]
    assert np.allclose(risk.y, [10, 12, 15, 20, 25, 31])


def test_the_forecast_starts_at_the_last_observation():
    stay = _stay()
    times, values = stay.series("HR")
    assert values[0] != values[-1]
    (median,) = [t for t in vitals_figure(_view(stay)).data if t.name.endswith("forecast (median)")]
    assert median.x[0] == float(times[-1]) and median.y[0] == values[-1]


def test_the_labs_panel_shows_the_most_measured_labs():
    stay = _stay()
    counts = {variables()[n].label: len(stay.series(n)[0]) for n in stay.observed() if variables()[n].group == "lab"}
    assert len(counts) > 9  # more labs than the panel shows
    shown = {a.text.rsplit(" (", 1)[0] for a in labs_figure(stay).layout.annotations if " (" in a.text}
    assert min(counts[n] for n in shown) >= max(c for n, c in counts.items() if n not in shown)


def test_every_lab_value_is_within_its_panels_axis():
    figure = labs_figure(_stay())
    checked = 0
    for trace in figure.data:
        axis = figure.layout["yaxis" + trace.yaxis[1:]]
        if axis.range is not None:
            low, high = axis.range
            assert low <= min(trace.y) and max(trace.y) <= high, trace.name
            checked += 1
    assert checked >= 3
