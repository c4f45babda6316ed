"""Hour-by-hour inputs for the sequence (GRU) part of ``icu-mortality``, and the GRU evaluated in NumPy.

Irregular sampling is kept visible to the network, as GRU-D does: for each hour and variable the
last value seen so far (scaled; 0 before the first observation), whether the variable was measured
in that hour, and the hours since it was last measured. The five descriptors (scaled, with a mask)
are repeated at every step. The network is a single Keras GRU layer and one logit per hour, so the
risk at hour ``t`` only uses data up to ``t`` — the risk curve comes out of one pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medai.timeline.io import Stay
from medai.timeline.vocabulary import descriptors, variable_names

HOURS = 48  # the network has seen the first 48 h; later data are folded into hour 48
SINCE_CAP = 48.0  # hours since last measurement, capped, then divided by the cap


def channels() -> int:
    """Inputs per hour: 3 per variable (value, measured, since) + 2 per descriptor (value, known)."""
    return 3 * len(variable_names()) + 2 * len(descriptors())


@dataclass
class Scaling:
    """Robust scaling fitted on training stays: ``centre`` and ``scale`` per variable (V,) and descriptor (D,)."""

    centre: np.ndarray
    scale: np.ndarray
    desc_centre: np.ndarray
    desc_scale: np.ndarray

    @classmethod
    def fit(cls, stays: list[Stay]) -> "Scaling":
        """Median and IQR of every observation of each variable and of each descriptor."""
        n_var = len(variable_names())
        values = np.concatenate([s.value for s in stays])
        owners = np.concatenate([s.variable for s in stays]).astype(np.int64)
        centre, scale = np.zeros(n_var), np.ones(n_var)
        for v in range(n_var):
            seen = values[owners == v]
            if len(seen):
                q25, q50, q75 = np.percentile(seen, [25, 50, 75])
                centre[v], scale[v] = q50, (q75 - q25) if q75 > q25 else max(abs(q50), 1.0)
        desc = np.array([[s.descriptors.get(d, np.nan) for d in descriptors()] for s in stays], float)
        q25, q50, q75 = np.zeros((3, desc.shape[1]))
        seen = np.isfinite(desc).any(axis=0)  # a descriptor no stay has keeps centre 0, scale 1
        q25[seen], q50[seen], q75[seen] = np.nanpercentile(desc[:, seen], [25, 50, 75], axis=0)
        spread = np.where(q75 > q25, q75 - q25, 1.0)
        return cls(centre, scale, np.nan_to_num(q50), spread)


def hourly_inputs(stay: Stay, scaling: Scaling, hours: int = HOURS) -> np.ndarray:
    """The stay as an hourly grid, shape (hours, :func:`channels`), float32.

    Hour ``k`` (0-based) holds what was known at ``k + 1`` h since admission: observations at times
    in (k, k + 1] (those at ≤ 1 h go to hour 0, those after ``hours`` to the last hour).
    """
    n_var = len(variable_names())
    value = np.zeros((hours, n_var), np.float32)
    measured = np.zeros((hours, n_var), np.float32)
    last_seen = np.full(n_var, np.nan)
    current = np.zeros(n_var, np.float32)
    bins = np.clip(np.ceil(stay.time).astype(np.int64) - 1, 0, hours - 1)
    scaled = np.clip((stay.value - scaling.centre[stay.variable]) / scaling.scale[stay.variable], -10, 10)
    since = np.zeros((hours, n_var), np.float32)
    order = np.argsort(bins, kind="stable")  # within an hour, the file's time order decides the last value
    bins, variables, scaled = bins[order], stay.variable[order].astype(np.int64), scaled[order]
    position = 0
    for hour in range(hours):
        while position < len(bins) and bins[position] == hour:
            current[variables[position]] = scaled[position]
            measured[hour, variables[position]] = 1.0
            last_seen[variables[position]] = hour
            position += 1
        value[hour] = current
        since[hour] = np.where(np.isnan(last_seen), SINCE_CAP, np.minimum(hour - np.nan_to_num(last_seen), SINCE_CAP))
    desc = np.array([stay.descriptors.get(d, np.nan) for d in descriptors()], float)
    known = np.isfinite(desc)
    desc = np.where(known, np.clip((desc - scaling.desc_centre) / scaling.desc_scale, -10, 10), 0.0)
    static = np.broadcast_to(np.concatenate([desc, known]).astype(np.float32), (hours, 2 * len(known)))
    return np.concatenate([value, measured, since / SINCE_CAP, static], axis=1).astype(np.float32)


def input_tensor(stays: list[Stay], scaling: Scaling) -> np.ndarray:
    """Stacked :func:`hourly_inputs`, shape (n, HOURS, channels)."""
    return np.stack([hourly_inputs(s, scaling) for s in stays]) if stays else \
        np.zeros((0, HOURS, channels()), np.float32)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class GRUNet:
    """One Keras ``GRU(reset_after=True)`` + per-step ``Dense(1)`` as NumPy arrays.

    ``kernel`` (C, 3U), ``recurrent`` (U, 3U), ``bias`` (2, 3U) in Keras's z, r, h gate order;
    ``head_w`` (U, 1), ``head_b`` (1,).
    """

    kernel: np.ndarray
    recurrent: np.ndarray
    bias: np.ndarray
    head_w: np.ndarray
    head_b: np.ndarray

    def hourly_logits(self, inputs: np.ndarray) -> np.ndarray:
        """Logit after each hour, shape (n, T), of inputs (n, T, C)."""
        units = self.recurrent.shape[0]
        state = np.zeros((inputs.shape[0], units), np.float32)
        projected = inputs @ self.kernel + self.bias[0]
        out = np.empty(inputs.shape[:2], np.float32)
        for step in range(inputs.shape[1]):
            x = projected[:, step]
            h = state @ self.recurrent + self.bias[1]
            z = _sigmoid(x[:, :units] + h[:, :units])
            r = _sigmoid(x[:, units:2 * units] + h[:, units:2 * units])
            candidate = np.tanh(x[:, 2 * units:] + r * h[:, 2 * units:])
            state = z * state + (1 - z) * candidate
            out[:, step] = (state @ self.head_w + self.head_b)[:, 0]
        return out


@dataclass
class SequenceModel:
    """Several :class:`GRUNet` trained from different seeds; their logits are averaged."""

    nets: list[GRUNet]
    scaling: Scaling

    def hourly_logits(self, stays: list[Stay]) -> np.ndarray:
        """Mean logit after each hour 1..48, shape (n, HOURS); hour ``k`` uses data up to ``k`` h."""
        inputs = input_tensor(stays, self.scaling)
        return np.mean([net.hourly_logits(inputs) for net in self.nets], axis=0)

    def logit_at(self, stays: list[Stay], cutoffs: np.ndarray) -> np.ndarray:
        """Mean logit of each stay from its data up to ``cutoffs[i]`` h, shape (n,)."""
        cutoffs = np.asarray(cutoffs, float)
        cut = [s.until(c) for s, c in zip(stays, cutoffs)]
        return self.hourly_logits(cut)[np.arange(len(stays)), step_of(cutoffs)]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Everything as named arrays (weights float16), for ``np.savez``."""
        arrays = {"centre": self.scaling.centre, "scale": self.scaling.scale,
                  "desc_centre": self.scaling.desc_centre, "desc_scale": self.scaling.desc_scale}
        for k, net in enumerate(self.nets):
            for name in ("kernel", "recurrent", "bias", "head_w", "head_b"):
                arrays[f"{name}_{k}"] = getattr(net, name).astype(np.float16)
        return arrays

    @classmethod
    def from_arrays(cls, arrays) -> "SequenceModel":
        """Inverse of :meth:`to_arrays`."""
        count = sum(1 for key in arrays.files if key.startswith("kernel_"))
        nets = [GRUNet(*(arrays[f"{name}_{k}"].astype(np.float32)
                         for name in ("kernel", "recurrent", "bias", "head_w", "head_b"))) for k in range(count)]
        scaling = Scaling(*(arrays[key] for key in ("centre", "scale", "desc_centre", "desc_scale")))
        return cls(nets, scaling)


def step_of(cutoffs: np.ndarray) -> np.ndarray:
    """Index of the hourly step whose output uses the data up to each cut-off (h), shape (n,)."""
    return np.clip(np.ceil(np.asarray(cutoffs, float)).astype(int), 1, HOURS) - 1
