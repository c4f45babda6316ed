"""Batch normalisation folded into the convolutions: the same function, for untrained and shipped members;
a ``.keras`` file's arrays read without rebuilding the network."""

import keras
import numpy as np
import pytest

from medai import registry
from medai.imaging.network import (CAM_LAYER, FEATURE_LAYER, build_classifier, fold_batch_norm, read_weights,
                                   weights_of)


def _images(count: int = 4, size: int = 64) -> np.ndarray:
    return np.random.default_rng(0).random((count, size, size, 1), dtype=np.float32)


def _shipped_member(index: int) -> tuple[str, keras.Model]:
    spec = registry.get_spec("cxr-pneumonia")
    path = spec.path(spec.parameters["members"][index])
    return path, keras.saving.load_model(path, compile=False)


def test_folding_keeps_the_function_and_drops_every_batch_norm():
    model = build_classifier(64, (8, 16, 24, 32))
    rng = np.random.default_rng(1)
    for layer in model.layers:  # statistics far from the initial ones, so a wrong fold shows
        if isinstance(layer, keras.layers.BatchNormalization):
            channels = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 2, channels), rng.normal(0, 1, channels),
                               rng.normal(0, 1, channels), rng.uniform(0.1, 3, channels)])
    folded = fold_batch_norm(weights_of(model))
    images = _images()
    np.testing.assert_allclose(folded(images).numpy(), model(images, training=False).numpy(), rtol=1e-4, atol=1e-4)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in folded.layers)
    for name in (CAM_LAYER, FEATURE_LAYER):
        inner = keras.Model(model.input, model.get_layer(name).output)(images, training=False)
        np.testing.assert_allclose(keras.Model(folded.input, folded.get_layer(name).output)(images).numpy(),
                                   inner.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("member", range(5))
def test_shipped_arrays_read_from_the_file_are_keras_own(member):
    path, trained = _shipped_member(member)
    read = read_weights(path)
    assert read.input_shape == tuple(trained.input_shape[1:])
    assert read.arrays.keys() == {layer.name for layer in trained.layers}
    for layer in trained.layers:
        stored = read.arrays[layer.name]
        assert len(stored) == len(layer.weights)
        for array, weight in zip(stored, layer.weights):
            np.testing.assert_array_equal(array, weight.numpy())
    assert read.epsilon == weights_of(trained).epsilon


@pytest.mark.parametrize("member", [0, 4])
def test_shipped_members_give_the_same_logits_folded(member):
    path, trained = _shipped_member(member)
    images = _images(8, int(trained.input_shape[1]))
    np.testing.assert_allclose(fold_batch_norm(read_weights(path))(images).numpy(),
                               trained(images, training=False).numpy(), atol=1e-4)
