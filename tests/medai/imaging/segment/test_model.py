"""The Segmenter's passes (one view, or the mean over mirror images for models trained with flips) and its
refusals (a thumbnail kind check before any pass; a typicality refusal after the first)."""

import io

import keras
import numpy as np
import pytest
from PIL import Image

from medai import registry
from medai.imaging.io import read_image
from medai.imaging.ood import FeatureDistance
from medai.imaging.segment.kind import KindCheck, thumbnail
from medai.imaging.segment.model import MIRRORS, Segmentation, Segmenter, one_region
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


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def _photo(colour: tuple[int, int, int], seed: int, side: int = 128) -> np.ndarray:
    noise = np.random.default_rng(seed).integers(-30, 30, (side, side, 3))
    return np.clip(np.array(colour) + noise, 0, 255).astype(np.uint8)


def test_an_image_too_small_to_measure_is_refused_as_on_the_diagnose_page(network):
    """A 64-px film gave a cardiothoracic ratio to two decimals, one pixel being 1.6 % of its width."""
    model = segmenter(network, True)
    passes = []
    model.forward = lambda batch: passes.append(1) or Segmenter.forward(model, batch)
    small = model.predict_one(read_image(_png(_photo((200, 60, 50), 1, side=127)), keep_colour=True))
    assert small.status == "refused" and not passes
    assert small.message == ("This image is only 127x127 pixels, too small to outline structures in or measure; "
                             "upload one at least 128 pixels on its shorter side.")


def test_kind_check_refuses_before_the_network_runs(network):
    reddish = np.stack([thumbnail(_photo((200, 60, 50), seed)) for seed in range(20)])
    bluish = np.stack([thumbnail(_photo((50, 60, 200), seed)) for seed in range(20)])
    check = KindCheck().fit(reddish, bluish)
    model = segmenter(network, True)
    model.kind_check, model.typicality = check, FeatureDistance().fit(np.random.default_rng(0).random((50, 8)))
    passes = []
    model.forward = lambda batch: passes.append(1) or Segmenter.forward(model, batch)
    blue = model.predict_one(read_image(_png(_photo((50, 60, 200), 99)), keep_colour=True))
    assert blue.status == "refused" and "does not look like" in blue.message and not passes
    red = model.predict_one(read_image(_png(_photo((200, 60, 50), 99)), keep_colour=True))
    assert red.status == "ok" and len(passes) == len(MIRRORS)


def test_a_typicality_refusal_costs_one_pass_not_four(network):
    model = segmenter(network, True)
    model.typicality = FeatureDistance().fit(np.random.default_rng(0).random((50, 8)))
    model.typicality.limit_ = -1.0
    passes = []
    model.forward = lambda batch: passes.append(1) or Segmenter.forward(model, batch)
    outcome = model.predict_one(read_image(_png(_photo((200, 60, 50), 1)), keep_colour=True))
    assert outcome.status == "refused" and len(passes) == 1


def test_kind_check_survives_saving(tmp_path):
    rng = np.random.default_rng(2)
    check = KindCheck().fit(rng.random((30, 768)) + 0.2, rng.random((30, 768)))
    check.save(tmp_path / "kind.npz")
    again = KindCheck.load(tmp_path / "kind.npz")
    probe = rng.random((5, 768))
    np.testing.assert_allclose(again.probability(probe), check.probability(probe))
    assert thumbnail(np.zeros((300, 500, 3), np.uint8)).shape == (768,)


def _ring(size: int = 21) -> np.ndarray:
    """(size, size) probabilities: a solid square of 0.9 with a 3 x 3 hole of 0.1 in its middle."""
    probability = np.zeros((size, size), np.float32)
    probability[3:18, 3:18] = 0.9
    probability[9:12, 9:12] = 0.1
    return probability


def test_one_region_fills_holes_up_to_the_threshold_and_the_mask_keeps_them():
    cleaned = one_region(_ring(), 0.5)
    assert cleaned[10, 10] == pytest.approx(0.5) and cleaned[0, 0] == 0.0
    segmentation = Segmentation("ok", "", ("lung",), (0.5,), cleaned[..., None])
    mask = segmentation.mask("lung", (21, 21))
    assert mask[10, 10] and int(mask.sum()) == 15 * 15


def test_one_region_keeps_the_largest_region_not_the_first():
    probability = np.zeros((30, 30), np.float32)
    probability[1:3, 1:3] = 0.8       # a small island, labelled first
    probability[10:25, 10:25] = 0.9   # the organ
    cleaned = one_region(probability, 0.5)
    assert cleaned[2, 2] == 0.0 and cleaned[15, 15] == pytest.approx(0.9)


def test_a_film_without_its_left_lung_is_refused(samples, monkeypatch):
    model = registry.load("cxr-lungs")
    finish, left = model.finish, model.structures.index("left_lung")

    def without_left_lung(batch, probabilities):
        final = finish(batch, probabilities)
        final[..., left] = 0.0
        return final

    monkeypatch.setattr(model, "finish", without_left_lung)
    result = model.predict_one(read_image((samples / "cxr_normal_NORMAL2-IM-1436-0001.jpeg").read_bytes()))
    assert result.status == "refused" and "left lung" in result.message
