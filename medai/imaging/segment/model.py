"""Run a segmentation model on decoded images: :class:`Segmenter` in, :class:`Segmentation` out.

Probabilities are kept at the network's working resolution; masks at any size (the original image's,
or a display copy's) are made from them on demand, so a 40-megapixel upload never costs a
full-resolution float map per structure.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
from PIL import Image
from scipy import ndimage

from medai.imaging.io import MedicalImage
from medai.imaging.ood import MAX_COLORFULNESS, MIN_READABLE_SIDE_PX, FeatureDistance
from medai.imaging.segment.kind import KindCheck
from medai.imaging.segment.unet import BOTTLENECK_LAYER

MIN_COLOUR_FOR_PHOTOGRAPHS = 2.0
# Each its own inverse, on (h, w, ...) arrays: none, left-right, up-down, both.
MIRRORS = (lambda a: a, lambda a: a[:, ::-1], lambda a: a[::-1], lambda a: a[::-1, ::-1])


@dataclass(frozen=True)
class Segmentation:
    """One image's segmentation.

    Attributes
    ----------
    status : str
        ``"ok"`` or ``"refused"`` (the image is not the kind the model knows; no masks).
    message : str
        A sentence for the user.
    structures : tuple of str
        Structure names, in channel order.
    thresholds : tuple of float
        Operating threshold per structure, chosen on validation.
    probabilities : np.ndarray or None
        (h, w, S) float32 in [0, 1] at the working resolution, covering the whole image.
    typicality : float
        Distance of the image's network features from the training images' (larger = stranger).
    """

    status: str
    message: str
    structures: tuple[str, ...]
    thresholds: tuple[float, ...]
    probabilities: np.ndarray | None = None
    typicality: float = 0.0

    def mask(self, structure: str, shape: tuple[int, int], threshold: float | None = None) -> np.ndarray:
        """(H, W) bool mask of ``structure`` at ``shape`` (height, width), at ``threshold`` or the validated one."""
        index = self.structures.index(structure)
        if self.probabilities is None:
            return np.zeros(shape, bool)
        cut = self.thresholds[index] if threshold is None else threshold
        return probability_at(self.probabilities[..., index], shape) >= cut

    def masks(self, shape: tuple[int, int], thresholds: dict[str, float] | None = None) -> dict[str, np.ndarray]:
        """Every structure's (H, W) bool mask at ``shape``; ``thresholds`` overrides some structures'."""
        chosen = thresholds or {}
        return {name: self.mask(name, shape, chosen.get(name)) for name in self.structures}


def colour_pixels(image: MedicalImage) -> np.ndarray:
    """(H, W, 3) uint8: the image's colour pixels, or its grey pixels repeated in three channels."""
    if image.rgb is not None:
        return image.rgb
    return np.asarray(Image.fromarray((image.pixels * 255).astype(np.uint8)).convert("RGB"))


