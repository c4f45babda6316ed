"""The ``icu-mortality`` model at prediction time: boosted trees, a small network and GRUs, blended and calibrated.

The trees and the Dense network read per-stay summary features (:mod:`medai.timeline.features`);
the GRUs read the stay hour by hour (:mod:`medai.timeline.sequence`). Both networks were trained with
Keras and are evaluated here with NumPy from their shipped weights (no TensorFlow start-up on the
page or in a 4,000-patient batch); training checks the NumPy outputs against Keras's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import joblib
import numpy as np

from medai.calibration import PlattCalibrator, logit
from medai.registry import ModelSpec
from medai.threads import single_threaded
from medai.timeline.features import feature_matrix
from medai.timeline.io import Stay, clipped
from medai.timeline.vocabulary import mislabelled_units
from medai.timeline.sequence import SequenceModel, step_of

GBM_FILE, MLP_FILE, ARRAYS_FILE, GRU_FILE = "gbm.joblib", "mlp.npz", "arrays.npz", "gru.npz"
MIN_HOURS, MIN_VARIABLES = 6.0, 8  # data sufficiency: below either, the risk is flagged
# Bedside signs; a stay with none of them (a laboratory export) is flagged: 1.4 % of training stays were so.
VITAL_SIGNS = ("HR", "RespRate", "Temp", "SysABP", "DiasABP", "MAP", "NISysABP", "NIDiasABP", "NIMAP", "SaO2", "GCS")
NO_VITAL_SIGNS = "no vital sign recorded"  # the note's words, which the Ward overview's data column shows
UNKNOWN_NAMED = 5  # unknown variables named in the note; the rest counted


def _logit(p: np.ndarray) -> np.ndarray:
    return logit(p, 1e-6)


@dataclass
class DenseNet:
    """Dense layers as NumPy arrays: ``weights[k]`` (in, out), ``biases[k]`` (out,); ReLU between, none last."""

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    median: np.ndarray
    scale: np.ndarray

    def inputs(self, features: np.ndarray) -> np.ndarray:
        """Scaled features with missing values as 0, then one 0/1 mask per feature, shape (n, 2F)."""
        missing = np.isnan(features)
        scaled = np.where(missing, 0.0, (features - self.median) / self.scale)
        return np.concatenate([np.clip(scaled, -10, 10), (~missing).astype(np.float32)], axis=1).astype(np.float32)

    def logit(self, features: np.ndarray) -> np.ndarray:
        """Raw logit, shape (n,), of features (n, F)."""
        x = self.inputs(features)
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = x @ w + b
            if k < len(self.weights) - 1:
                x = np.maximum(x, 0.0)
        return x[:, 0]


@dataclass
class MortalityModel:
    """Calibrated in-hospital mortality risk of a stay from its data up to a cut-off.

    Each family has one member per cross-fitting fold, each trained without that fold's stays; a
    family's logit is the mean of its members'.

    Attributes
    ----------
    gbms : list of HistGradientBoostingClassifier
        On summary features.
    nets : list of DenseNet
        On summary features.
    blend : float
        Weight of the networks' logit against the trees' (0 = trees only), chosen on held-out folds.
    sequence : SequenceModel
        GRUs on the hourly grid.
    sequence_weight : float
        Weight of the GRUs' logit against the trees + network blend, chosen on held-out folds.
    calibrator : PlattCalibrator
        Maps the final logit to a probability.
    """

    name: str
    version: str
    gbms: list
    nets: list[DenseNet]
    blend: float
    sequence: SequenceModel
    sequence_weight: float
    calibrator: PlattCalibrator

    def combined_logit(self, features: np.ndarray, sequence_logit: np.ndarray) -> np.ndarray:
        """Uncalibrated logit, shape (n,), from summary features (n, F) and the GRUs' logit (n,)."""
        features = np.asarray(features, dtype=np.float32)
        tabular = 0.0
        if self.blend < 1:
            trees = np.mean([_logit(gbm.predict_proba(features)[:, 1]) for gbm in self.gbms], axis=0)
            tabular = (1 - self.blend) * trees
        if self.blend > 0:
            tabular = tabular + self.blend * np.mean([net.logit(features) for net in self.nets], axis=0)
        return (1 - self.sequence_weight) * tabular + self.sequence_weight * np.asarray(sequence_logit)

    def member(self, fold: int) -> "MortalityModel":
        """The model made of one cross-fitting fold's members alone, which never saw that fold's stays."""
        sequence = SequenceModel([self.sequence.nets[fold]], self.sequence.scaling)
        return replace(self, gbms=[self.gbms[fold]], nets=[self.nets[fold]], sequence=sequence)

    @single_threaded
    def predict(self, stays: list[Stay], cutoffs: list[float | None] | None = None) -> np.ndarray:
        """Risk of each stay from its data up to ``cutoffs[i]`` h (default: all of it), shape (n,)."""
        if not stays:
            return np.zeros(0)
        cutoffs = cutoffs if cutoffs is not None else [None] * len(stays)
        hours = np.array([max(s.hours, 1.0) if c is None else c for s, c in zip(stays, cutoffs)], float)
        sequence_logit = self.sequence.logit_at(stays, hours)
        return self.calibrator.predict(self.combined_logit(feature_matrix(stays, list(hours)), sequence_logit))

    @single_threaded
    def risk_curve(self, stay: Stay, hours: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(hours, risk) recomputed from the data up to each whole hour and the last observation, shape (t,)."""
        if hours is None:
            hours = np.unique(np.append(np.arange(1.0, np.floor(stay.hours) + 1.0), max(stay.hours, 1.0)))
        hourly = self.sequence.hourly_logits([stay])[0]  # causal: hour k uses only data up to k h
        features = feature_matrix([stay] * len(hours), list(hours))
        return hours, self.calibrator.predict(self.combined_logit(features, hourly[step_of(hours)]))

    def occlusion(self, stay: Stay) -> list[tuple[str, float]]:
        """How much each observed variable moves the risk: risk(all data) − risk(without that variable).

        Returns
        -------
        list of (variable, change in probability), largest absolute change first.
        """
        observed = stay.observed()
        if not observed:
            return []
        cutoff = max(stay.hours, 1.0)
        variants = [stay] + [stay.without(v) for v in observed]
        risks = self.predict(variants, [cutoff] * len(variants))
        changes = [(name, float(risks[0] - risks[k + 1])) for k, name in enumerate(observed)]
        return sorted(changes, key=lambda item: -abs(item[1]))


def too_little_data(stay: Stay) -> list[str]:
    """Why the stay holds too little to give any figure as more than a rough guess (empty when it holds
    enough): under :data:`MIN_HOURS` of data or under :data:`MIN_VARIABLES` variables observed."""
    notes = []
    if stay.hours < MIN_HOURS:
        notes.append(f"only {stay.hours:.1f} h of data (< {MIN_HOURS:g} h)")
    observed = len(stay.observed())
    if observed < MIN_VARIABLES:
        notes.append(f"only {observed} variable{'s' * (observed != 1)} observed (< {MIN_VARIABLES})")
    return notes


def sufficiency(stay: Stay) -> list[str]:
    """Why a stay's risk should not be read as a plain number (empty when there is enough data)."""
    notes = too_little_data(stay)
    if stay.out_of_range:
        count = len(stay.out_of_range)
        notes.append(f"{count} implausible value{'s' * (count != 1)} set aside (e.g. {stay.out_of_range[0]})")
        notes.extend(mislabelled_units(stay.out_of_range))
    if stay.problems:
        more = stay.problem_count - 1
        notes.append(f"rows skipped: {stay.problems[0]}" + (f" (and {more} more)" if more else ""))
    notes.extend(stay.doubts)
    if len(stay.time) and not set(stay.observed()) & set(VITAL_SIGNS):
        notes.append(f"{NO_VITAL_SIGNS} (heart rate, blood pressure, respiration, temperature, SpO2, GCS): "
                     "every figure rests on the labs and descriptors alone")
    if stay.unknown:
        names = sorted(stay.unknown)
        more = len(names) - UNKNOWN_NAMED
        named = ", ".join(f"'{clipped(name, 40)}'" for name in names[:UNKNOWN_NAMED])
        notes.append(f"unknown variables ignored: {named}" + (f" (and {more} more)" if more > 0 else ""))
    return notes


def _layers(saved, prefix: str) -> list[np.ndarray]:
    """The arrays ``{prefix}0``, ``{prefix}1``, … of an ``.npz`` as float32."""
    count = sum(1 for key in saved.files if key.startswith(prefix))
    return [saved[f"{prefix}{k}"].astype(np.float32) for k in range(count)]


def net_arrays(nets: list[DenseNet]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The networks as named arrays for ``np.savez``: (layers as float16, scaling), read back by :func:`load`."""
    layers, scaling = {}, {}
    for m, net in enumerate(nets):
        layers.update({f"m{m}_w{k}": w.astype(np.float16) for k, w in enumerate(net.weights)})
        layers.update({f"m{m}_b{k}": b.astype(np.float16) for k, b in enumerate(net.biases)})
        scaling.update({f"median_{m}": net.median, f"scale_{m}": net.scale})
    return layers, scaling


def load(spec: ModelSpec) -> MortalityModel:
    """Build the model from a registry spec (files already verified)."""
    gbms = joblib.load(spec.path(GBM_FILE))
    with np.load(spec.path(MLP_FILE)) as saved, np.load(spec.path(ARRAYS_FILE)) as arrays:
        nets = [DenseNet(*(_layers(saved, f"m{m}_{kind}") for kind in ("w", "b")),
                         arrays[f"median_{m}"], arrays[f"scale_{m}"]) for m in range(len(gbms))]
    with np.load(spec.path(GRU_FILE)) as saved:
        sequence = SequenceModel.from_arrays(saved)
    parameters = spec.parameters
    calibrator = PlattCalibrator(parameters["platt_slope"], parameters["platt_intercept"])
    return MortalityModel(spec.name, spec.version, gbms, nets, float(parameters["blend"]), sequence,
                          float(parameters["sequence_weight"]), calibrator)


__all__ = ["MortalityModel", "DenseNet", "load", "sufficiency", "too_little_data"]
