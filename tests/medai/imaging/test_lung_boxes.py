"""Lung boxes for training: the box around both lungs, and the whole image when segmentation fails."""

from types import SimpleNamespace

import numpy as np

from medai.imaging.io import MedicalImage
from medai.imaging.lung_boxes import WHOLE_IMAGE, lung_box
from medai.imaging.segment.model import Segmentation

STRUCTURES = ("right_lung", "left_lung")


def _segmenter(probabilities: np.ndarray | None, status: str = "ok"):
    answer = Segmentation(status, "", STRUCTURES, (0.5, 0.5), probabilities)
    return SimpleNamespace(predict_one=lambda image: answer)


def test_box_spans_both_lungs_as_fractions_of_the_image():
    probabilities = np.zeros((100, 100, 2), np.float32)
    probabilities[20:80, 10:45, 0] = 1.0
    probabilities[25:90, 55:92, 1] = 1.0
    image = MedicalImage(np.zeros((100, 100), np.float32), "jpeg", "")
    assert np.allclose(lung_box(image, _segmenter(probabilities)), [0.20, 0.10, 0.90, 0.92])


def test_refused_or_empty_segmentation_gives_the_whole_image():
    image = MedicalImage(np.zeros((100, 100), np.float32), "jpeg", "")
    assert np.array_equal(lung_box(image, _segmenter(None, "refused")), WHOLE_IMAGE)
    assert np.array_equal(lung_box(image, _segmenter(np.zeros((100, 100, 2), np.float32))), WHOLE_IMAGE)
