"""A model reads the descriptors it was trained on, even after the descriptor block has grown."""

import numpy as np

from medai.drug.featurize import MORGAN_BITS
from medai.drug.models import FeatureScaler


def test_scaler_reads_only_the_descriptors_it_was_fitted_on():
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 4, size=(20, MORGAN_BITS)).astype(np.float32)
    older = np.concatenate([counts, rng.normal(size=(20, 5)).astype(np.float32)], axis=1)
    grown = np.concatenate([older, rng.normal(size=(20, 3)).astype(np.float32)], axis=1)
    scaler = FeatureScaler().fit(older)
    assert scaler.transform(grown).shape == (20, 1024 + 5)
    assert np.array_equal(scaler.transform(grown), scaler.transform(older))
