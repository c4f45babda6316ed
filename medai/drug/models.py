"""Property models: an ensemble of Keras MLPs and gradient-boosted trees on one feature vector, and
(where it is trained) message-passing networks on the molecular graph, with calibrated uncertainty
and an applicability domain.

Split as chemprop v2 splits uncertainty: the members are the *estimator* (their mean is the
prediction, their spread the raw uncertainty), :class:`Calibration` the *calibrator* (Platt scaling of
probabilities; a variance scale for regression), and the card holds what the *evaluator* measured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from medai.calibration import logit
from medai.drug.featurize import MORGAN_BITS, nearest_similarity
from medai.drug.graphs import GraphNetwork, MolGraph, batch_graphs
from medai.threads import single_threaded

MLP_FINGERPRINT_BITS = 1024
PREDICT_CHUNK = 8192
GRAPH_CHUNK = 1024  # molecules per graph batch: about 60 MB of bond states at 256 channels


@dataclass
class FeatureScaler:
    """Turns :func:`medai.drug.featurize.to_features` rows into MLP inputs.

    Fingerprint counts are folded from 2048 to 1024 bins and log-scaled; descriptors are centred on
    the training median, divided by the training SD and clipped to ±6. Only the first
    ``len(median_)`` descriptors are read: those the model was trained on (the block grows at its end).

    Attributes
    ----------
    median_, scale_ : ndarray of float32, shape (n_descriptors,)
        Fitted on the training rows.
    """

    median_: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    scale_: np.ndarray = field(default_factory=lambda: np.ones(0, np.float32))

    def fit(self, features: np.ndarray) -> "FeatureScaler":
        """Fit on training features, shape (n, 2048 + n_descriptors)."""
        descriptors = features[:, MORGAN_BITS:]
        self.median_ = np.median(descriptors, axis=0).astype(np.float32)
        self.scale_ = (np.std(descriptors, axis=0) + 1e-6).astype(np.float32)
        return self

    def transform(self, features: np.ndarray) -> np.ndarray:
        """MLP inputs, shape (n, 1024 + n_descriptors), float32."""
        counts = features[:, :MORGAN_BITS]
        folded = counts[:, :MLP_FINGERPRINT_BITS] + counts[:, MLP_FINGERPRINT_BITS:]
        trained_on = features[:, MORGAN_BITS:MORGAN_BITS + len(self.median_)]
        descriptors = np.clip((trained_on - self.median_) / self.scale_, -6.0, 6.0)
        return np.concatenate([np.log1p(folded), descriptors], axis=1).astype(np.float32)


class ColumnTree:
    """A scikit-learn estimator that sees only ``columns`` of the feature matrix."""

    def __init__(self, estimator: Any, columns: np.ndarray):
        self.estimator, self.columns = estimator, columns

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Regression values, shape (n,)."""
        return self.estimator.predict(features[:, self.columns])

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (n, 2)."""
        return self.estimator.predict_proba(features[:, self.columns])


class DenseNetwork:
    """An MLP member's forward pass in NumPy: ReLU hidden layers, a linear output.

    Screening needs no TensorFlow: the Keras network (:mod:`medai.drug.network`) is only for training.

    Parameters
    ----------
    weights : list of ndarray
        Keras ``get_weights()`` order: kernel (d_in, d_out), bias (d_out,), layer after layer.
    """

    def __init__(self, weights: list[np.ndarray]):
        self.weights = [np.asarray(w, np.float32) for w in weights]

    def get_weights(self) -> list[np.ndarray]:
        """The arrays, in Keras order."""
        return self.weights

    def __call__(self, inputs: np.ndarray, training: bool = False) -> np.ndarray:
        """Outputs (n, n_tasks) for inputs (n, d_in); ``training`` is accepted for Keras parity."""
        x = np.asarray(inputs, np.float32)
        layers = list(zip(self.weights[::2], self.weights[1::2]))
        for kernel, bias in layers[:-1]:
            x = np.maximum(x @ kernel + bias, 0.0)
        kernel, bias = layers[-1]
        return x @ kernel + bias


@dataclass(frozen=True)
class Calibration:
    """Calibrator of one task.

    Attributes
    ----------
    slope, intercept : float
        Classification: Platt scaling of the ensemble's mean logit, p = σ(slope · logit + intercept).
        Regression: unused (1, 0).
    std_scale : float
        Factor on the ensemble spread so that, on validation, squared errors match the predicted
        variance on average (regression), or 1 (classification).
    """

    slope: float = 1.0
    intercept: float = 0.0
    std_scale: float = 1.0

    def apply(self, probability: np.ndarray) -> np.ndarray:
        """Platt-calibrated probability, same shape as ``probability`` (classification)."""
        return 1 / (1 + np.exp(-(self.slope * _logit(probability) + self.intercept)))


@dataclass(frozen=True)
class TaskPrediction:
    """Predictions of one task for a batch.

    Attributes
    ----------
    value : ndarray, shape (n,)
        Calibrated probability (classification) or value in the task's unit (regression).
    std : ndarray, shape (n,)
        Calibrated uncertainty: SD of the value.
    """

    value: np.ndarray
    std: np.ndarray


def _logit(p: np.ndarray) -> np.ndarray:
    # Clipped only where float64 loses the logit: a 1e-6 floor gave over half of ClinTox's molecules
    # (members' mean below 1e-6) one and the same calibrated probability.
    return logit(p, 1e-15)


class PropertyModel:
    """A trained multi-task property model.

    Parameters
    ----------
    name, version : str
        Registry identity.
    tasks : sequence of str
        Output column names (e.g. ``"logS"``, ``"tox21_NR-AR"``).
    kind : str
        ``"regression"`` or ``"classification"``.
    networks : list of DenseNetwork (or keras.Model while training)
        MLP members, each mapping scaled inputs (n, d) to (n, n_tasks) outputs (logits or
        standardised values).
    trees : list of list
        Per member, one fitted estimator per task (:class:`ColumnTree`, on raw features).
    graph_networks : list of GraphNetwork
        Message-passing members on the molecules' graphs. Each family present (MLPs, graph
        networks, trees) carries an equal share of the mean.
    scaler : FeatureScaler
    target_mean, target_std : ndarray, shape (n_tasks,)
        Regression targets are standardised for the networks.
    calibrations : list of Calibration
        One per task.
    train_bits : ndarray of uint8, shape (m, 256)
        Packed fingerprints of the training molecules (applicability domain).
    domain_cutoff : float
        Nearest-training Tanimoto similarity below which a prediction is out of domain.

    Attributes
    ----------
    approved_quantiles : dict
        Task → 101 quantiles of this model's predictions over approved drugs (set by the loader).
    """

    def __init__(self, name: str, version: str, tasks: Sequence[str], kind: str, networks: list[Any],
                 trees: list[list[Any]], scaler: FeatureScaler, target_mean: np.ndarray,
                 target_std: np.ndarray, calibrations: list[Calibration], train_bits: np.ndarray,
                 domain_cutoff: float, graph_networks: list[GraphNetwork] | None = None):
        self.name, self.version, self.tasks, self.kind = name, version, list(tasks), kind
        self.networks, self.trees, self.scaler = networks, trees, scaler
        self.graph_networks = graph_networks or []
        self.target_mean, self.target_std = target_mean, target_std
        self.calibrations, self.train_bits, self.domain_cutoff = calibrations, train_bits, domain_cutoff
        self.approved_quantiles: dict[str, list[float]] = {}

    def _from_raw(self, raw: np.ndarray) -> np.ndarray:
        """Network outputs (logits or standardised values) as probabilities or values."""
        return 1 / (1 + np.exp(-raw)) if self.kind == "classification" else raw * self.target_std + self.target_mean

    def member_outputs(self, features: np.ndarray, graphs: Sequence[MolGraph] | None = None) -> np.ndarray:
        """Every member's raw output, shape (n_members, n, n_tasks): probabilities or values.

        ``graphs`` (one per row of ``features``) is needed when the model has graph networks.
        """
        outputs = []
        if self.networks:
            inputs = self.scaler.transform(features)
            for network in self.networks:
                # In chunks, to bound memory; a direct call (Keras' predict() retraces for every network).
                outputs.append(self._from_raw(np.concatenate(
                    [np.asarray(network(inputs[i:i + PREDICT_CHUNK], training=False), np.float64)
                     for i in range(0, len(inputs), PREDICT_CHUNK)])))
        if self.graph_networks:
            if graphs is None or len(graphs) != len(features):
                raise ValueError(f"{self.name} has graph networks: give one graph per row of features.")
            batches = [batch_graphs(graphs[i:i + GRAPH_CHUNK]) for i in range(0, len(graphs), GRAPH_CHUNK)]
            for network in self.graph_networks:
                outputs.append(self._from_raw(np.concatenate([network(batch) for batch in batches]).astype(np.float64)))
        for member in self.trees:
            columns = [tree.predict_proba(features)[:, 1] if self.kind == "classification" else tree.predict(features)
                       for tree in member]
            outputs.append(np.stack(columns, axis=1))
        return np.stack(outputs)

    def member_weights(self) -> np.ndarray:
        """Weight of each member in the mean, shape (n_members,): each family shares equally."""
        families = [len(self.networks), len(self.graph_networks), len(self.trees)]
        present = [n for n in families if n]
        return np.concatenate([np.full(n, 1.0 / (n * len(present))) for n in present])

    def combine(self, members: np.ndarray) -> np.ndarray:
        """Weighted mean over the first axis of (n_members, ...) member outputs."""
        return np.tensordot(self.member_weights(), members, axes=1)

    @single_threaded
    def predict(self, features: np.ndarray, graphs: Sequence[MolGraph] | None = None) -> dict[str, TaskPrediction]:
        """Calibrated predictions per task for features of shape (n, n_features) (and the molecules'
        graphs, when the model has graph networks).

        Classification: Platt scaling of the members' (weighted) mean probability; the SD is that of
        the members' individually calibrated probabilities. Regression: the members' weighted mean,
        and their SD times the validation-fitted scale.
        """
        members = self.member_outputs(features, graphs)
        result = {}
        for index, (task, calibration) in enumerate(zip(self.tasks, self.calibrations)):
            values = members[:, :, index]
            if self.kind == "classification":
                result[task] = TaskPrediction(calibration.apply(self.combine(values)),
                                              calibration.apply(values).std(axis=0))
            else:
                result[task] = TaskPrediction(self.combine(values), values.std(axis=0) * calibration.std_scale)
        return result

    def nearest_training_similarity(self, fingerprint_bits: np.ndarray) -> np.ndarray:
        """Tanimoto similarity to the nearest training molecule, shape (n,), for packed bits (n, 256)."""
        return nearest_similarity(fingerprint_bits, self.train_bits)
