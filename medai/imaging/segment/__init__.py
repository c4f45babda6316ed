"""Segmentation: U-Net models that mark organs and lesions, their measurements and exports."""

from medai import registry

SEGMENTATION_TASK = "image-segmentation"


def segmentation_spec(model_name: str) -> registry.ModelSpec:
    """The registry spec of ``model_name``; :class:`medai.errors.MedAIError` naming the segmentation models
    when it is not one (imports no TensorFlow, so a command can check before loading anything)."""
    return registry.get_spec_of_task(model_name, SEGMENTATION_TASK, "a segmentation model")
