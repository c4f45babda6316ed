"""Train ``icu-survival`` on the CPU: ``python -m medai train icu-survival`` (needs ``lifelines``).

Recipe: the ``icu-mortality`` split → selected summary features of the 48 h (median-imputed,
standardised, clipped), plus the log-odds of death within a year from boosted trees on all summary
features, cross-fitted (5 folds of the training stays: each training stay gets the value of the trees
that did not see it; validation and new stays the mean of the five) → lifelines ``CoxPHFitter`` (ridge
penalty chosen on validation concordance; constant columns dropped) → baseline cumulative hazard on days
0..365 → card with the validation C-index (bootstrap 95 % interval), the 1.0.0 recipe (no trees), the
trees alone, the mortality model's risk and SAPS-I as rankers beside it.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import joblib
import numpy as np

from medai import cards
from medai.registry import sha256_of
from medai.timeline.datasets import development_data
from medai.timeline.features import feature_matrix
from medai.timeline.survival import (ARRAYS_FILE, BOOSTERS_FILE, HORIZON_DAYS, CoxModel, booster_log_odds, outcome,
                                     selected_features)
from medai.timeline.train_mortality import development_folds, held_out_risk, log, split

VERSION = "1.2.0"
PENALTIES = (0.01, 0.03, 0.1, 0.3, 1.0)
PENALTIES_1_0_0 = (0.1, 0.3, 1.0)
FOLDS = 5
BOOSTER = {"learning_rate": 0.03, "max_iter": 400, "max_leaf_nodes": 15, "l2_regularization": 1.0}
BOOSTER_COLUMN = "boosted_trees_log_odds_death_1y"


def cross_fitted_boosters(features: np.ndarray, event: np.ndarray) -> tuple[list, np.ndarray]:
    """Boosted-tree classifiers of death within a year, one per fold, and each row's out-of-fold log-odds.

    Parameters
    ----------
    features : ndarray, shape (n, F)
        Summary features of the training stays.
    event : ndarray of int, shape (n,)
        1 = died within a year.

    Returns
    -------
    (boosters, out_of_fold) : (list of HistGradientBoostingClassifier, ndarray of shape (n,))
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold

    boosters, out_of_fold = [], np.zeros(len(event))
    for seed, (fit_rows, held_rows) in enumerate(StratifiedKFold(FOLDS, shuffle=True, random_state=0)
                                                  .split(features, event)):
        booster = HistGradientBoostingClassifier(**BOOSTER, random_state=seed).fit(features[fit_rows], event[fit_rows])
        out_of_fold[held_rows] = booster_log_odds([booster], features[held_rows])
        boosters.append(booster)
    return boosters, out_of_fold


