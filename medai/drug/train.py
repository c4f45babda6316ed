"""Train a drug property model on the CPU: ``python -m medai train drug-<name>``.

Recipe (the same for every task): standardise → features (Morgan counts + fast RDKit descriptors) →
validation split as the held-out portion was made (random, or rarest Bemis–Murcko scaffolds) →
five Keras MLPs (multi-task, masked loss), five message-passing networks on the molecular graph
(where the catalog asks for them), gradient-boosted trees per task and, for classification, a random
forest, averaged family by family → Platt / variance-scale calibration → applicability domain → card
with bootstrap intervals and the boosted-tree and random-forest baselines on the same rows.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from itertools import combinations
from pathlib import Path

import numpy as np
from sklearn.ensemble import (HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)

from medai import cards
from medai.calibration import expected_calibration_error
from medai.drug import datasets, evaluate, external
from medai.drug.catalog import DRUG_MODELS, DrugModelInfo
from medai.drug.featurize import MORGAN_BITS, packed_bits
from medai.drug.graphs import graphs_of
from medai.drug.message_passing import DEPTH, EPOCH_RANGE, HIDDEN, train_graph_network
from medai.drug.models import Calibration, ColumnTree, FeatureScaler, PropertyModel
from medai.drug.network import train_network
from medai.drug.reference import approved_drug_inputs
from medai.drug.store_model import save
from medai.errors import DataNotFoundError

MEMBERS = 5
TREE_MEMBERS = 3  # single-task models; multi-task models keep one tree member per task (file size)
TREE_ROUNDS = 300
TREE_MIN_BIT_FREQUENCY = 0.01
NOTATION_ARTEFACT_AUC = 0.7  # how the SMILES were written alone separates the classes this well


def log(message: str) -> None:
    """Progress of a training run, on stderr."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _tree_columns(features: np.ndarray) -> np.ndarray:
    """Descriptor columns plus the fingerprint bits set in ≥ 1 % of training molecules (trees only)."""
    frequent = np.flatnonzero((features[:, :MORGAN_BITS] > 0).mean(axis=0) >= TREE_MIN_BIT_FREQUENCY)
    return np.concatenate([frequent, np.arange(MORGAN_BITS, features.shape[1])])


def _fit_trees(features: np.ndarray, targets: np.ndarray, kind: str, forest: bool = False,
               seed: int = 0) -> list[ColumnTree]:
    columns = _tree_columns(features)
    trees = []
    for task in range(targets.shape[1]):
        known = np.isfinite(targets[:, task])
        # Multi-task models hold 12 tree sets: smaller trees keep their files to a few MB
        # (full-size ones ran to 24 MB of forest and 7.5 MB of boosting for Tox21).
        multi_task = targets.shape[1] > 1
        if forest:
            estimator = (RandomForestRegressor(300, max_features=0.3, n_jobs=2, random_state=seed)
                         if kind == "regression" else
                         RandomForestClassifier(60 if multi_task else 200, max_features="sqrt",
                                                min_samples_leaf=8 if multi_task else 1, n_jobs=2,
                                                random_state=seed))
        else:
            options = dict(max_iter=200 if multi_task else TREE_ROUNDS, learning_rate=0.07, max_features=0.3,
                           max_leaf_nodes=15 if multi_task else 31, min_samples_leaf=10, l2_regularization=1.0,
                           random_state=seed)
            estimator = (HistGradientBoostingRegressor(**options) if kind == "regression"
                         else HistGradientBoostingClassifier(**options))
        estimator.fit(features[known][:, columns], targets[known, task])
        trees.append(ColumnTree(estimator, columns))
    return trees


def _scores(kind: str, truth: np.ndarray, predicted: np.ndarray) -> list[float]:
    score = evaluate.task_score(kind)
    return [score(truth[np.isfinite(truth[:, k]), k], predicted[np.isfinite(truth[:, k]), k])
            for k in range(truth.shape[1])]


