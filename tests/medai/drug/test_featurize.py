"""Features have a fixed shape; nearest-neighbour similarity is Tanimoto."""

import numpy as np
import pytest

from medai.drug.featurize import descriptor_names, nearest_similarity, packed_bits, tanimoto, to_features, to_fp
from medai.drug.standardize import to_mol


def test_feature_vector_shape_and_finite():
    features = to_features(to_mol("CC(=O)Oc1ccccc1C(=O)O"))
    assert features.shape == (2048 + len(descriptor_names()),)
    assert np.isfinite(features).all()


def test_nearest_similarity_equals_rdkit_tanimoto():
    mols = [to_mol(s) for s in ("CCO", "CCCO", "c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O")]
    bits = packed_bits(np.stack([to_fp(m) for m in mols]))
    best = nearest_similarity(bits[:1], bits[1:])
    expected = max(tanimoto(mols[0], m) for m in mols[1:])
    assert best[0] == pytest.approx(expected, abs=1e-6)
    assert nearest_similarity(bits[3:4], bits[3:4])[0] == pytest.approx(1.0)


def test_numpy_member_equals_its_keras_network():
    from medai.drug.models import DenseNetwork
    from medai.drug.network import build_network

    network = build_network(12, 3)
    inputs = np.random.default_rng(0).normal(size=(5, 12)).astype(np.float32)
    expected = np.asarray(network(inputs, training=False))
    assert np.allclose(DenseNetwork(network.get_weights())(inputs), expected, atol=1e-5)
