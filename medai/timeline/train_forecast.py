"""Train ``icu-vitals-forecast`` on the CPU: ``python -m medai train icu-vitals-forecast``.

Recipe: the stays of the ``icu-mortality`` split (A + B, stratified 80/20, seed 0) → in each stay,
forecast origins at the latest observation before 8 random cut-offs (4–44 h; 4 per validation stay), as the
CLI forecasts from the latest timestamp → targets: the variable's observation nearest to origin + h (within ±0.5 h)
→ three boosted-tree quantile regressors on the change from the last value (in population SDs) →
conformal margin on half of the validation stays, coverage and MAE measured on the other half,
against the last value carried forward and the mean of the last 3 h.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import joblib
import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

from medai import cards
from medai.registry import sha256_of
from medai.timeline.datasets import development_data
from medai.timeline.forecast import (CORE_VARIABLES, FORECAST_VARIABLES, MAX_STALE_H, QUANTILES, TREES_FILE,
                                     ForecastModel, examples, feature_names)
from medai.timeline.vocabulary import variable_names, variables
from medai.timeline.train_mortality import log, split

VERSION = "1.3.0"
ORIGINS_PER_TRAINING_STAY = 8  # 4 until 1.2.0: more origins from the same stays gained 0.003-0.005 of the ratio
ORIGINS_PER_VALIDATION_STAY = 4  # unchanged, so that the card's figures compare across versions
MAX_TRAIN_ROWS = 1_400_000  # bounds memory; the A + B training stays give about 1,320,000
TOLERANCE_H = 0.5
TREE_ROUNDS = 600


def build(stays: list, indices: np.ndarray, sd: dict[str, float], seed: int,
          origins_per_stay: int = ORIGINS_PER_VALIDATION_STAY) -> tuple[np.ndarray, np.ndarray, list]:
    """Rows (n, G), targets (n,) in the variable's unit, and each row's variable, for forecast origins
    at ``origins_per_stay`` random cut-offs of each stay in ``indices``."""
    generator = np.random.default_rng(seed)
    names = variable_names()
    all_rows, all_targets, all_which = [], [], []
    for i in indices:
        stay = stays[i]
        for cut in generator.uniform(4.0, 44.0, origins_per_stay):
            before = stay.time[stay.time <= cut]
            if not len(before):
                continue
            origin = float(before[-1])
            rows, which = examples(stay, origin, sd)
            if not len(rows):
                continue
            targets = np.full(len(rows), np.nan)
            for k, (row, name) in enumerate(zip(rows, which)):
                chosen = (stay.variable == names.index(name)) & (stay.time > origin)
                times, values = stay.time[chosen], stay.value[chosen]
                if len(times):
                    nearest = np.argmin(np.abs(times - (origin + row[1])))
                    if abs(times[nearest] - (origin + row[1])) <= TOLERANCE_H:
                        targets[k] = values[nearest]
            known = np.isfinite(targets)
            all_rows.append(rows[known])
            all_targets.append(targets[known])
            all_which += [w for w, ok in zip(which, known) if ok]
    return np.concatenate(all_rows), np.concatenate(all_targets), all_which


def _evaluate(model: ForecastModel, rows: np.ndarray, targets: np.ndarray, which: list[str]) -> dict:
    predicted = model.predict_rows(rows, which)
    scale = np.array([model.sd[w] for w in which])
    last = rows[:, 3]
    mean3 = last + np.nan_to_num(rows[:, 5]) * scale
    which_arr = np.array(which)
    per_variable = {}
    for name in FORECAST_VARIABLES:
        chosen = which_arr == name
        if chosen.sum() < 50:
            continue
        mae, lvcf = np.abs(predicted[chosen, 1] - targets[chosen]).mean(), np.abs(last[chosen] - targets[chosen]).mean()
        per_variable[name] = {"mae": round(float(mae), 3), "mae_last_value": round(float(lvcf), 3),
                              "ratio": round(float(mae / lvcf), 3), "unit": variables()[name].unit,
                              "coverage_80": round(float(np.mean((targets[chosen] >= predicted[chosen, 0])
                                                                 & (targets[chosen] <= predicted[chosen, 2]))), 3),
                              "rows": int(chosen.sum())}
    error = np.abs(predicted[:, 1] - targets) / scale
    lvcf_error = np.abs(last - targets) / scale
    core = np.isin(which_arr, CORE_VARIABLES)
    by_horizon = {int(h): round(float(error[rows[:, 1] == h].sum() / lvcf_error[rows[:, 1] == h].sum()), 3)
                  for h in np.unique(rows[:, 1])}
    return {"mae_ratio_vs_last_value": float(error.sum() / lvcf_error.sum()),
            "mae_ratio_core_vitals": float(error[core].sum() / lvcf_error[core].sum()),
            "mae_ratio_mean_last_3h": float((np.abs(mean3 - targets) / scale).sum() / lvcf_error.sum()),
            "coverage_80": float(np.mean((targets >= predicted[:, 0]) & (targets <= predicted[:, 2]))),
            "ratio_by_hours_ahead": by_horizon, "per_variable": per_variable, "rows": int(len(targets))}


def train(model_dir: Path, **_: object) -> dict:
    """Train, write ``quantile_trees.joblib``, ``spec.json`` and ``card.json``; return the card."""
    started = time.perf_counter()
    stays, outcome = development_data()
    train_idx, val_idx = split(outcome["death"])
    names = variable_names()
    sd = {}
    for name in FORECAST_VARIABLES:
        values = np.concatenate([stays[i].value[stays[i].variable == names.index(name)] for i in train_idx])
        sd[name] = float(values.std())
    x_train, y_train, w_train = build(stays, train_idx, sd, seed=1, origins_per_stay=ORIGINS_PER_TRAINING_STAY)
    generator = np.random.default_rng(0)
    if len(y_train) > MAX_TRAIN_ROWS:
        keep = generator.choice(len(y_train), MAX_TRAIN_ROWS, replace=False)
        x_train, y_train, w_train = x_train[keep], y_train[keep], [w_train[k] for k in keep]
    scale = np.array([sd[w] for w in w_train])
    delta = (y_train - x_train[:, 3]) / scale
    log(f"forecast rows: train {x_train.shape}")
    trees = {}
    for q in QUANTILES:
        trees[q] = HistGradientBoostingRegressor(loss="quantile", quantile=q, max_iter=TREE_ROUNDS, learning_rate=0.05,
                                                 max_leaf_nodes=63, min_samples_leaf=100, categorical_features=[0],
                                                 random_state=0).fit(x_train, delta)
        log(f"quantile {q} trained")
    half = len(val_idx) // 2
    calibration_idx, test_idx = val_idx[:half], val_idx[half:]
    x_cal, y_cal, w_cal = build(stays, calibration_idx, sd, seed=2)
    model = ForecastModel("icu-vitals-forecast", VERSION, trees, sd, 0.0)
    raw = model.predict_rows(x_cal, w_cal)
    cal_scale = np.array([sd[w] for w in w_cal])
    conformity = np.maximum(raw[:, 0] - y_cal, y_cal - raw[:, 2]) / cal_scale
    level = min(1.0, 0.8 * (1 + 1 / len(conformity)))
    model.margin = float(np.quantile(conformity, level))
    x_test, y_test, w_test = build(stays, test_idx, sd, seed=3)
    result = _evaluate(model, x_test, y_test, w_test)
    uncalibrated = _evaluate(ForecastModel("", "", trees, sd, 0.0), x_test, y_test, w_test)
    log(f"validation: ratio {result['mae_ratio_vs_last_value']:.3f}, coverage {result['coverage_80']:.3f}, "
        f"margin {model.margin:.3f}")
    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump({str(q): tree for q, tree in trees.items()}, model_dir / TREES_FILE, compress=3)
    spec = {"name": "icu-vitals-forecast", "version": VERSION, "task": "icu-timeline",
            "loader": "medai.timeline.forecast:load", "trainer": "medai.timeline.train_forecast:train",
            "labels": list(FORECAST_VARIABLES),
            "input": {"formats": ["physionet2012", "long-csv"], "features": f"{len(feature_names())} per example",
                      "max_hours_ahead": 6},
            "files": {TREES_FILE: sha256_of(model_dir / TREES_FILE)},
            "parameters": {"sd": sd, "margin": model.margin}}
    (model_dir / "spec.json").write_text(json.dumps(spec, indent=2) + "\n")
    minutes = (time.perf_counter() - started) / 60
    ratio, coverage = result["mae_ratio_vs_last_value"], result["coverage_80"]
    card = {
        "name": "icu-vitals-forecast", "version": VERSION, "date": dt.date.today().isoformat(),
        "summary": "The next 1-6 hours of heart rate, respiratory rate, temperature, systolic, diastolic and mean blood "
                   "pressure (invasive or non-invasive, whichever the patient has): a median and an 80 % interval.",
        "regulatory_status": "Research use only. Not a medical device; not for clinical decisions.",
        "intended_use": "Research and teaching: where a patient's vitals may be heading, next to what was observed.",
        "not_intended_for": ["alarms or treatment decisions", "children", "more than 6 hours ahead"],
        "headline": [cards.headline(f"Forecast error / last-value error, {len(FORECAST_VARIABLES)} variables, 1-6 h",
                                    ratio, higher_is_better=False,
                                    baseline={"mean of last 3 h": result["mae_ratio_mean_last_3h"],
                                              "last value carried forward": 1.0}),
                     cards.headline("80 % interval coverage", coverage,
                                    baseline={"before conformal margin": uncalibrated["coverage_80"]})],
        "data": {"source": "PhysioNet/CinC Challenge 2012, sets A and B (ODC-BY 1.0)",
                 "train_stays": len(train_idx), "calibration_stays": len(calibration_idx),
                 "evaluation_stays": len(test_idx), "train_rows": int(len(y_train)), "evaluation_rows": result["rows"],
                 "split": "icu-mortality 1.1.0's 80/20 split; validation stays halved: conformal margin / evaluation",
                 "held_out": "set C is kept aside for independent evaluation and never seen"},
        "recipe": {"command": "python -m medai train icu-vitals-forecast",
                   "origins": f"latest observation before {ORIGINS_PER_TRAINING_STAY} random cut-offs (4-44 h) per "
                              f"training stay, {ORIGINS_PER_VALIDATION_STAY} per validation stay",
                   "target": f"observation nearest to origin + h within ±{TOLERANCE_H} h; "
                             "model predicts the change from the last value in population SDs",
                   "estimator": f"3 HistGradientBoostingRegressor (quantile loss 0.1/0.5/0.9), {TREE_ROUNDS} rounds, "
                                "lr 0.05, 63 leaves",
                   "conformal": f"CQR margin {model.margin:.3f} SD on the calibration half",
                   "error_ratio": "mean absolute error of the median forecast over that of carrying the last value "
                                  "forward, both in SD units of each variable, pooled over variables and hours 1-6 "
                                  "(below 1: better than the last value). 'Core vitals' is the same ratio over the "
                                  f"{len(CORE_VARIABLES)} variables forecast before 1.2.0, which added diastolic "
                                  "pressures, so that it compares across versions",
                   "not_forecast": "O2 saturation (SaO2 here is from blood gases, too sparse), labs, and any variable "
                                   f"last observed more than {MAX_STALE_H:g} h before the forecast starts",
                   "training_minutes_on_2_cpu_cores": round(minutes, 1)},
        "metrics": {"validation": {"mae_ratio_vs_last_value": round(ratio, 4), "coverage_80": round(coverage, 4),
                                   "mae_ratio_core_vitals": round(result["mae_ratio_core_vitals"], 4),
                                   "core_vitals": list(CORE_VARIABLES),
                                   "mae_ratio_mean_last_3h": round(result["mae_ratio_mean_last_3h"], 4),
                                   "ratio_by_hours_ahead": result["ratio_by_hours_ahead"],
                                   "per_variable": result["per_variable"],
                                   "coverage_80_before_conformal": round(uncalibrated["coverage_80"], 4)}},
        "limitations": ["Sampling in the data is irregular: 'the value at origin + h' is the observation within "
                        "half an hour of it; hours without one are not scored.",
                        "Forecasts past the first 48 h of a stay extrapolate beyond the training data."],
        "citation": "Silva I et al. CinC 39:245-248 (2012)",
    }
    (model_dir / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    log(f"done in {minutes:.1f} min")
    return card