def probability_at(probability: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """(h, w) probabilities resized (bilinear) to ``shape`` = (height, width)."""
    if probability.shape == tuple(shape):
        return probability
    resized = Image.fromarray(probability.astype(np.float32), mode="F").resize((shape[1], shape[0]), Image.BILINEAR)
    return np.asarray(resized)


def one_region(probability: np.ndarray, threshold: float) -> np.ndarray:
    """(h, w) probabilities with every region above ``threshold`` but the largest suppressed, holes filled.

    Stray islands (a blob in the other lung, a bright marker) are set to 0; holes inside the kept
    region are raised to ``threshold`` so they count as inside at the validated threshold.
    """
    inside = probability >= threshold
    regions, count = ndimage.label(inside)
    if count == 0:
        return probability
    largest = regions == 1 + int(np.argmax(ndimage.sum_labels(inside, regions, range(1, count + 1))))
    cleaned = np.where(inside & ~largest, 0.0, probability)
    holes = ndimage.binary_fill_holes(largest) & ~largest
    return np.where(holes, np.maximum(cleaned, threshold), cleaned).astype(np.float32)


class Segmenter:
    """A trained U-Net with its thresholds and its refusal rules.

    Parameters
    ----------
    network : keras.Model
        (B, H, W, C) pixels in [0, 1] -> (B, H, W, S) probabilities.
    structures, thresholds : tuple
        Output names and their operating thresholds.
    channels : int
        1 (grey: X-rays) or 3 (colour photographs).
    working_size : dict
        ``{"square": n}`` (squash to n x n) or ``{"long_side": n}`` (keep the aspect, long side n).
    typicality : FeatureDistance
        Fitted on the training images' bottleneck features; beyond its limit the image is refused.
    required : tuple of str
        Structures that every valid image shows (both lungs on a chest X-ray); none found = refused.
    single_region : tuple of str
        Organs that are one solid region (a lung, the mediastinum): only their largest region above
        the threshold is kept, with its holes filled.
    kind : str
        What the model reads, for messages ("a frontal chest X-ray").
    flip_average : bool
        Average the probabilities over the image and its three mirror images (for models trained with
        flips: a polyp or a vessel has no handedness; a chest X-ray's left and right differ).
    kind_check : KindCheck or None
        For a model whose features cannot tell its kind of image from some other kind (a fundus
        photograph from a colonoscopy frame, a grey colonoscopy frame from a chest film): an image it
        does not accept is refused before the network runs.
    """

    def __init__(self, network: keras.Model, structures: tuple[str, ...], thresholds: tuple[float, ...],
                 channels: int, working_size: dict[str, int], typicality: FeatureDistance,
                 required: tuple[str, ...] = (), kind: str = "an image of the kind the model was trained on",
                 single_region: tuple[str, ...] = (), flip_average: bool = False,
                 kind_check: KindCheck | None = None):
        self.network, self.flip_average, self.kind_check = network, flip_average, kind_check
        self.structures, self.thresholds = tuple(structures), tuple(float(t) for t in thresholds)
        self.channels, self.working_size = channels, dict(working_size)
        self.typicality, self.required, self.kind = typicality, tuple(required), kind
        self.single_region = tuple(single_region)
        bottleneck = network.get_layer(f"{BOTTLENECK_LAYER}_relu2").output
        self._with_features = keras.Model(network.input, [network.output, keras.ops.mean(bottleneck, axis=(1, 2))])

    def forward(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One network pass: (1, h, w, C) pixels -> ((h, w, S) raw probabilities, (D,) mean bottleneck features)."""
        probabilities, features = self._with_features(batch, training=False)
        return np.array(probabilities[0], dtype=np.float32), np.asarray(features, dtype=np.float64)[0]

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(1, h, w, C) pixels -> ((h, w, S) probabilities, (D,) mean bottleneck features), organs cleaned."""
        probabilities, features = self.forward(batch)
        return self.finish(batch, probabilities), features

    def finish(self, batch: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
        """The first pass's (h, w, S) ``probabilities`` of ``batch`` made final: averaged, organs cleaned.

        With ``flip_average`` they become the mean of four passes (the image mirrored by each of
        ``MIRRORS``, the output mirrored back); the features stay the unmirrored image's, which the
        refusal limit was fitted on. The passes run one by one, to bound memory on large images.
        """
        probabilities = probabilities.copy()
        if self.flip_average:
            for flip in MIRRORS[1:]:
                probabilities += flip(self.forward(np.ascontiguousarray(flip(batch[0]))[None])[0])
            probabilities /= len(MIRRORS)
        for name in self.single_region:
            index = self.structures.index(name)
            probabilities[..., index] = one_region(probabilities[..., index], self.thresholds[index])
        return probabilities

    def network_input(self, image: MedicalImage) -> np.ndarray:
        """(h, w, C) float32 in [0, 1] at the working size, h and w divisible by 16."""
        if self.channels == 3:
            source = Image.fromarray(colour_pixels(image))
        else:
            source = Image.fromarray(image.pixels.astype(np.float32), mode="F")
        source = source.resize(self.working_shape(image.shape)[::-1], Image.BICUBIC)
        array = np.asarray(source, dtype=np.float32)
        array = array / 255.0 if self.channels == 3 else np.clip(array, 0.0, 1.0)
        return array.reshape(*array.shape[:2], self.channels)

    def working_shape(self, shape: tuple[int, int]) -> tuple[int, int]:
        """(h, w) the network sees for an image of ``shape`` (height, width)."""
        if "square" in self.working_size:
            side = self.working_size["square"]
            return side, side
        scale = self.working_size["long_side"] / max(shape)
        return tuple(max(16, int(round(side * scale / 16)) * 16) for side in shape)  # type: ignore[return-value]

    def rule_refusal(self, image: MedicalImage) -> str | None:
        """A plain reason to refuse by the image's size or colour, or None."""
        height, width = image.full_shape
        if min(height, width) < MIN_READABLE_SIDE_PX:  # as Diagnose: one pixel would be ~1 % of a measure
            return (f"This image is only {width}x{height} pixels, too small to outline structures in or measure; "
                    f"upload one at least {MIN_READABLE_SIDE_PX} pixels on its shorter side.")
        if self.channels == 1 and image.colorfulness > MAX_COLORFULNESS:
            return (f"This is a colour photograph, but this model reads {self.kind} (grey-scale), so it was not "
                    "segmented.")  # the page and CLI name a model that reads it, when one does
        if self.channels == 3 and image.format != "dicom" and image.colorfulness < MIN_COLOUR_FOR_PHOTOGRAPHS:
            return (f"This image is grey-scale, but this model reads {self.kind} with its colours (a red-free or "
                    "grey copy lacks what it learned from), so it was not segmented.")
        return None

    def predict_one(self, image: MedicalImage) -> Segmentation:
        """Segment one image (each image has its own working shape when the aspect is kept)."""
        if reason := self.rule_refusal(image):
            return Segmentation("refused", reason, self.structures, self.thresholds)
        unlike = f"This image does not look like {self.kind}, so it was not segmented."
        if self.kind_check is not None and not self.kind_check.accepts(colour_pixels(image)):
            return Segmentation("refused", unlike, self.structures, self.thresholds)
        batch = self.network_input(image)[None]
        probabilities, features = self.forward(batch)
        distance = float(self.typicality.distance(features[None])[0])
        if distance > self.typicality.limit_:  # before the other passes: a refusal costs one
            return Segmentation("refused", unlike, self.structures, self.thresholds, None, distance)
        probabilities = self.finish(batch, probabilities)
        for name in self.required:
            index = self.structures.index(name)
            if not (probabilities[..., index] >= self.thresholds[index]).any():
                return Segmentation("refused", f"No {name.replace('_', ' ')} was found; is this {self.kind}?",
                                    self.structures, self.thresholds, None, distance)
        return Segmentation("ok", "Segmented.", self.structures, self.thresholds,
                            probabilities.astype(np.float32), distance)

    def predict(self, images: list[MedicalImage]) -> list[Segmentation]:
        """One :class:`Segmentation` per image, in order."""
        return [self.predict_one(image) for image in images]
