"""Build a :class:`ChestXrayClassifier` from a registry spec."""

from __future__ import annotations

import keras

from medai.calibration import PlattCalibrator
from medai.imaging import network  # noqa: F401  registers PerImageStandardization for deserialisation
from medai.imaging.classify import ChestXrayClassifier
from medai.imaging.ood import RefusalModel
from medai.registry import ModelSpec


def load_chest_xray_classifier(spec: ModelSpec) -> ChestXrayClassifier:
    """Load the members, calibration, threshold and refusal model named in ``spec``."""
    parameters = spec.parameters
    members = [keras.saving.load_model(spec.path(name), compile=False) for name in parameters["members"]]
    calibration = parameters["calibration"]
    return ChestXrayClassifier(
        members,
        PlattCalibrator(calibration["slope"], calibration["intercept"]),
        float(parameters["threshold"]),
        RefusalModel.load(spec.directory, parameters["refusal"]),
        tuple(spec.labels),  # type: ignore[arg-type]
    )
