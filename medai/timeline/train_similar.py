"""Fit ``icu-similar-stays`` on the CPU: ``python -m medai train icu-similar-stays`` (about a minute).

Recipe: the ``icu-mortality`` split (sets A + B, stratified 80/20, seed 0) → the training stays, cut at
12 / 24 / 36 / 48 h, are the reference (:class:`medai.timeline.similar.SimilarStaysModel`) → each
validation stay, cut at the same hours, gets its neighbours; the local scaling whose neighbours' death
share is right on average is kept → card: how well the share of neighbours who
died ranks the validation stays (ROC-AUC with a bootstrap 95 % interval), whether that share is right on
average, beside ``icu-mortality`` at the same hours; and the distances that count as typical.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from medai import cards
from medai.calibration import bootstrap_interval
from medai.registry import sha256_of
from medai.timeline.datasets import CITATION, development_data
from medai.timeline.features import feature_matrix
from medai.timeline.similar import (ARRAYS_FILE, COMPONENTS, CUTOFFS_H, NEIGHBOURS, RADIUS_NEIGHBOURS, STATS,
                                    SimilarStaysModel)
from medai.timeline.survival import KEY_VARIABLES
from medai.timeline.train_mortality import development_folds, held_out_risk, log, split

VERSION = "1.0.0"
SEED = 0
LOCAL_SCALINGS = (0.0, 0.25, 0.5, 0.75, 1.0)
NAME = "icu-similar-stays"


def _mortality_auc(stays: list, folds: np.ndarray, cutoff: float, died: np.ndarray) -> float | None:
    """``icu-mortality``'s ROC-AUC from the data up to ``cutoff`` h, each stay scored by the members of its
    cross-fitting fold (``folds``, which never saw it), or None when that model is not installed."""
    try:
        from medai import registry

        return float(roc_auc_score(died, held_out_risk(registry.load("icu-mortality"), stays, folds, cutoff)))
    except Exception:  # the mortality model is only a comparison here
        return None


def train(model_dir: Path, **_: object) -> dict:
    """Fit, write ``similar.npz``, ``spec.json`` and ``card.json``; return the card."""
    started = time.perf_counter()
    stays, outcome = development_data()
    died = outcome["death"]
    train_idx, val_idx = split(died)
    model = SimilarStaysModel(NAME, VERSION).fit([stays[i] for i in train_idx], died[train_idx],
                                                 outcome["survival"][train_idx], outcome["los"][train_idx])
    log(f"reference: {len(train_idx)} stays x {len(CUTOFFS_H)} cut-offs")
    val_stays, val_died = [stays[i] for i in val_idx], died[val_idx]
    val_features = {cutoff: feature_matrix(val_stays, [cutoff] * len(val_stays)) for cutoff in CUTOFFS_H}
    shares = {}  # scaling → cut-off → each validation stay's neighbours' death share
    for scaling in LOCAL_SCALINGS:
        model.local_scaling_ = scaling
        shares[scaling] = {c: model.died_[model.neighbours(val_features[c], c)[0]].mean(axis=1) for c in CUTOFFS_H}

    def bias(scaling: float, rows: np.ndarray) -> float:
        """Mean over cut-offs of |mean share − observed death rate| on the validation ``rows``."""
        return float(np.mean([abs(shares[scaling][c][rows].mean() - val_died[rows].mean()) for c in CUTOFFS_H]))

    everyone = np.ones(len(val_idx), bool)
    gaps = {scaling: bias(scaling, everyone) for scaling in LOCAL_SCALINGS}
    model.local_scaling_ = min(gaps, key=gaps.get)  # the one whose neighbours' death share is right on average
    half = np.random.default_rng(SEED).permutation(len(val_idx)) % 2 == 0  # the choice checked on data it did not see
    halves = []
    for chosen_on, judged_on in ((half, ~half), (~half, half)):
        scaling = min(LOCAL_SCALINGS, key=lambda a: bias(a, chosen_on))
        halves.append({"chosen": scaling, "observed_died": float(val_died[judged_on].mean()),
                       "mean_share_died_by_cutoff": [float(shares[scaling][c][judged_on].mean()) for c in CUTOFFS_H]})
    log(f"local scaling {model.local_scaling_}; chosen on one half, judged on the other: {halves}")
    by_cutoff = {}
    for k, cutoff in enumerate(CUTOFFS_H):
        chosen, distance = model.neighbours(val_features[cutoff], cutoff)
        share = model.died_[chosen].mean(axis=1)
        model.typical_distance_[k] = np.percentile(distance, np.arange(101))
        auc = float(roc_auc_score(val_died, share))
        by_cutoff[f"{cutoff:g}_h"] = {
            "roc_auc": auc, "roc_auc_95ci": list(bootstrap_interval(roc_auc_score, share, val_died, rounds=500)),
            "mean_share_died": float(share.mean()), "observed_died": float(val_died.mean()),
            "icu_mortality_roc_auc_same_hours": _mortality_auc(val_stays, development_folds(died)[val_idx], cutoff,
                                                               val_died)}
        log(f"{cutoff:g} h: neighbours' death share ROC-AUC {auc:.3f}")
        if cutoff == CUTOFFS_H[-1]:
            reliability = cards.reliability_points(val_died.astype(float), share)
    model_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(model_dir / ARRAYS_FILE, median=model.median_, scale=model.scale_,
                        components=model.components_, coordinates=model.coordinates_.astype(np.float16),
                        icu_type=model.icu_type_, died=model.died_, survival_days=model.survival_days_.astype(np.float32),
                        stay_days=model.stay_days_.astype(np.float32), fingerprint=model.fingerprint_,
                        radius=model.radius_.astype(np.float32),
                        typical_distance=model.typical_distance_)
    spec = {"name": NAME, "version": VERSION, "task": "icu-timeline", "loader": "medai.timeline.similar:load",
            "trainer": "medai.timeline.train_similar:train", "labels": ["died_in_hospital_share"],
            "input": {"formats": ["physionet2012", "long-csv"],
                      "features": f"{len(KEY_VARIABLES)} key variables x {'/'.join(STATS)} + age"},
            "files": {ARRAYS_FILE: sha256_of(model_dir / ARRAYS_FILE)}, "parameters": {"neighbours": NEIGHBOURS, "local_scaling": model.local_scaling_}}
    (model_dir / "spec.json").write_text(json.dumps(spec, indent=2) + "\n")
    at_48 = by_cutoff["48_h"]
    minutes = (time.perf_counter() - started) / 60
    card = {
        "name": NAME, "version": VERSION, "date": dt.date.today().isoformat(),
        "summary": f"The {NEIGHBOURS} training ICU stays most like a patient at the same hour of their stays, and "
                   "what happened to them: died in hospital, alive at a year, length of stay of the survivors.",
        "regulatory_status": "Research use only. Not a medical device; not for clinical decisions.",
        "intended_use": "Evidence to read beside the risk models' figures: how patients like this one fared.",
        "not_intended_for": ["choosing or withholding a treatment", "prognosis given to patients or families"],
        "headline": [cards.headline(f"ROC-AUC of the neighbours' death share, 48 h (n={len(val_idx)})",
                                    at_48["roc_auc"], at_48["roc_auc_95ci"],
                                    baseline={"icu-mortality": at_48["icu_mortality_roc_auc_same_hours"]}
                                    if at_48["icu_mortality_roc_auc_same_hours"] else None)],
        "curves": {"reliability": reliability},
        "data": {"source": "PhysioNet/CinC Challenge 2012, sets A and B (ODC-BY 1.0)",
                 "reference_stays": len(train_idx), "validation_stays": len(val_idx),
                 "split": "icu-mortality 1.1.0's split (stratified 80/20 on in-hospital death, seed 0): the reference "
                          "is the training stays; the figures are measured on the validation stays (icu-mortality's "
                          "beside them by its members that never saw those stays)",
                 "held_out": "set C is kept aside for independent evaluation and never seen"},
        "recipe": {"command": f"python -m medai train {NAME}",
                   "likeness": f"{len(KEY_VARIABLES)} key variables' {', '.join(STATS)} values and the age, "
                               "median-imputed, standardised by median and interquartile range, clipped to ±5, "
                               f"first {COMPONENTS} principal components; Euclidean distance",
                   "neighbours": f"the {NEIGHBOURS} nearest training stays of the same ICU type (any type when "
                                 "not given), cut at the hour of 12 / 24 / 36 / 48 nearest to the patient's hours of data",
                   "local_scaling": f"each reference stay's distance less {model.local_scaling_:g} x its local radius "
                                    f"(mean distance to its {RADIUS_NEIGHBOURS} nearest reference stays), so that "
                                    "typical stays do not crowd out the rarer ones that ended in death; the factor "
                                    f"chosen on validation from {list(LOCAL_SCALINGS)} as the one whose neighbours' "
                                    "death share is right on average (mean absolute gap to the observed rate: "
                                    f"{ {str(k): round(v, 4) for k, v in gaps.items()} }); chosen on one random half "
                                    "of the validation stays instead, and judged on the other, see "
                                    "metrics.validation.local_scaling_halves",
                   "typical_distance": "each answer gives the percentile of its mean neighbour distance among "
                                       "validation stays: over 95, the patient is unlike most and so are the neighbours",
                   "training_minutes_on_2_cpu_cores": round(minutes, 1)},
        "metrics": {"validation": {"by_cutoff": cards.rounded(by_cutoff),
                                   "local_scaling_halves": cards.rounded(halves)}},
        "limitations": ["Neighbours are alike in the measured values, not in diagnosis or treatment, which the data "
                        "do not hold.", "The reference stays are from one US hospital group (2001-2008); care has changed.",
                        "Each answer is 50 stays: a count, with the uncertainty of a count."],
        "citation": CITATION,
    }
    (model_dir / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    log(f"done in {minutes:.1f} min")
    return card
