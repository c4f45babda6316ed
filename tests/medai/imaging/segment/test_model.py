"""The Segmenter's passes: one view, or the mean over mirror images for models trained with flips."""

import keras
import numpy as np
import pytest

from medai import registry
from medai.imaging.ood import FeatureDistance
from medai.imaging.segment.model import MIRRORS, Segmenter
from medai.imaging.segment.unet import build_unet


@pytest.fixture(scope="module")
def network():
    keras.utils.set_random_seed(3)
    return build_unet(channels=3, structures=2, widths=(4, 8))


def segmenter(network, flip_average: bool) -> Segmenter:
    return Segmenter(network, ("a", "b"), (0.5, 0.5), 3, {"square": 32}, FeatureDistance(),
                     flip_average=flip_average)


def test_flip_average_is_the_mean_of_the_mirrored_passes_mapped_back(network):
    batch = np.random.default_rng(0).random((1, 32, 48, 3), dtype=np.float32)
    single, single_features = segmenter(network, False).run(batch)
    averaged, features = segmenter(network, True).run(batch)
    expected = np.mean([flip(segmenter(network, False).run(np.ascontiguousarray(flip(batch[0]))[None])[0])
                        for flip in MIRRORS], axis=0)
    assert averaged.shape == single.shape == (32, 48, 2)
    np.testing.assert_allclose(averaged, expected, atol=1e-6)
    assert not np.allclose(averaged, single, atol=1e-4)  # an untrained network is not mirror-symmetric
    np.testing.assert_array_equal(features, single_features)  # the refusal reads the unmirrored image


def test_a_mirror_symmetric_image_gets_a_mirror_symmetric_answer(network):
    half = np.random.default_rng(1).random((16, 24, 3), dtype=np.float32)
    top = np.concatenate([half, half[:, ::-1]], axis=1)
    symmetric = np.concatenate([top, top[::-1]], axis=0)[None]
    averaged, _ = segmenter(network, True).run(symmetric)
    np.testing.assert_allclose(averaged, averaged[:, ::-1], atol=1e-5)
    np.testing.assert_allclose(averaged, averaged[::-1], atol=1e-5)


@pytest.mark.parametrize(("name", "expected"), [("colon-polyp", True), ("retina-vessels", True), ("cxr-lungs", False)])
def test_shipped_models_average_mirror_images_only_where_trained_with_flips(name, expected):
    if name not in registry.names():
        pytest.skip(f"{name} is not installed")
    assert registry.load(name).flip_average is expected
