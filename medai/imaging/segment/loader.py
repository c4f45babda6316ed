"""Build a :class:`Segmenter` from a registry spec (named by each segmentation model's ``spec.json``)."""

from __future__ import annotations

import keras

from medai.imaging.network import PerImageStandardization  # noqa: F401  registers the layer for loading
from medai.imaging.ood import FeatureDistance
from medai.imaging.segment.kind import KindCheck
from medai.imaging.segment.model import Segmenter
from medai.registry import ModelSpec


def load_segmenter(spec: ModelSpec) -> Segmenter:
    """Load the U-Net, thresholds and refusal limit named in ``spec``."""
    parameters = spec.parameters
    network = keras.saving.load_model(spec.path(parameters["weights"]), compile=False)
    kind_check = KindCheck.load(spec.path(parameters["kind_check"])) if parameters.get("kind_check") else None
    return Segmenter(network, spec.labels, tuple(parameters["thresholds"]), int(spec.input["channels"]),
                     spec.input["working_size"], FeatureDistance.load(spec.path(parameters["typicality"])),
                     tuple(parameters.get("required", ())), spec.input["kind"],
                     tuple(parameters.get("single_region", ())), bool(parameters.get("flip_average", False)),
                     kind_check)