def train(model_dir: Path, **_: object) -> dict:
    """Fit, write ``cox.npz``, ``spec.json`` and ``card.json``; return the card."""
    import pandas as pd
    from lifelines import CoxPHFitter
    from lifelines.utils import concordance_index

    started = time.perf_counter()
    stays, data = development_data()
    train_idx, val_idx = split(data["death"])
    features = feature_matrix(stays)
    duration, event = outcome(data["survival"])
    names = selected_features()
    shell = CoxModel("icu-survival", VERSION, np.zeros(1), np.zeros(1), np.ones(1), np.zeros(1), np.zeros(1),
                     np.zeros(1), np.zeros(1))
    from medai.timeline.survival import selected_columns
    raw = features[train_idx][:, selected_columns()].astype(float)
    shell.median = np.nan_to_num(np.nanmedian(raw, axis=0))
    filled = np.where(np.isnan(raw), shell.median, raw)
    shell.center, shell.scale = filled.mean(axis=0), np.where(filled.std(axis=0) > 0, filled.std(axis=0), 1.0)
    boosters, out_of_fold = cross_fitted_boosters(features[train_idx], event[train_idx])
    trees_val = booster_log_odds(boosters, features[val_idx])
    log(f"{FOLDS} cross-fitted boosted-tree models trained")
    x_train = np.column_stack([shell.design(features[train_idx]), out_of_fold])
    x_val = np.column_stack([shell.design(features[val_idx]), trees_val])
    varying = x_train.std(axis=0) > 1e-6
    names_all = names + [BOOSTER_COLUMN]
    names = [n for n, v in zip(names_all, varying) if v]
    x_train, x_val = x_train[:, varying], x_val[:, varying]

    def fit(penalty: float, columns: list[str]) -> tuple[object, float]:
        frame = pd.DataFrame(x_train, columns=names)[columns].assign(duration=duration[train_idx],
                                                                      event=event[train_idx])
        fitted = CoxPHFitter(penalizer=penalty).fit(frame, "duration", "event")
        risk = fitted.predict_partial_hazard(pd.DataFrame(x_val, columns=names)[columns]).to_numpy()
        return fitted, concordance_index(duration[val_idx], -risk, event[val_idx])

    fits, scores, without_trees = {}, {}, {}
    for penalty in PENALTIES:
        fits[penalty], scores[penalty] = fit(penalty, names)
        without_trees[penalty] = fit(penalty, names[:-1])[1]
        log(f"penalty {penalty}: validation C-index {scores[penalty]:.4f} (without the trees {without_trees[penalty]:.4f})")
    penalty = max(scores, key=scores.get)
    fitted = fits[penalty]
    days = np.arange(0, HORIZON_DAYS + 1, dtype=float)
    hazard = fitted.baseline_cumulative_hazard_
    baseline = np.interp(days, hazard.index.to_numpy(dtype=float), hazard.iloc[:, 0].to_numpy(), left=0.0)
    beta, mean = np.zeros(len(names_all)), np.zeros(len(names_all))
    beta[varying], mean[varying] = fitted.params_[names].to_numpy(), fitted._norm_mean[names].to_numpy()
    model = CoxModel("icu-survival", VERSION, shell.median, shell.center, shell.scale, beta, mean, days, baseline,
                     boosters)
    check = fitted.predict_survival_function(pd.DataFrame(x_val[:5], columns=names), times=[30.0, 365.0]).to_numpy().T
    assert np.allclose(check, model.curves(features[val_idx[:5]])[:, [30, 365]], atol=0.02), "curve mismatch"
    log_hazard = model.log_hazard(features[val_idx])
    c_index = concordance_index(duration[val_idx], -log_hazard, event[val_idx])
    generator = np.random.default_rng(0)
    boot = []
    for _ in range(300):
        pick = generator.integers(0, len(val_idx), len(val_idx))
        boot.append(concordance_index(duration[val_idx][pick], -log_hazard[pick], event[val_idx][pick]))
    ci = tuple(np.percentile(boot, [2.5, 97.5]))
    saps = data["saps"][val_idx]
    scored = saps >= 0  # -1 = SAPS-I not recorded
    baselines = {"Cox without the trees, penalty from 0.1-1 (the 1.0.0 recipe)":
                 max(without_trees[p] for p in PENALTIES_1_0_0),
                 "Cox without the trees, penalty from 0.01-1": max(without_trees.values()),
                 "boosted trees alone": concordance_index(duration[val_idx], -trees_val, event[val_idx]),
                 "SAPS-I": concordance_index(duration[val_idx][scored], -saps[scored], event[val_idx][scored])}
    try:
        from medai import registry
        mortality = held_out_risk(registry.load("icu-mortality"), [stays[i] for i in val_idx],
                                  development_folds(data["death"])[val_idx])  # by members that never saw them
        baselines["icu-mortality risk"] = concordance_index(duration[val_idx], -mortality, event[val_idx])
    except Exception:  # the mortality model is optional here
        pass
    log(f"C-index {c_index:.4f} {ci}, baselines {baselines}")
    model_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(model_dir / ARRAYS_FILE, median=model.median, center=model.center, scale=model.scale,
                        beta=model.beta, mean=model.mean, days=days, baseline=baseline)
    joblib.dump(boosters, model_dir / BOOSTERS_FILE, compress=3)
    spec = {"name": "icu-survival", "version": VERSION, "task": "icu-timeline",
            "loader": "medai.timeline.survival:load", "trainer": "medai.timeline.train_survival:train",
            "labels": ["survival_probability"],
            "input": {"formats": ["physionet2012", "long-csv"], "features": f"{len(names)} summary features"},
            "files": {name: sha256_of(model_dir / name) for name in (ARRAYS_FILE, BOOSTERS_FILE)},
            "parameters": {"penalizer": penalty}}
    (model_dir / "spec.json").write_text(json.dumps(spec, indent=2) + "\n")
    minutes = (time.perf_counter() - started) / 60
    one_year = model.curves(features[val_idx])[:, -1]
    card = {
        "name": "icu-survival", "version": VERSION, "date": dt.date.today().isoformat(),
        "summary": "Probability of being alive over the year after ICU admission, from the first 48 h of the stay "
                   "(Cox proportional hazards, one covariate from boosted trees).",
        "regulatory_status": "Research use only. Not a medical device; not for clinical decisions.",
        "intended_use": "Research and teaching on ICU outcomes.",
        "not_intended_for": ["prognosis given to patients or families", "treatment-limitation decisions"],
        "headline": [cards.headline("C-index (1 year)", c_index, ci, baseline=baselines)],
        "curves": {"reliability": cards.reliability_points(event[val_idx].astype(float), 1 - one_year)},
        "data": {"source": "PhysioNet/CinC Challenge 2012, sets A and B (ODC-BY 1.0)",
                 "train_stays": len(train_idx), "validation_stays": len(val_idx),
                 "events_within_1_year_validation": int(event[val_idx].sum()),
                 "outcome": "Survival days; -1 (not known to have died) = alive at 365 days; deaths after 365 "
                            "days censored at 365",
                 "split": "icu-mortality 1.1.0's split (stratified 80/20 on in-hospital death, seed 0)",
                 "held_out": "set C is kept aside for independent evaluation and never seen"},
        "recipe": {"command": "python -m medai train icu-survival",
                   "features": f"{len(names) - 1} summary features (key variables last/min/max/mean/count, age, "
                               "gender, ICU type, weight, hours observed), median-imputed, standardised, clipped to "
                               "±5; and the log-odds of death within a year from boosted trees on all "
                               f"{features.shape[1]} summary features",
                   "boosted_trees": f"scikit-learn HistGradientBoostingClassifier {BOOSTER}, one per fold of "
                                    f"{FOLDS} (stratified on death within a year, seed 0); training stays get the "
                                    "out-of-fold value the Cox model learns from, other stays the mean of the five",
                   "estimator": f"lifelines CoxPHFitter, ridge penalizer {penalty} (chosen on validation from "
                                f"{list(PENALTIES)})", "training_minutes_on_2_cpu_cores": round(minutes, 1)},
        "metrics": {"validation": {"c_index": round(c_index, 4), "c_index_95ci": [round(v, 4) for v in ci],
                                   "baselines_c_index": {k: round(v, 4) for k, v in baselines.items()},
                                   "penalizer_candidates": {str(k): round(v, 4) for k, v in scores.items()}}},
        "limitations": ["Follow-up of survivors is assumed to reach one year; the source does not say when it ended.",
                        "Proportional hazards is an assumption; the reliability curve compares 1-year death."],
        "citation": "Silva I et al. CinC 39:245-248 (2012); Davidson-Pilon C. lifelines, JOSS 4(40):1317 (2019)",
    }
    (model_dir / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    log(f"done in {minutes:.1f} min")
    return card
