"""The message-passing member of a drug model (Keras on TensorFlow): a directed-bond MPNN, trained here.

It reads the molecular graph alone (:mod:`medai.drug.graphs`), no fingerprints or descriptors, so its
errors differ from the other members' and the average gains more than its own score suggests (given
RDKit descriptors too, it leaned on them and added less). Screening runs the trained weights in NumPy
(:class:`medai.drug.graphs.GraphNetwork`).
"""

from __future__ import annotations

from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from medai.drug.graphs import ATOM_FEATURES, BOND_FEATURES, GraphBatch, GraphNetwork, MolGraph, batch_graphs
from medai.drug.network import half_precision, masked_loss

HIDDEN = 256
DEPTH = 3
BATCH = 50
STEPS = 4000
EPOCH_RANGE = (40, 80)
DROPOUT = 0.1


class DirectedMPNN(keras.Model):
    """D-MPNN: bond states from atom and bond features, ``depth - 1`` message steps, atom states, mean
    over atoms, one hidden layer, linear outputs (n_molecules, tasks)."""

    def __init__(self, tasks: int, hidden: int = HIDDEN, depth: int = DEPTH, dropout: float = DROPOUT):
        super().__init__()
        self.depth = depth
        self.input_layer = keras.layers.Dense(hidden, use_bias=False)
        self.message_layer = keras.layers.Dense(hidden, use_bias=False)
        self.atom_layer = keras.layers.Dense(hidden)
        self.hidden_layer = keras.layers.Dense(hidden, activation="relu")
        self.output_layer = keras.layers.Dense(tasks)
        self.dropout = keras.layers.Dropout(dropout)

    def call(self, atoms, source, target, reverse, bonds, molecule, molecules, training=False):
        """Outputs (molecules, tasks) for a :class:`GraphBatch`'s arrays, in its field order (:func:`as_tensors`)."""
        n_atoms = tf.shape(atoms)[0]
        initial = self.input_layer(tf.concat([tf.gather(atoms, source), bonds], axis=1))
        hidden = tf.nn.relu(initial)
        for _ in range(self.depth - 1):
            incoming = tf.math.unsorted_segment_sum(hidden, target, n_atoms)
            hidden = tf.nn.relu(initial + self.message_layer(tf.gather(incoming, source) - tf.gather(hidden, reverse)))
        incoming = tf.math.unsorted_segment_sum(hidden, target, n_atoms)
        atom_states = tf.nn.relu(self.atom_layer(tf.concat([atoms, incoming], axis=1)))
        pooled = tf.math.unsorted_segment_mean(atom_states, molecule, molecules)
        return self.output_layer(self.dropout(self.hidden_layer(self.dropout(pooled, training=training)),
                                              training=training))

    def ordered_weights(self) -> list[np.ndarray]:
        """Input kernel, message kernel, atom kernel and bias, hidden kernel and bias, output kernel
        and bias: the order :class:`GraphNetwork` reads."""
        return [np.asarray(w) for w in (self.input_layer.kernel, self.message_layer.kernel, self.atom_layer.kernel,
                                        self.atom_layer.bias, self.hidden_layer.kernel, self.hidden_layer.bias,
                                        self.output_layer.kernel, self.output_layer.bias)]


_GRAPH_SIGNATURE = [tf.TensorSpec([None, ATOM_FEATURES]), tf.TensorSpec([None], tf.int32),
                    tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.int32),
                    tf.TensorSpec([None, BOND_FEATURES]), tf.TensorSpec([None], tf.int32),
                    tf.TensorSpec([], tf.int32)]


def as_tensors(batch: GraphBatch) -> tuple[tf.Tensor, ...]:
    """The batch as :class:`DirectedMPNN`'s positional inputs (Keras takes only tensors there)."""
    return tuple(tf.convert_to_tensor(part) for part in (batch.atoms, batch.source, batch.target, batch.reverse,
                                                          batch.bonds, batch.molecule, np.int32(batch.molecules)))


def train_graph_network(graphs: Sequence[MolGraph], targets: np.ndarray, kind: str, seed: int,
                        epochs: int | None = None) -> GraphNetwork:
    """Train one member.

    Parameters
    ----------
    graphs : sequence of MolGraph, length n
    targets : ndarray, shape (n, tasks)
        0/1 labels or standardised values; NaN where not measured.
    kind : str
        ``"regression"`` or ``"classification"``.
    seed : int
        Seeds initialisation, dropout and batch order.
    epochs : int, optional
        Default: about 4,000 steps of 50 molecules, between 40 and 80 epochs.

    Returns
    -------
    GraphNetwork
        The NumPy forward pass with weights rounded through float16, as they are shipped.
    """
    keras.utils.set_random_seed(seed)
    n, tasks = targets.shape
    if epochs is None:
        epochs = int(np.clip(STEPS * BATCH / n, *EPOCH_RANGE))
    mask = np.isfinite(targets).astype(np.float32)
    packed = np.concatenate([np.nan_to_num(targets).astype(np.float32), mask], axis=1)
    network = DirectedMPNN(tasks)
    steps_per_epoch = int(np.ceil(n / BATCH))
    # Warm up for 2 epochs to 1e-3, then cosine to 1e-4 (chemprop's schedule has the same ends).
    schedule = keras.optimizers.schedules.CosineDecay(1e-4, epochs * steps_per_epoch, alpha=0.1,
                                                      warmup_target=1e-3, warmup_steps=2 * steps_per_epoch)
    optimizer = keras.optimizers.Adam(schedule)
    loss_of = masked_loss(kind)

    @tf.function(input_signature=[*_GRAPH_SIGNATURE, tf.TensorSpec([None, 2 * tasks])])
    def step(atoms, source, target, reverse, bonds, molecule, molecules, labels):
        with tf.GradientTape() as tape:
            loss = loss_of(labels, network(atoms, source, target, reverse, bonds, molecule, molecules, training=True))
        gradients = tape.gradient(loss, network.trainable_variables)
        optimizer.apply_gradients(zip(gradients, network.trainable_variables))
        return loss

    order_rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = order_rng.permutation(n)
        for start in range(0, n, BATCH):
            rows = order[start:start + BATCH]
            step(*as_tensors(batch_graphs([graphs[i] for i in rows])), packed[rows])
    return GraphNetwork(half_precision(network.ordered_weights()), network.depth)