def _mean_score(kind: str, truth: np.ndarray, predicted: np.ndarray) -> float:
    return float(np.mean(_scores(kind, truth, predicted)))


def train(model_dir: Path, members: int = MEMBERS, epochs: int | None = None) -> dict:
    """Train the model named by ``model_dir``'s folder name; write weights, spec and card; return the card.

    ``members`` networks of each kind, trained for ``epochs`` (default: by training-set size).
    """
    info = DRUG_MODELS[model_dir.name]
    started = time.perf_counter()
    data = datasets.load(info.dataset)
    train_rows, validation_rows = datasets.split(data, datasets.DATASETS[info.dataset].split)
    train_set, validation = data.subset(train_rows), data.subset(validation_rows)
    kind = datasets.DATASETS[info.dataset].kind
    scaler = FeatureScaler().fit(train_set.features)
    target_mean = np.nanmean(train_set.targets, axis=0) if kind == "regression" else np.zeros(len(info.tasks))
    target_std = np.nanstd(train_set.targets, axis=0) if kind == "regression" else np.ones(len(info.tasks))
    networks = [train_network(scaler.transform(train_set.features), (train_set.targets - target_mean) / target_std,
                              kind, seed=seed, epochs=epochs) for seed in range(members)]
    log(f"{members} networks trained")
    graph_networks, validation_graphs = [], None  # graphs are built only for a model that reads them
    if info.graph_networks:
        train_graphs, validation_graphs = graphs_of(train_set.smiles), graphs_of(validation.smiles)
        graph_networks = [train_graph_network(train_graphs, (train_set.targets - target_mean) / target_std, kind,
                                              seed=seed, epochs=epochs) for seed in range(members)]
    log(f"{len(graph_networks)} graph networks trained")
    tree_members = TREE_MEMBERS if len(info.tasks) == 1 else 1
    trees = [_fit_trees(train_set.features, train_set.targets, kind, seed=seed) for seed in range(tree_members)]
    log(f"{tree_members} boosted-tree members trained")
    forest = _fit_trees(train_set.features, train_set.targets, kind, forest=True)
    log("random forest trained")

    def model_of(families: tuple[str, ...]) -> PropertyModel:
        tree_members = (trees if "boosted trees" in families else []) + ([forest] if "random forest" in families else [])
        return PropertyModel(info.name, info.version, info.tasks, kind, networks if "mlp ensemble" in families else [],
                             tree_members, scaler, target_mean, target_std, [Calibration()] * len(info.tasks),
                             packed_bits(train_set.features[:, :MORGAN_BITS]), 0.0,
                             graph_networks if "graph networks" in families else [])

    truth = validation.targets
    # The forest joins the candidates for classification only: regression forests run to 5-13 MB.
    families = (["mlp ensemble"] + (["graph networks"] if graph_networks else []) + ["boosted trees"]
                + (["random forest"] if kind == "classification" else []))
    # A lone forest is one member: no spread, so no uncertainty; it only enters in company.
    candidates = {" + ".join(combo): model_of(combo) for size in range(1, len(families) + 1)
                  for combo in combinations(families, size) if combo != ("random forest",)}
    raw = {label: model.member_outputs(validation.features, validation_graphs) for label, model in candidates.items()}
    candidate_scores = {label: _mean_score(kind, truth, candidates[label].combine(raw[label])) for label in raw}
    # Every family, not the best on validation: a split of a few hundred molecules cannot tell them
    # apart, and picking one chose noise (benchmarks/drug_families_cv.py); the scores stay in the card.
    chosen = " + ".join(families)
    model = candidates[chosen]
    members_out = raw[chosen]
    forest_out = model_of(("random forest",)).member_outputs(validation.features, validation_graphs)[0]
    calibrations, task_metrics, headline, curves = [], {}, [], {}
    for k, task in enumerate(info.tasks):
        known = np.isfinite(truth[:, k])
        y, outputs = truth[known, k], members_out[:, known, k]
        mean = model.combine(outputs)
        score = evaluate.task_score(kind)
        baselines = {"boosted trees": score(y, raw["boosted trees"].mean(0)[known, k]),
                     "random forest": score(y, forest_out[known, k])}
        if kind == "classification":
            calibration = evaluate.fit_platt(y, mean)
            honest = evaluate.cross_fitted_platt(y, mean)
            metrics = {"roc_auc": score(y, mean), "roc_auc_95ci": evaluate.bootstrap_interval(y, mean, score),
                       "ece_uncalibrated": expected_calibration_error(mean, y),
                       "ece_cross_fitted": expected_calibration_error(honest, y),
                       "positives": int(y.sum()), "rows": int(len(y))}
            name = f"{task}: ROC-AUC"
            error = (calibration.apply(mean) - y) ** 2
        else:
            std = outputs.std(axis=0)
            calibration = Calibration(std_scale=evaluate.fit_std_scale(y, mean, std))
            metrics = evaluate.regression_metrics(y, mean, std * calibration.std_scale)
            metrics.update(rmse_95ci=evaluate.bootstrap_interval(y, mean, evaluate.rmse), rows=int(len(y)))
            name = f"{task}: RMSE ({info.unit})"
            error = np.abs(mean - y)
        metrics["baselines"] = {label: round(float(v), 4) for label, v in baselines.items()}
        calibrations.append(calibration)
        task_metrics[task] = metrics
        similarity = model.nearest_training_similarity(packed_bits(validation.features[known, :MORGAN_BITS]))
        metrics["domain_error_by_similarity"] = _error_by_similarity(similarity, error)
        if len(info.tasks) == 1 or k == 0:
            headline.append(cards.headline(name, metrics.get("roc_auc", metrics.get("rmse")),
                                           metrics.get("roc_auc_95ci", metrics.get("rmse_95ci")),
                                           higher_is_better=kind == "classification", baseline=baselines))
        if len(info.tasks) == 1:
            curves = ({"roc": cards.roc_points(y, evaluate.cross_fitted_platt(y, mean)),
                       "reliability": cards.reliability_points(y, evaluate.cross_fitted_platt(y, mean))}
                      if kind == "classification" else {"parity": cards.parity_points(y, mean)})
    model.calibrations = calibrations
    # Applicability domain: one cut-off per model, from all validation rows and tasks together.
    similarity = model.nearest_training_similarity(packed_bits(validation.features[:, :MORGAN_BITS]))
    error = _per_row_error(model, validation, validation_graphs, kind)
    cutoff, ratio = evaluate.domain_cutoff(similarity, error)
    model.domain_cutoff = cutoff
    if len(info.tasks) > 1:
        mean_auc = float(np.mean([task_metrics[t]["roc_auc"] for t in info.tasks]))
        headline.insert(0, cards.headline("mean ROC-AUC over 12 tasks", mean_auc, None,
                                          baseline={"boosted trees": _mean_score(kind, truth, raw["boosted trees"].mean(0)),
                                                    "random forest": _mean_score(kind, truth, forest_out)}))
    seconds = time.perf_counter() - started
    save(model, model_dir, chosen, approved_drug_inputs())
    card = _card(info, kind, data, train_set, validation, task_metrics, headline, curves, cutoff, ratio,
                 similarity, members, seconds, len(graph_networks))
    if kind == "classification":
        _add_notation_check(card, info)
    if info.name == external.MODEL:
        try:
            external.add_to_card(card, model)
        except DataNotFoundError as exc:
            log(f"external check left out: {exc}")
    card["metrics"]["validation_candidates"] = {label: round(v, 4) for label, v in candidate_scores.items()}
    (model_dir / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    return card


def _add_notation_check(card: dict, info: DrugModelInfo) -> None:
    """Card section (and limitation, where it is strong) on how the file's SMILES were written."""
    raw = datasets.read_raw(info.dataset)
    spec = datasets.DATASETS[info.dataset]
    checks = {task: evaluate.notation_check(raw["smiles"], raw[target].to_numpy(float))
              for task, target in zip(info.tasks, spec.targets)}
    card["data"]["notation_check"] = {
        "meaning": "how the file wrote its SMILES, by label: the share written with formal charges and the "
                   "share written as salts or mixtures, and the ROC-AUC of a rule on those two facts alone "
                   "(0.5: the notation says nothing about the label)", **cards.rounded(checks)}
    for task, check in checks.items():
        if check["rule_roc_auc"] >= NOTATION_ARTEFACT_AUC:
            card["limitations"].append(
                f"{task}: in the training file {check['charged_share_label_0']:.0%} of the negatives (0) and "
                f"{check['charged_share_label_1']:.0%} of the positives (1) are written with formal charges, "
                f"{check['salt_share_label_0']:.0%} and {check['salt_share_label_1']:.0%} as salts or mixtures; "
                f"a rule on those two facts alone reaches ROC-AUC {check['rule_roc_auc']:.2f}. That is how the "
                "sources wrote the molecules, not chemistry. This model reads standardised (neutralised, "
                "largest-fragment) molecules, so it cannot use it, and its ROC-AUC above is measured without "
                "it; figures published on the raw strings may include it.")


def _error_by_similarity(similarity: np.ndarray, error: np.ndarray) -> dict[str, list[float]]:
    edges = [0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 1.01]
    rows = {"similarity_from": [], "rows": [], "mean_error": []}
    for low, high in zip(edges[:-1], edges[1:]):
        chosen = (similarity >= low) & (similarity < high)
        if chosen.any():
            rows["similarity_from"].append(low)
            rows["rows"].append(int(chosen.sum()))
            rows["mean_error"].append(round(float(error[chosen].mean()), 4))
    return rows


def _per_row_error(model: PropertyModel, validation: datasets.MoleculeSet, graphs: list | None,
                   kind: str) -> np.ndarray:
    """Mean over measured tasks of |error| (regression, in SDs) or the Brier error (classification)."""
    predictions = model.predict(validation.features, graphs)
    errors = []
    for k, task in enumerate(model.tasks):
        truth = validation.targets[:, k]
        value = predictions[task].value
        errors.append(np.abs(value - truth) / (np.nanstd(truth) or 1.0) if kind == "regression" else (value - truth) ** 2)
    return np.nanmean(np.stack(errors), axis=0)


def _card(info: DrugModelInfo, kind: str, data: datasets.MoleculeSet, train_set: datasets.MoleculeSet,
          validation: datasets.MoleculeSet, task_metrics: dict, headline: list, curves: dict,
          cutoff: float, ratio: float, similarity: np.ndarray, members: int, seconds: float,
          graph_members: int) -> dict:
    spec = datasets.DATASETS[info.dataset]
    return {
        "name": info.name, "version": info.version, "date": dt.date.today().isoformat(),
        "summary": info.summary,
        "regulatory_status": "Research use only. Not a medical device; not for clinical or regulatory decisions.",
        "intended_use": info.intended_use,
        "not_intended_for": ["regulatory submissions or safety decisions", "molecules far from the training set "
                             "(flagged out of domain)", "inorganic, organometallic or macromolecular compounds",
                             "anything beyond the assay or property measured in the training data"],
        "headline": headline, "curves": curves,
        "data": {"source": info.source, "file": f"drug/moleculenet/{spec.file}", "licence": "MIT (MoleculeNet copy)",
                 "molecules_after_standardisation": int(len(data.smiles)), "train_molecules": int(len(train_set.smiles)),
                 "validation_molecules": int(len(validation.smiles)),
                 "split": ("random 85/15 (seed 0), as the held-out portion was drawn" if spec.split == "random" else
                           "Bemis–Murcko scaffold groups, rarest scaffolds to validation (15 %), as the held-out "
                           "portion was drawn"),
                 "held_out": "about 10 % of the original rows were withheld for independent evaluation and never seen"},
        "recipe": {"standardisation": "largest fragment, neutralised, canonical tautomer (RDKit MolStandardize)",
                   "features": f"Morgan radius-2 counts (2048) + {train_set.features.shape[1] - MORGAN_BITS} fast RDKit "
                               "descriptors (physchem, VSA bins, MQN, 2D autocorrelation, fragment counts, BCUT, "
                               "E-state and Gasteiger-charge extremes)",
                   "estimator": (f"{members} Keras MLPs, "
                                 + (f"{graph_members} message-passing graph networks, " if graph_members else "")
                                 + "boosted trees" + (" and a random forest" if kind == "classification" else "")
                                 + (", averaged family by family: the MLPs, the graph networks and the tree-based "
                                    "members carry a third of the weight each" if graph_members else
                                    ", averaged: the networks carry half the weight, the tree-based members the other "
                                    "half")
                                 + ". Every family rather than the one best on validation: in 5-fold "
                                   "cross-validation the average beat the family a single validation split had "
                                   "picked on three of four sets and was 0.002 behind on the fourth "
                                   "(benchmarks/drug_families_cv.py). 'Validation candidates' below lists each "
                                   "combination's validation score."),
                   "networks": "inputs: log1p(counts folded to 1024) + standardised descriptors; Dense 256-128, ReLU, "
                          "dropout 0.2/0.3, AdamW, masked multi-task loss",
                   **({"graph_networks": f"directed-bond message passing (D-MPNN, as chemprop) on the graph alone: "
                                         f"{HIDDEN} channels, {DEPTH} steps, mean over atoms, one hidden layer, "
                                         "dropout 0.1; Adam warming up to 1e-3 and decaying to 1e-4, batches of 50, "
                                         f"{EPOCH_RANGE[0]}-{EPOCH_RANGE[1]} epochs (about 4,000 steps); atom "
                                         "features: element, degree, charge, chirality, hydrogens, hybridisation, "
                                         "aromaticity, ring sizes, mass; bond features: type, conjugation, ring, "
                                         "stereo"} if graph_members else {}),
                   "trees": (f"{TREE_MEMBERS} scikit-learn HistGradientBoosting members ({TREE_ROUNDS} rounds, <= 31 "
                             "leaves" if len(info.tasks) == 1 else "1 HistGradientBoosting member per task (200 rounds, "
                             "<= 15 leaves") + ", lr 0.07, 30 % of features per split) on descriptors and fingerprint "
                            "bits set in >= 1 % of training molecules",
                   **({"random_forest": "scikit-learn, 200 trees" if len(info.tasks) == 1 else
                       "scikit-learn, 60 trees per task, leaves of >= 8 molecules"} if kind == "classification" else {}),
                   "uncertainty": ("SD of Platt-calibrated member probabilities" if kind == "classification" else
                                   "SD of member predictions times a scale fitted on validation"),
                   "calibration": "Platt scaling on validation" if kind == "classification" else "variance scaling on validation",
                   "applicability_domain": {"measure": "Tanimoto similarity (Morgan r2 bits) to the nearest training molecule",
                                            "cutoff": round(cutoff, 4),
                                            "rule": evaluate.domain_rule(ratio),
                                            "error_ratio_below_vs_above": round(ratio, 3),
                                            "validation_out_of_domain": round(float(np.mean(similarity < cutoff)), 4)},
                   "training_seconds": round(seconds), "command": f"python -m medai train {info.name}"},
        "metrics": {"validation": cards.rounded(task_metrics)},
        "limitations": info.limitations + [
            "Validation is a single split of the development data; the intervals are bootstrap intervals over its rows.",
            "Predictions for molecules unlike the training set are flagged out of domain; treat them as guesses."],
        "citation": info.citation,
    }
