"""Fit the GRU part of ``icu-mortality`` (called by :mod:`medai.timeline.train_mortality`).

Each member is one Keras GRU over the hourly grid of :mod:`medai.timeline.sequence`, trained with the
stay's outcome as the label at every hour from the 6th on (weighted towards the end, the 48th hour
three times), so the per-hour outputs are the risk curve. The epoch is chosen per member on 15 % of
the training stays held back from its fit (never on validation).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from medai.timeline.io import Stay
from medai.timeline.sequence import HOURS, GRUNet, Scaling, SequenceModel, channels, input_tensor

FIRST_LABELLED_HOUR = 6


def hour_weights() -> np.ndarray:
    """Loss weight of each hour's output, shape (HOURS,): 0 before hour 6, rising 0.2 → 1, the last 3."""
    weights = np.linspace(0.2, 1.0, HOURS).astype(np.float32)
    weights[:FIRST_LABELLED_HOUR - 1] = 0.0
    weights[-1] = 3.0
    return weights / weights.mean()


def _network(units: int, input_dropout: float):
    import keras

    entry = keras.Input((HOURS, channels()))
    h = keras.layers.Dropout(input_dropout)(entry)
    h = keras.layers.GRU(units, return_sequences=True, kernel_regularizer=keras.regularizers.l2(1e-4))(h)
    h = keras.layers.Dropout(0.3)(h)
    return keras.Model(entry, keras.layers.Dense(1)(h))


def _hourly_loss(weights: np.ndarray):
    import keras

    def loss(truth, logits):  # truth (n,) or (n, 1): the stay's outcome, repeated at every hour
        truth = keras.ops.broadcast_to(keras.ops.reshape(truth, (-1, 1)), keras.ops.shape(logits)[:2])
        return keras.ops.mean(keras.ops.binary_crossentropy(truth, logits[..., 0], from_logits=True) * weights)

    return loss


def fit_sequence_model(stays: list[Stay], death: np.ndarray, train_idx: np.ndarray, *, seeds: list[int],
                       scaling: Scaling, epochs: int, units: int, input_dropout: float, learning_rate: float,
                       log: Callable[[str], None]) -> tuple[SequenceModel, list[int]]:
    """Train one GRU per seed on the training stays, inputs scaled by ``scaling``.

    Returns
    -------
    (SequenceModel, chosen epoch of each member)
    """
    import keras

    fit_idx, stop_idx = train_test_split(train_idx, test_size=0.15, stratify=death[train_idx], random_state=1)
    x_fit, x_stop = input_tensor([stays[i] for i in fit_idx], scaling), input_tensor([stays[i] for i in stop_idx], scaling)
    y_fit, y_stop = death[fit_idx].astype(np.float32), death[stop_idx]
    nets, chosen = [], []
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        network = _network(units, input_dropout)
        network.compile(keras.optimizers.Adam(learning_rate), _hourly_loss(hour_weights()))
        best, best_weights, best_epoch = -1.0, None, 0
        for epoch in range(1, epochs + 1):
            network.fit(x_fit, y_fit, batch_size=64, epochs=1, verbose=0, shuffle=True)
            score = roc_auc_score(y_stop, network.predict(x_stop, batch_size=1024, verbose=0)[:, -1, 0])
            if score > best:
                best, best_weights, best_epoch = score, network.get_weights(), epoch
        network.set_weights(best_weights)
        kernel, recurrent, bias, head_w, head_b = (w.astype(np.float16).astype(np.float32) for w in best_weights)
        net = GRUNet(kernel, recurrent, bias, head_w, head_b)
        check = network.predict(x_stop[:32], verbose=0)[:, :, 0]
        assert np.allclose(check, net.hourly_logits(x_stop[:32]), atol=0.05), "NumPy GRU differs from Keras"
        nets.append(net)
        chosen.append(best_epoch)
        log(f"GRU member {seed}: epoch {best_epoch}, inner ROC-AUC {best:.4f}")
    return SequenceModel(nets, scaling), chosen
