"""The MLP member of a drug model (Keras): multi-task, with a loss that ignores unmeasured labels."""

from __future__ import annotations

import keras
import numpy as np

HIDDEN = (256, 128)
STEPS = 3000
BATCH = 64


def masked_loss(kind: str):
    """Mean squared error or binary cross-entropy (on logits) over measured entries only.

    ``y`` packs targets and their mask side by side: shape (batch, 2 · n_tasks).
    """

    def loss(y, logits):
        tasks = keras.ops.shape(logits)[-1]
        target, mask = y[:, :tasks], y[:, tasks:]
        if kind == "regression":
            elementwise = keras.ops.square(target - logits)
        else:
            elementwise = (keras.ops.maximum(logits, 0.0) - logits * target
                           + keras.ops.log1p(keras.ops.exp(-keras.ops.abs(logits))))
        return keras.ops.sum(elementwise * mask) / keras.ops.maximum(keras.ops.sum(mask), 1.0)

    return loss


def build_network(inputs: int, tasks: int) -> keras.Model:
    """Dense 256-128 with ReLU and dropout; outputs (n, tasks) logits or standardised values."""
    x = entry = keras.Input((inputs,))
    x = keras.layers.Dropout(0.1)(x)
    for width, rate in zip(HIDDEN, (0.2, 0.3)):
        x = keras.layers.Dense(width, activation="relu", kernel_regularizer=keras.regularizers.l2(1e-5))(x)
        x = keras.layers.Dropout(rate)(x)
    return keras.Model(entry, keras.layers.Dense(tasks)(x))


def train_network(inputs: np.ndarray, targets: np.ndarray, kind: str, seed: int,
                  epochs: int | None = None) -> keras.Model:
    """Train one member.

    Parameters
    ----------
    inputs : ndarray of float32, shape (n, d)
        Scaled features (:class:`medai.drug.models.FeatureScaler`).
    targets : ndarray, shape (n, tasks)
        0/1 labels or standardised values; NaN where not measured.
    seed : int
        Seeds initialisation, dropout and batch order.
    epochs : int, optional
        Default: about 3,000 optimisation steps, between 20 and 150 epochs.

    Returns
    -------
    keras.Model
        An uncompiled copy with :func:`half_precision` weights.
    """
    keras.utils.set_random_seed(seed)
    if epochs is None:
        epochs = int(np.clip(STEPS * BATCH / len(inputs), 20, 150))
    mask = np.isfinite(targets).astype(np.float32)
    packed = np.concatenate([np.nan_to_num(targets).astype(np.float32), mask], axis=1)
    network = build_network(inputs.shape[1], targets.shape[1])
    schedule = keras.optimizers.schedules.CosineDecay(1e-3, decay_steps=epochs * int(np.ceil(len(inputs) / BATCH)))
    network.compile(keras.optimizers.AdamW(schedule, weight_decay=1e-4), masked_loss(kind))
    network.fit(inputs, packed, batch_size=BATCH, epochs=epochs, verbose=0, shuffle=True)
    shipped = build_network(inputs.shape[1], targets.shape[1])
    shipped.set_weights(half_precision(network.get_weights()))
    return shipped


def half_precision(weights: list[np.ndarray]) -> list[np.ndarray]:
    """Weights rounded through float16, as they are shipped (halves the files; every figure in the card
    is measured with these rounded weights)."""
    return [w.astype(np.float16).astype(np.float32) for w in weights]
