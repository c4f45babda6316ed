"""Is ``icu-mortality``'s cross-fitted recipe (1.2.0 on) at least as good as one fit (1.1.0)? Prints a table and
writes benchmarks/results/mortality_cross_fit.json (an earlier recipe's figures are kept there, by version).

    python benchmarks/mortality_cross_fit.py        # about 12 minutes on 2 cores

1.2.0 trains on every one of the 8,000 stays, so its own card can only give cross-fitted figures. This
check runs the same recipe on the 6,400 training stays of 1.1.0's split alone (five folds, five members per
family) and scores the averaged model on the 1,600 validation stays that 1.1.0 was scored on, beside
1.1.0's figures from its card: one fit of each family on the 6,400 stays, whose blend weights and
calibration were chosen on those same 1,600 stays (which favours it).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score  # noqa: E402

from medai.calibration import PlattCalibrator, expected_calibration_error  # noqa: E402
from medai.timeline import train_mortality as recipe  # noqa: E402
from medai.timeline.datasets import development_data  # noqa: E402
from medai.timeline.features import feature_matrix  # noqa: E402
from medai.timeline.mortality import MortalityModel, _logit  # noqa: E402
from medai.timeline.sequence import Scaling  # noqa: E402

# icu-mortality 1.1.0's card (git show 7e23fc1:medai/models/icu-mortality/card.json), on the same 1,600 stays.
ONE_FIT_1_1_0 = {"roc_auc": 0.8776, "auprc": 0.5531, "brier": 0.0861, "trees": 0.8618, "network": 0.8331,
                 "gru": 0.8697, "first_12_h": 0.8141, "first_24_h": 0.8449, "first_36_h": 0.8619}


def main() -> None:
    started = time.perf_counter()
    stays, outcome = development_data()
    death = outcome["death"]
    train_idx, val_idx = recipe.split(death)
    fit = recipe.cross_fit(stays, death, train_idx, Scaling.fit([stays[i] for i in train_idx]))
    blend, sequence_weight, _, _ = recipe.choose_blend(fit, death[train_idx])
    held_logit = fit.blended_logit(blend, sequence_weight)
    calibrator = PlattCalibrator().fit(held_logit, death[train_idx])
    model = MortalityModel("check", "check", fit.gbms, fit.nets, blend, fit.sequence, sequence_weight, calibrator)
    validation, truth = [stays[i] for i in val_idx], death[val_idx]
    risk = model.predict(validation)
    features = feature_matrix(validation)
    families = {"trees": np.mean([_logit(g.predict_proba(features)[:, 1]) for g in fit.gbms], axis=0),
                "network": np.mean([n.logit(features) for n in fit.nets], axis=0),
                "gru": fit.sequence.logit_at(validation, np.array([max(s.hours, 1.0) for s in validation]))}
    cross_fitted = {"roc_auc": roc_auc_score(truth, risk), "auprc": average_precision_score(truth, risk),
                    "brier": brier_score_loss(truth, risk), "ece": expected_calibration_error(risk, truth),
                    **{name: roc_auc_score(truth, logit) for name, logit in families.items()}}
    for hours in (12, 24, 36):
        cross_fitted[f"first_{hours}_h"] = roc_auc_score(truth, model.predict(validation, [float(hours)] * len(validation)))
    single = [roc_auc_score(truth, model.member(k).predict(validation)) for k in range(recipe.FOLDS)]

    print(f"icu-mortality on the 1,600 validation stays of the 1.1.0 split ({len(train_idx):,} stays to train)")
    print(f"{'figure':<22}{'1.1.0 (one fit)':>17}{'cross-fitted':>14}")
    for key, value in cross_fitted.items():
        before = ONE_FIT_1_1_0.get(key)
        print(f"{key:<22}{'' if before is None else f'{before:.4f}':>17}{value:>14.4f}")
    print(f"one fold's members alone: ROC-AUC {min(single):.4f}–{max(single):.4f}; blend: network {blend}, "
          f"GRU {sequence_weight:.3f}; {time.perf_counter() - started:.0f} s")
    out = REPO / "benchmarks" / "results" / "mortality_cross_fit.json"
    earlier = json.loads(out.read_text()) if out.is_file() else {}
    earlier_recipes = earlier.get("earlier_recipes", {})
    if earlier.get("recipe_version") not in (None, recipe.VERSION):
        earlier_recipes[earlier["recipe_version"]] = earlier["cross_fitted"]
    out.write_text(json.dumps({"recipe_version": recipe.VERSION, "validation_stays": len(val_idx),
                               "train_stays": len(train_idx), "one_fit_1_1_0": ONE_FIT_1_1_0,
                               "cross_fitted": {k: round(float(v), 4) for k, v in cross_fitted.items()},
                               "single_fold_roc_auc": [round(float(v), 4) for v in single],
                               "blend": blend, "sequence_weight": sequence_weight,
                               "seconds": round(time.perf_counter() - started),
                               "earlier_recipes": earlier_recipes}, indent=2) + "\n")


if __name__ == "__main__":
    main()
