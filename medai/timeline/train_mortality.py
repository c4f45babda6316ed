"""Train ``icu-mortality`` on the CPU: ``python -m medai train icu-mortality``.

Recipe: PhysioNet 2012 sets A + B → stratified 80/20 split (seed 0) → summary features of the whole
48 h and of two random truncations per training stay (so the risk at early hours is learnt, not
extrapolated) → scikit-learn boosted trees and a small Keras network (inputs: scaled features +
missingness masks) → the blend of their logits best on validation (weights 0, ¼, ½, ¾, 1) → GRUs on
the hourly grid (values, measured-or-not, hours since measured; :mod:`medai.timeline.train_sequence`)
→ the blend of the GRUs' logit with the first blend best on validation (0, ¼, ⅓, ½, ⅔, ¾, 1) → Platt
calibration on validation → card with bootstrap 95 % intervals, reliability curve and baselines
(trees, network, GRUs, each alone; NEWS2 maximum over the stay; SAPS-I from the outcomes file).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

import joblib
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.model_selection import train_test_split

from medai import cards
from medai.calibration import PlattCalibrator, bootstrap_interval
from medai.registry import sha256_of
from medai.timeline.datasets import CITATION, development_data
from medai.timeline.features import feature_matrix, feature_names
from medai.timeline.mortality import ARRAYS_FILE, GBM_FILE, GRU_FILE, MLP_FILE, DenseNet, MortalityModel, _logit
from medai.timeline.news2 import news2
from medai.timeline.sequence import HOURS
from medai.timeline.train_sequence import fit_sequence_model

VERSION = "1.1.0"
SEED = 0
TRUNCATIONS = 2
EPOCHS = 40
GRU = {"members": 5, "epochs": 15, "units": 64, "input_dropout": 0.2, "learning_rate": 1e-3}
SEQUENCE_WEIGHTS = (0.0, 0.25, 1 / 3, 0.5, 2 / 3, 0.75, 1.0)


def log(message: str) -> None:
    """Progress of a training run, on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def split(death: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stratified 80/20 (seed 0) indices of the development stays: (train, validation)."""
    return train_test_split(np.arange(len(death)), test_size=0.2, stratify=death, random_state=SEED)


def training_rows(stays: list, indices: np.ndarray, truncations: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Features of every stay in full plus ``truncations`` random cut-offs (3–47 h): (rows, F), (rows,) stay index."""
    generator = np.random.default_rng(seed)
    chosen = [stays[i] for i in indices]
    cutoffs: list[float | None] = [None] * len(chosen)
    owners = list(indices)
    for _ in range(truncations):
        cutoffs += list(generator.uniform(3.0, 47.0, len(chosen)))
        owners += list(indices)
    return feature_matrix(chosen * (truncations + 1), cutoffs), np.array(owners)


def fit_network(features: np.ndarray, labels: np.ndarray, seed: int, epochs: int = EPOCHS) -> DenseNet:
    """Keras Dense 64-32 (ReLU, dropout 0.3) on scaled features + masks; returned as a NumPy :class:`DenseNet`."""
    import keras

    keras.utils.set_random_seed(seed)
    median = np.nanmedian(features, axis=0)
    q75, q25 = np.nanpercentile(features, [75, 25], axis=0)
    scale = np.where(np.isfinite(q75 - q25) & (q75 - q25 > 0), q75 - q25, 1.0)
    median = np.nan_to_num(median)
    shell = DenseNet([], [], median.astype(np.float32), scale.astype(np.float32))
    x = shell.inputs(features)
    entry = keras.Input((x.shape[1],))
    h = keras.layers.Dropout(0.1)(entry)
    for width in (64, 32):
        h = keras.layers.Dense(width, activation="relu", kernel_regularizer=keras.regularizers.l2(1e-4))(h)
        h = keras.layers.Dropout(0.3)(h)
    network = keras.Model(entry, keras.layers.Dense(1)(h))
    network.compile(keras.optimizers.Adam(1e-3), keras.losses.BinaryCrossentropy(from_logits=True))
    network.fit(x, labels.astype(np.float32), batch_size=128, epochs=epochs, verbose=0, shuffle=True)
    weights = network.get_weights()
    net = DenseNet([w.astype(np.float16).astype(np.float32) for w in weights[0::2]],
                   [b.astype(np.float16).astype(np.float32) for b in weights[1::2]], shell.median, shell.scale)
    check = network.predict(x[:64], verbose=0)[:, 0]
    assert np.allclose(check, net.logit(features[:64]), atol=0.05), "NumPy forward pass differs from Keras"
    return net


def _metrics(truth: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    return {"roc_auc": float(roc_auc_score(truth, probability)),
            "auprc": float(average_precision_score(truth, probability)),
            "brier": float(brier_score_loss(truth, probability))}


def train(model_dir: Path, epochs: int | None = None, **_: object) -> dict:
    """Train, write ``gbm.joblib``, ``mlp.npz``, ``arrays.npz``, ``spec.json``, ``card.json``; return the card."""
    started = time.perf_counter()
    stays, outcome = development_data()
    death = outcome["death"]
    train_idx, val_idx = split(death)
    x_train, owners = training_rows(stays, train_idx, TRUNCATIONS, SEED)
    y_train = death[owners]
    val_stays = [stays[i] for i in val_idx]
    x_val, y_val = feature_matrix(val_stays), death[val_idx]
    log(f"features: train {x_train.shape}, validation {x_val.shape}")
    gbm = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, max_leaf_nodes=31, min_samples_leaf=40,
                                         l2_regularization=1.0, max_features=0.5, random_state=SEED)
    gbm.fit(x_train, y_train)
    log("boosted trees trained")
    net = fit_network(x_train, y_train, SEED, epochs or EPOCHS)
    log("network trained")
    gbm_logit, net_logit = _logit(gbm.predict_proba(x_val)[:, 1]), net.logit(x_val)
    candidates = {w: roc_auc_score(y_val, (1 - w) * gbm_logit + w * net_logit) for w in (0.0, 0.25, 0.5, 0.75, 1.0)}
    blend = max(candidates, key=candidates.get)
    sequence, gru_epochs = fit_sequence_model(stays, death, train_idx, log=log, **GRU)
    log("GRUs trained")
    gru_logit = sequence.logit_at(val_stays, np.array([max(s.hours, 1.0) for s in val_stays]))
    tabular_logit = (1 - blend) * gbm_logit + blend * net_logit
    sequence_candidates = {w: roc_auc_score(y_val, (1 - w) * tabular_logit + w * gru_logit) for w in SEQUENCE_WEIGHTS}
    sequence_weight = max(sequence_candidates, key=sequence_candidates.get)
    calibrator = PlattCalibrator().fit((1 - sequence_weight) * tabular_logit + sequence_weight * gru_logit, y_val)
    model = MortalityModel("icu-mortality", VERSION, gbm, net, blend, sequence, sequence_weight, calibrator)
    p_val = model.predict(val_stays)
    scores = _metrics(y_val, p_val)
    intervals = {key: bootstrap_interval(metric, p_val, y_val, rounds=500)
                 for key, metric in (("roc_auc", roc_auc_score), ("auprc", average_precision_score),
                                     ("brier", brier_score_loss))}
    news2_max = np.array([news2(s).maximum for s in val_stays], float)
    saps = outcome["saps"][val_idx]
    known = saps >= 0
    baselines = {"boosted trees": roc_auc_score(y_val, gbm_logit), "Keras network": roc_auc_score(y_val, net_logit),
                 "Keras GRUs": roc_auc_score(y_val, gru_logit), "NEWS2 max 48 h": roc_auc_score(y_val, news2_max),
                 "SAPS-I": roc_auc_score(y_val[known], saps[known])}
    baseline_auprc = {"boosted trees": average_precision_score(y_val, gbm_logit),
                      "Keras network": average_precision_score(y_val, net_logit),
                      "Keras GRUs": average_precision_score(y_val, gru_logit),
                      "NEWS2 max 48 h": average_precision_score(y_val, news2_max)}
    early = {}
    for hours in (12, 24, 36):
        p_early = model.predict(val_stays, [float(hours)] * len(val_stays))
        early[f"first_{hours}_h"] = {k: round(v, 4) for k, v in _metrics(y_val, p_early).items()}
    log(f"validation: {scores}, baselines {baselines}, blend {blend}, sequence weight {sequence_weight}")

    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(gbm, model_dir / GBM_FILE, compress=3)
    np.savez_compressed(model_dir / MLP_FILE, **{f"w{k}": w.astype(np.float16) for k, w in enumerate(net.weights)},
                        **{f"b{k}": b.astype(np.float16) for k, b in enumerate(net.biases)})
    np.savez_compressed(model_dir / ARRAYS_FILE, median=net.median, scale=net.scale)
    np.savez_compressed(model_dir / GRU_FILE, **sequence.to_arrays())
    files = [GBM_FILE, MLP_FILE, ARRAYS_FILE, GRU_FILE]
    spec = {"name": "icu-mortality", "version": VERSION, "task": "icu-timeline",
            "loader": "medai.timeline.mortality:load", "trainer": "medai.timeline.train_mortality:train",
            "labels": ["survived", "died_in_hospital"],
            "input": {"formats": ["physionet2012", "long-csv"], "features": f"{len(feature_names())} summary features + an hourly grid of "
                                                                        f"{HOURS} h for the GRUs"},
            "files": {name: sha256_of(model_dir / name) for name in files},
            "parameters": {"blend": blend, "sequence_weight": sequence_weight, "platt_slope": calibrator.slope_, "platt_intercept": calibrator.intercept_}}
    (model_dir / "spec.json").write_text(json.dumps(spec, indent=2) + "\n")
    minutes = (time.perf_counter() - started) / 60
    card = {
        "name": "icu-mortality", "version": VERSION, "date": dt.date.today().isoformat(),
        "summary": "Probability of in-hospital death of an adult ICU patient from the vitals, labs and descriptors "
                   "of the stay so far (up to 48 h), recomputed hour by hour.",
        "regulatory_status": "Research use only. Not a medical device; not for clinical decisions.",
        "intended_use": "Research and teaching on ICU deterioration; comparison with NEWS2 and severity scores.",
        "not_intended_for": ["triage, treatment or end-of-life decisions", "children (training data are adults)",
                             "stays longer than 48 h (the model has only seen the first 48 h)",
                             "hospitals unlike the four US ICU types of MIMIC-II without local validation"],
        "headline": [cards.headline("ROC-AUC", scores["roc_auc"], intervals["roc_auc"], baseline=baselines),
                     cards.headline("AUPRC", scores["auprc"], intervals["auprc"], baseline=baseline_auprc),
                     cards.headline("Brier score", scores["brier"], intervals["brier"], higher_is_better=False)],
        "curves": {"roc": cards.roc_points(y_val, p_val), "reliability": cards.reliability_points(y_val, p_val)},
        "data": {"source": "PhysioNet/CinC Challenge 2012, sets A and B (ODC-BY 1.0)",
                 "stays": len(stays), "train_stays": len(train_idx), "validation_stays": len(val_idx),
                 "deaths_validation": int(y_val.sum()),
                 "split": "stratified 80/20 on in-hospital death over A+B (seed 0)",
                 "held_out": "set C (4,000 stays) is kept aside for independent evaluation and never seen"},
        "recipe": {"command": "python -m medai train icu-mortality",
                   "features": "per variable last/first/min/max/mean/count/hours since last + 5 descriptors + "
                               "hours observed + variables observed, on the history up to the cut-off",
                   "augmentation": f"each training stay in full and at {TRUNCATIONS} random cut-offs in 3-47 h",
                   "trees": "HistGradientBoostingClassifier, 300 rounds, lr 0.05, 31 leaves",
                   "network": "Keras Dense 64-32, ReLU, dropout 0.3, inputs scaled (median/IQR) + missingness masks, "
                              f"Adam, {epochs or EPOCHS} epochs; float16 weights, evaluated in NumPy",
                   "gru": f"{GRU['members']} Keras GRUs ({GRU['units']} units, input dropout {GRU['input_dropout']}, "
                          f"Adam {GRU['learning_rate']:g}, up to {GRU['epochs']} epochs; epochs chosen on 15 % of the "
                          f"training stays: {gru_epochs}) over hourly values, measured-or-not flags and hours since "
                          "measured, trained with the outcome as label at every hour from the 6th (the last hour "
                          "weighted 3x); float16 weights, evaluated in NumPy",
                   "blend": f"network weight {blend} on the logit (chosen on validation ROC-AUC from 0/0.25/0.5/0.75/1)"
                            f"; GRU weight {round(sequence_weight, 3)} against that blend (chosen the same way)",
                   "calibration": "Platt scaling on validation",
                   "training_minutes_on_2_cpu_cores": round(minutes, 1)},
        "metrics": {"validation": {**{k: round(v, 4) for k, v in scores.items()},
                                   **{f"{k}_95ci": [round(a, 4) for a in v] for k, v in intervals.items()},
                                   "baselines_roc_auc": {k: round(v, 4) for k, v in baselines.items()},
                                   "baselines_auprc": {k: round(v, 4) for k, v in baseline_auprc.items()},
                                   "truncated_histories": early},
                    "blend_candidates_roc_auc": {str(k): round(v, 4) for k, v in candidates.items()},
                    "sequence_weight_candidates_roc_auc": {str(round(k, 3)): round(v, 4)
                                                            for k, v in sequence_candidates.items()}},
        "limitations": ["The blend weights and the calibration are fitted on the same validation split that the "
                        "figures are measured on; expect slightly lower figures on new data.",
                        "NEWS2 is computed from ICU data with stand-ins (SaO2 for SpO2, GCS for AVPU).",
                        "Risks from fewer than 6 h or fewer than 8 variables are flagged, not withheld."],
        "citation": CITATION,
    }
    (model_dir / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    log(f"done in {minutes:.1f} min")
    return card
