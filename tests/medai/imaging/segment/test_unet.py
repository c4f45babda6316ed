"""The segmentation loss learns from annotated structures only."""

import numpy as np
import pytest

from medai.imaging.segment.unet import dice_bce_loss


def _loss(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(dice_bce_loss(y_true.astype(np.float32), y_pred.astype(np.float32)))


def test_an_unannotated_structure_adds_neither_cross_entropy_nor_dice_loss():
    rng = np.random.default_rng(0)
    truth = (rng.uniform(size=(2, 8, 8, 1)) > 0.5).astype(np.float32)
    pred = rng.uniform(0.05, 0.95, (2, 8, 8, 1))
    alone = _loss(np.concatenate([truth, np.ones_like(truth)], -1), pred)  # masks, then annotation weights
    for other in (0.02, 0.98):  # whatever is predicted for an unannotated structure teaches nothing
        y_true = np.concatenate([truth, np.zeros_like(truth), np.ones_like(truth), np.zeros_like(truth)], -1)
        y_pred = np.concatenate([pred, np.full_like(pred, other)], -1)
        assert _loss(y_true, y_pred) == pytest.approx(alone, rel=1e-5)
