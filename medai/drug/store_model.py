"""Write and read a :class:`PropertyModel`: MLP and graph-network weights, trees, scaler and domain
arrays, spec.json.

Trees are scikit-learn objects saved with joblib (a pickle); the registry checks every file's
SHA-256 before :func:`load` runs, so only the files we shipped are ever unpickled.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import joblib
import numpy as np

from medai.drug.graphs import GraphNetwork, MolGraph
from medai.drug.models import Calibration, DenseNetwork, FeatureScaler, PropertyModel
from medai.drug.reference import quantiles
from medai.registry import ModelSpec, sha256_of

TREES_FILE, ARRAYS_FILE = "trees.joblib", "arrays.npz"


def save(model: PropertyModel, model_dir: Path, estimator: str,
         approved: tuple[np.ndarray, list[MolGraph]]) -> None:
    """Write the model's files and ``spec.json`` (with the quantiles of its predictions over the
    approved drugs, whose features and graphs ``approved`` holds)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    for stale in [*model_dir.glob("member_*.keras"), *model_dir.glob("member_*.npz"), *model_dir.glob("graph_*.npz")]:
        stale.unlink()
    files = []
    networks = [(f"member_{i}.npz", network) for i, network in enumerate(model.networks)]
    networks += [(f"graph_{i}.npz", network) for i, network in enumerate(model.graph_networks)]
    for name, network in networks:
        # float16, as training rounded them (medai.drug.network.half_precision): half the file size.
        np.savez_compressed(model_dir / name, *[w.astype(np.float16) for w in network.get_weights()])
        files.append(name)
    if model.trees:
        joblib.dump(model.trees, model_dir / TREES_FILE, compress=3)
        files.append(TREES_FILE)
    elif (model_dir / TREES_FILE).exists():
        (model_dir / TREES_FILE).unlink()
    np.savez_compressed(model_dir / ARRAYS_FILE, median=model.scaler.median_, scale=model.scaler.scale_,
                        target_mean=model.target_mean, target_std=model.target_std, train_bits=model.train_bits)
    files.append(ARRAYS_FILE)
    approved_predictions = model.predict(*approved)
    spec = {
        "name": model.name, "version": model.version, "task": "molecular-property",
        "loader": "medai.drug.store_model:load", "trainer": "medai.drug.train:train",
        "labels": model.tasks,
        "input": {"formats": ["smiles", "csv", "smi", "sdf"],
                  "features": (f"Morgan radius-2 counts (2048) + the first {len(model.scaler.median_)} "
                               "RDKit descriptors of medai.drug.featurize, of the standardised parent")},
        "files": {name: sha256_of(model_dir / name) for name in files},
        "parameters": {"kind": model.kind, "estimator": estimator,
                       "members": [name for name in files if name.startswith("member_")],
                       "graph_members": [name for name in files if name.startswith("graph_")],
                       "graph_depth": model.graph_networks[0].depth if model.graph_networks else 0,
                       "calibrations": [asdict(c) for c in model.calibrations],
                       "domain_cutoff": round(model.domain_cutoff, 4),
                       "approved_drug_quantiles": {task: quantiles(approved_predictions[task].value)
                                                   for task in model.tasks}},
    }
    (model_dir / "spec.json").write_text(json.dumps(spec, indent=2) + "\n")


def load(spec: ModelSpec) -> PropertyModel:
    """Build the model from a registry spec (files already verified)."""
    parameters = spec.parameters
    networks, graph_networks = [], []
    for name in parameters["members"]:
        with np.load(spec.path(name)) as saved:
            networks.append(DenseNetwork([saved[f"arr_{i}"] for i in range(len(saved.files))]))
    for name in parameters.get("graph_members", []):
        with np.load(spec.path(name)) as saved:
            graph_networks.append(GraphNetwork([saved[f"arr_{i}"] for i in range(len(saved.files))],
                                               int(parameters["graph_depth"])))
    trees = joblib.load(spec.path(TREES_FILE)) if TREES_FILE in spec.files else []
    for member in trees:
        for tree in member:
            # Trained with n_jobs=2; predicting on a 500-molecule chunk, joblib's thread pool waits
            # (polls) longer than the trees compute, and screen workers already fill the cores.
            if hasattr(tree.estimator, "n_jobs"):
                tree.estimator.n_jobs = None
    with np.load(spec.path(ARRAYS_FILE)) as arrays:
        scaler = FeatureScaler(arrays["median"], arrays["scale"])
        model = PropertyModel(spec.name, spec.version, spec.labels, parameters["kind"], networks, trees, scaler,
                              arrays["target_mean"], arrays["target_std"],
                              [Calibration(**c) for c in parameters["calibrations"]], arrays["train_bits"],
                              float(parameters["domain_cutoff"]), graph_networks)
    model.approved_quantiles = parameters["approved_drug_quantiles"]
    return model
