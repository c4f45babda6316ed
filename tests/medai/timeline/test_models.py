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


def test_bedside_and_trend_features_by_hand():
    rows = ["patient_id,time,variable,value",
            "p1,1,HR,80", "p1,1,SysABP,100", "p1,3,NISysABP,125", "p1,4,HR,100", "p1,10,HR,120",
            "p1,2,FiO2,0.5", "p1,1,PaO2,90", "p1,2.5,PaO2,100", "p1,6,FiO2,0.4", "p1,7,PaO2,60",
            "p1,2,Urine,200", "p1,8,Urine,50", "p1,2,MAP,60", "p1,9,NIMAP,80",
            "p1,5,BUN,30", "p1,5,Creatinine,1.5"]
    stay = read_long_csv("\n".join(rows).encode())[0]
    names = feature_names()
    value = dict(zip(names, summary_features(stay, 10.0)))
    assert value["urine_total"] == 250 and value["urine_last_24h"] == 250
    assert value["pf_ratio_min"] == pytest.approx(150.0)  # PaO2 60 under FiO2 0.4; the 1 h PaO2 had no FiO2 yet
    assert value["shock_index_max"] == pytest.approx(120 / 125) and value["shock_index_mean"] == pytest.approx(
        np.mean([80 / 100, 100 / 125, 120 / 125]))
    assert value["map_min_any"] == 60 and value["map_below_65_share"] == 0.5
    assert value["bun_creatinine_last"] == pytest.approx(20.0)
    assert value["HR_median"] == 100 and value["HR_sd"] == pytest.approx(np.std([80, 100, 120]))
    assert value["HR_late_minus_early"] == pytest.approx(120 - 90)  # after 5 h vs up to 5 h
    assert value["HR_slope_per_h"] == pytest.approx(np.polyfit([1, 4, 10], [80, 100, 120], 1)[0])
    assert np.isnan(value["BUN_slope_per_h"]) and value["BUN_sd"] == 0  # one reading: no direction
    early = dict(zip(names, summary_features(stay, 2.0)))  # only what was known at 2 h
    assert early["urine_total"] == 200 and np.isnan(early["HR_slope_per_h"]) and np.isnan(early["bun_creatinine_last"])


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
    # Hours enough, variables not: 4 of them over 11 h is flagged on the variables alone.
    rows = ["patient_id,time,variable,value"] + [f"a,{h},{v},{x}" for h in range(11)
                                                 for v, x in (("HR", 80), ("Temp", 37), ("RespRate", 16), ("NISysABP", 120))]
    assert [n for n in sufficiency(read_long_csv("\n".join(rows).encode())[0]) if "4 variables observed" in n]


class _ConstantTree:
    def __init__(self, value: float):
        self.value = value

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return np.full(len(rows), self.value)


def test_the_forecast_band_is_widened_by_its_conformal_margin():
    from medai.timeline.forecast import ForecastModel, feature_names as forecast_features

    trees = {0.1: _ConstantTree(-1.0), 0.5: _ConstantTree(0.0), 0.9: _ConstantTree(1.0)}
    model = ForecastModel("f", "1", trees, {"HR": 10.0}, margin=0.5)
    rows = np.zeros((1, len(forecast_features())), np.float32)
    rows[0, 3] = 80.0  # the last observed value, which the trees' steps (in SD units) start from
    assert model.predict_rows(rows, ["HR"]).tolist() == [[65.0, 80.0, 95.0]]


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


def test_urine_of_the_last_24_hours_counts_only_those_hours():
    stay = read_long_csv(b"patient_id,time,variable,value\np,2,Urine,300\np,30,Urine,100\np,40,Urine,50\n")[0]
    value = dict(zip(feature_names(), summary_features(stay, 40.0)))
    assert value["urine_total"] == 450 and value["urine_last_24h"] == 150


def test_a_stay_at_the_covariate_mean_gets_the_baseline_survival_curve():
    """lifelines' baseline cumulative hazard is that of the covariate mean: a stay whose covariates equal it
    has log-hazard 0 and survival exp(-baseline)."""
    from medai.timeline.survival import CoxModel, selected_columns

    columns = len(selected_columns())
    rng = np.random.default_rng(0)
    mean, beta = rng.uniform(-2, 2, columns), rng.uniform(-0.5, 0.5, columns)
    days, baseline = np.arange(0.0, 366.0), np.linspace(0.0, 0.4, 366)
    model = CoxModel("probe", "0", median=mean.copy(), center=np.zeros(columns), scale=np.ones(columns), beta=beta,
                     mean=mean, days=days, baseline=baseline)
    features = np.full((1, len(feature_names())), np.nan)  # every value missing: imputed to the median (= mean)
    assert model.log_hazard(features) == pytest.approx([0.0], abs=1e-9)
    assert model.curves(features)[0] == pytest.approx(np.exp(-baseline))
