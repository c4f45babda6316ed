"""Build a :class:`ChestXrayClassifier` from a registry spec."""

from __future__ import annotations

from medai.calibration import PlattCalibrator
from medai.imaging.classify import ChestXrayClassifier
from medai.imaging.network import fold_batch_norm, read_weights
from medai.imaging.ood import RefusalModel
from medai.registry import ModelSpec


def load_chest_xray_classifier(spec: ModelSpec) -> ChestXrayClassifier:
    """Load the members (batch normalisation folded in, for speed), calibration, threshold and refusal
    model named in ``spec``."""
    parameters = spec.parameters
    members = [fold_batch_norm(read_weights(spec.path(name))) for name in parameters["members"]]
    calibration = parameters["calibration"]
    return ChestXrayClassifier(
        members,
        PlattCalibrator(calibration["slope"], calibration["intercept"]),
        float(parameters["threshold"]),
        RefusalModel.load(spec.directory, parameters["refusal"]),
        tuple(spec.labels),  # type: ignore[arg-type]
    )
