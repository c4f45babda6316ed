"""Which model families to average, measured by 5-fold cross-validation: prints a table and writes
benchmarks/results/drug_families_cv.json.

    python benchmarks/drug_families_cv.py [esol clintox ...] [--networks 3] [--graphs 3]

A drug model averages Keras MLPs, message-passing graph networks (where the catalog asks for them),
boosted trees and (classification) a random forest. A single
validation split of a small set (ESOL: 151 molecules; ClinTox: 13 toxic ones) cannot tell these apart,
so this measures each family and each average on out-of-fold predictions over all development rows
(train + validation; folds random, stratified for classification, whole Bemis–Murcko scaffolds for the
scaffold-split sets). Averages follow the shipped rule: the MLPs, the graph networks and the
tree-based members each carry an equal share, with as many tree members as the shipped models.
Several minutes per dataset on 2 cores (``--graphs 0`` leaves the graph networks out).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from itertools import combinations
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold  # noqa: E402

from medai.drug import datasets, evaluate  # noqa: E402
from medai.drug.graphs import batch_graphs, graphs_of  # noqa: E402
from medai.drug.message_passing import train_graph_network  # noqa: E402
from medai.drug.models import FeatureScaler  # noqa: E402
from medai.drug.network import train_network  # noqa: E402
from medai.drug.train import TREE_MEMBERS, _fit_trees  # noqa: E402

FOLDS = 5


def _folds(data: datasets.MoleculeSet, spec: datasets.DatasetSpec):
    if spec.split == "scaffold":
        return GroupKFold(FOLDS).split(data.features, groups=data.scaffolds)
    if spec.kind == "classification" and data.targets.shape[1] == 1:
        return StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(data.features, data.targets[:, 0])
    return KFold(FOLDS, shuffle=True, random_state=0).split(data.features)


def _out_of_fold(name: str, networks: int, graph_networks: int) -> tuple[np.ndarray, dict[str, list[np.ndarray]]]:
    """Targets (n, tasks) and each family's members' out-of-fold predictions, each (n, tasks)."""
    spec = datasets.DATASETS[name]
    data = datasets.load(name)
    x, y, kind = data.features, data.targets, spec.kind
    tree_members = TREE_MEMBERS if y.shape[1] == 1 else 1  # as shipped
    families = {"mlp": networks, **({"graph": graph_networks} if graph_networks else {}), "trees": tree_members,
                **({"forest": 1} if kind == "classification" else {})}
    graphs = graphs_of(data.smiles) if graph_networks else []
    predicted = {family: [np.zeros(y.shape) for _ in range(count)] for family, count in families.items()}
    for fold, (train, held) in enumerate(_folds(data, spec)):
        scaler = FeatureScaler().fit(x[train])
        mean = np.nanmean(y[train], 0) if kind == "regression" else np.zeros(y.shape[1])
        sd = np.nanstd(y[train], 0) if kind == "regression" else np.ones(y.shape[1])
        for seed in range(networks):
            network = train_network(scaler.transform(x[train]), (y[train] - mean) / sd, kind, seed=seed)
            raw = np.asarray(network(scaler.transform(x[held]), training=False), np.float64)
            predicted["mlp"][seed][held] = 1 / (1 + np.exp(-raw)) if kind == "classification" else raw * sd + mean
        for seed in range(graph_networks):
            network = train_graph_network([graphs[i] for i in train], (y[train] - mean) / sd, kind, seed=seed)
            raw = network(batch_graphs([graphs[i] for i in held])).astype(np.float64)
            predicted["graph"][seed][held] = 1 / (1 + np.exp(-raw)) if kind == "classification" else raw * sd + mean
        for family, count in families.items():
            for seed in range(count if family not in ("mlp", "graph") else 0):
                member = _fit_trees(x[train], y[train], kind, forest=family == "forest", seed=seed)
                predicted[family][seed][held] = np.stack([_predict(tree, x[held], kind) for tree in member], axis=1)
        print(f"  {name}: fold {fold + 1}/{FOLDS} done", file=sys.stderr, flush=True)
    return y, predicted


def _predict(tree, x: np.ndarray, kind: str) -> np.ndarray:
    return tree.predict_proba(x)[:, 1] if kind == "classification" else tree.predict(x)


def _averages(predicted: dict[str, list[np.ndarray]]) -> dict[str, np.ndarray]:
    """Every combination of families, averaged as shipped: the MLPs, the graph networks and the
    tree-based members each an equal share."""
    result = {}
    for size in range(1, len(predicted) + 1):
        for chosen in combinations(predicted, size):
            parts = [np.mean(predicted[family], axis=0) for family in ("mlp", "graph") if family in chosen]
            tree_members = [member for family in chosen if family not in ("mlp", "graph") for member in predicted[family]]
            parts += [np.mean(tree_members, axis=0)] if tree_members else []
            result[" + ".join(chosen)] = np.mean(parts, axis=0)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=["esol", "clintox"], choices=sorted(datasets.DATASETS))
    parser.add_argument("--networks", type=int, default=3, help="MLP members per fold (the shipped models have 5)")
    parser.add_argument("--graphs", type=int, default=3, help="graph-network members per fold (shipped: 5 or none)")
    args = parser.parse_args()
    out = REPO / "benchmarks" / "results" / "drug_families_cv.json"
    # Datasets not run this time keep their earlier entry: each takes minutes to tens of minutes.
    report = json.loads(out.read_text()) if out.exists() else {"folds": FOLDS, "datasets": {}}
    for name in args.names:
        started = time.perf_counter()
        kind = datasets.DATASETS[name].kind
        truth, predicted = _out_of_fold(name, args.networks, args.graphs)
        score = evaluate.task_score(kind)
        scores = {label: float(np.mean([score(truth[np.isfinite(truth[:, k]), k], p[np.isfinite(truth[:, k]), k])
                                        for k in range(truth.shape[1])]))
                  for label, p in _averages(predicted).items()}
        report["datasets"][name] = {"metric": "RMSE" if kind == "regression" else "mean ROC-AUC",
                                    "rows": int(len(truth)), "networks_per_fold": args.networks,
                                    "graph_networks_per_fold": args.graphs,
                                    "scores": {k: round(v, 4) for k, v in scores.items()},
                                    "seconds": round(time.perf_counter() - started)}
        print(f"\n{name} ({report['datasets'][name]['metric']}, {len(truth)} molecules, out of fold)")
        for label, value in scores.items():
            print(f"  {label:<24} {value:.4f}")
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwritten {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
