"""The shipped timeline models: shapes, ranges, the risk curve, occlusion, sufficiency flags."""

from __future__ import annotations

import numpy as np
import pytest

from medai import registry
from medai.timeline.features import feature_matrix, feature_names, summary_features
from medai.timeline.forecast import MAX_STALE_H, input_ages
from medai.timeline.io import read_long_csv, read_physionet
from tests.medai.timeline.test_io import PHYSIONET
from tests.medai.timeline.conftest import sample_stay


def test_features_shape_and_truncation():
    stay = sample_stay()
    full, early = summary_features(stay), summary_features(stay, 6.0)
    assert full.shape == early.shape == (len(feature_names()),)
    names = feature_names()
    assert early[names.index("hours_observed")] == 6.0
    assert early[names.index("HR_count")] < full[names.index("HR_count")]
    assert feature_matrix([stay, stay]).shape == (2, len(names))


def test_mortality_model():
    model = registry.load("icu-mortality")
    stay = sample_stay()
    risk = model.predict([stay])
    assert risk.shape == (1,) and 0 < risk[0] < 1
    hours, curve = model.risk_curve(stay)
    assert hours.shape == curve.shape and len(hours) >= 40 and np.all((curve > 0) & (curve < 1))
    assert curve[-1] == pytest.approx(risk[0], abs=1e-6)
    drivers = model.occlusion(stay)
    assert len(drivers) == len(stay.observed())
    assert abs(drivers[0][1]) >= abs(drivers[-1][1])


def test_the_mortality_cards_cross_fitted_figure_is_reproduced_by_the_shipped_members():
    """Each stay scored by the members of its fold, which never saw it, as the card's figures were measured."""
    from sklearn.metrics import roc_auc_score

    from medai import config
    from medai.timeline.datasets import development_data
    from medai.timeline.train_mortality import development_folds, held_out_risk, split

    if not (config.data_dir() / "timeline" / "physionet2012").is_dir():
        pytest.skip("PhysioNet 2012 sets not available (MEDAI_DATA_DIR)")
    stays, data = development_data()
    _, validation = split(data["death"])
    model = registry.load("icu-mortality")
    risk = held_out_risk(model, [stays[i] for i in validation], development_folds(data["death"])[validation])
    card = registry.card("icu-mortality")["metrics"]["validation"]["earlier_validation_stays"]
    assert roc_auc_score(data["death"][validation], risk) == pytest.approx(card["roc_auc"], abs=1e-3)
    assert len(model.gbms) == len(model.nets) == len(model.sequence.nets) == 5


def test_sufficiency_flags_thin_data():
    from medai.timeline.mortality import sufficiency

    assert any("h of data" in n for n in sufficiency(read_physionet(PHYSIONET, "x.txt")))
    assert sufficiency(sample_stay()) == [] or all("implausible" in n for n in sufficiency(sample_stay()))


def test_forecast_model():
    model = registry.load("icu-vitals-forecast")
    stay = sample_stay()
    points = model.forecast(stay, 6)
    assert points and {p.hours_ahead for p in points} == set(range(1, 7))
    assert all(p.p10 <= p.p50 <= p.p90 for p in points)
    assert all(p.time == pytest.approx(stay.hours + p.hours_ahead, abs=1e-3) for p in points)
    assert model.forecast(read_long_csv(b"patient_id,time,variable,value\na,1,Urine,50\n")[0]) == []


def test_input_ages_say_how_old_each_forecast_input_is():
    rows = ["patient_id,time,variable,value"] + [f"a,{h},HR,80" for h in range(41)] + ["a,5,NIMAP,70", "a,20,Temp,37"]
    stay = read_long_csv("\n".join(rows).encode())[0]
    assert input_ages(stay) == {"HR": 0.0, "Temp": 20.0, "NIMAP": 35.0}
    # Older than MAX_STALE_H (24 h): not forecast at all.
    forecast = {p.variable for p in registry.load("icu-vitals-forecast").forecast(stay, 1)}
    assert forecast == {"HR", "Temp"} and MAX_STALE_H == 24.0


def test_survival_model():
    if "icu-survival" not in registry.names():
        pytest.skip("icu-survival not installed")
    days, curve = registry.load("icu-survival").curve(sample_stay())
    assert days.shape == curve.shape and curve[0] == pytest.approx(1.0, abs=0.02)
    assert np.all(np.diff(curve) <= 1e-9)


def test_the_survival_card_headline_is_reproduced_by_the_shipped_files():
    from lifelines.utils import concordance_index

    from medai import config
    from medai.timeline.datasets import development_data
    from medai.timeline.survival import outcome, selected_features
    from medai.timeline.train_mortality import split

    if not (config.data_dir() / "timeline" / "physionet2012").is_dir():
        pytest.skip("PhysioNet 2012 sets not available (MEDAI_DATA_DIR)")
    model = registry.load("icu-survival")
    stays, data = development_data()
    _, validation = split(data["death"])
    duration, event = outcome(data["survival"][validation])
    features = feature_matrix([stays[i] for i in validation])
    # The boosted trees' log-odds is the covariate after the selected summary features.
    assert model.design(features[:3]).shape == (3, len(selected_features()) + 1)
    c_index = concordance_index(duration, -model.log_hazard(features), event)
    assert c_index == pytest.approx(registry.card("icu-survival")["headline"][0]["value"], abs=1e-3)
