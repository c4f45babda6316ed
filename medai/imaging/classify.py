"""The chest X-ray classifier at inference time: ensemble, calibration, threshold, refusal, Grad-CAM.

``ChestXrayClassifier.predict`` is the one place an image becomes a :class:`Diagnosis`; the page,
the CLI and Python callers all go through it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from medai.calibration import PlattCalibrator
from medai.imaging.explain import ensemble_cams, grad_cam_models, per_image
from medai.imaging.graphs import GraphWhenReady
from medai.imaging.io import MedicalImage
from medai.imaging.network import FEATURE_LAYER
from medai.imaging.notes import OUT_OF_POPULATION_MESSAGE, percent, percent_number
from medai.imaging.ood import REFUSAL_MESSAGE, RefusalModel, refusal_rule
from medai.imaging.preprocess import TRAINING_COPY_SIZE, batch, squash

BATCH_LIMIT = 64
SQUASH_THREADS = 2  # Pillow releases the GIL while it resizes, so films are squashed side by side


@dataclass(frozen=True)
class Diagnosis:
    """The model's answer for one image.

    Attributes
    ----------
    status : str
        ``"ok"`` or ``"refused"``.
    labels : tuple of str
        Class names, e.g. ``("normal", "pneumonia")``.
    probabilities : np.ndarray or None
        (n_labels,) calibrated probabilities summing to 1; ``None`` when refused.
    label : str or None
        Decision at the model's operating threshold; ``None`` when refused.
    uncertainty : float or None
        Standard deviation of the positive-class probability across ensemble members (0 to 0.5).
    threshold : float
        Operating threshold on the positive-class probability.
    heatmap : np.ndarray or None
        (h, w) Grad-CAM in [0, 1] on the network's feature grid; upsample with
        :func:`medai.imaging.explain.heatmap_at`. ``None`` unless asked for, or when refused.
    message : str
        A sentence for the user (the refusal reason, or a summary); when ``out_of_population`` it
        also holds a sentence starting "Outside the validated population:".
    out_of_population : bool
        A chest X-ray unlike the paediatric training films (e.g. an adult's): diagnosed, but flagged.
    heatmap_peak : float or None
        The raw Grad-CAM maximum before per-image rescaling, so that maps can be drawn on one shared
        scale (:func:`medai.imaging.explain.fixed_scale`); ``None`` without a heat map.
    member_probabilities : tuple of float or None
        Each ensemble member's calibrated positive-class probability: their range and how many are at
        or above the threshold say the spread without the "p ± SD" that reads as a range below 0.
    """

    status: str
    labels: tuple[str, ...]
    probabilities: np.ndarray | None
    label: str | None
    uncertainty: float | None
    threshold: float
    heatmap: np.ndarray | None
    message: str
    out_of_population: bool = False
    heatmap_peak: float | None = None
    member_probabilities: tuple[float, ...] | None = None

    @property
    def positive_probability(self) -> float | None:
        """Calibrated probability of the last (positive) label."""
        return None if self.probabilities is None else float(self.probabilities[-1])


class ChestXrayClassifier:
    """Calibrated ensemble classifier of frontal chest X-rays.

    Parameters
    ----------
    members : list of keras.Model
        Each maps (N, S, S, 1) images in [0, 1] to (N, 1) logits.
    calibrator : PlattCalibrator
        Maps a logit to the positive-class probability.
    threshold : float
        Positive when the calibrated probability is at least this.
    refusal : RefusalModel
        Decides "not a chest X-ray" (refuse) and "outside the validated population" (flag), on the
        pooled features of the first member and the squashed pixels.
    labels : tuple of str
        (negative, positive) class names.
    """

    def __init__(self, members: list[keras.Model], calibrator: PlattCalibrator, threshold: float,
                 refusal: RefusalModel, labels: tuple[str, str] = ("normal", "pneumonia")):
        self.members = members
        self.calibrator = calibrator
        self.threshold = threshold
        self.refusal = refusal
        self.labels = labels
        self.input_size = int(members[0].input_shape[1])
        self.least_side = TRAINING_COPY_SIZE  # every input is squashed to this first (see preprocess)
        self._cam_models = grad_cam_models(members)
        signature = [tf.TensorSpec((None, self.input_size, self.input_size, 1), tf.float32)]
        feature_model = keras.Model(members[0].input, members[0].get_layer(FEATURE_LAYER).output)
        # The first member's logit and pooled features from one pass (TensorFlow would not share the trunk).
        first_member = keras.Model(members[0].input, [members[0].output, members[0].get_layer(FEATURE_LAYER).output])

        def logits_and_features(images):  # one graph: the members and the refusal's features in one call
            first_logit, features = first_member(images, training=False)
            logits = tf.concat([first_logit, *(member(images, training=False) for member in members[1:])], axis=1)
            return logits, features

        # Without heat maps, one pass gives everything; with them, the Grad-CAM graph computes the
        # logits, so only the first member's features are needed (a smaller graph to trace at start-up).
        self._both = GraphWhenReady(logits_and_features, signature)
        self._features = GraphWhenReady(lambda images: feature_model(images, training=False), signature)

    def prepare(self) -> None:
        """Trace every graph now (a server's warm-up): heat maps first, as the page asks for them."""
        for graph in (self._cam_models.graph, self._features, self._both):
            graph.trace()

    def logits_and_features(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, n_members) logits and (N, D) pooled features of the first member, for a (N, S, S, 1)
        float32 batch in [0, 1], from one pass of the network."""
        logits, features = self._both(tf.constant(images, tf.float32))
        return logits.numpy(), features.numpy()

    def member_logits(self, images: np.ndarray) -> np.ndarray:
        """(N, n_members) logits for a (N, S, S, 1) float32 batch in [0, 1]."""
        return self.logits_and_features(images)[0]

    def features(self, images: np.ndarray) -> np.ndarray:
        """(N, D) pooled features of the first member for a (N, S, S, 1) float32 batch in [0, 1]."""
        return self._features(tf.constant(images, tf.float32)).numpy()

    def predict(self, images: list[MedicalImage], explain: bool = False) -> list[Diagnosis]:
        """Diagnose each image; refused images get no probabilities, unusual chest X-rays a flag.

        Parameters
        ----------
        images : list of MedicalImage
            Decoded inputs, any size.
        explain : bool
            Also compute the Grad-CAM heat map of each accepted image.
        """
        if len(images) > BATCH_LIMIT:  # bound the network's working memory
            return [d for start in range(0, len(images), BATCH_LIMIT)
                    for d in self.predict(images[start:start + BATCH_LIMIT], explain)]
        reasons = [refusal_rule(image) for image in images]
        candidates = [i for i, reason in enumerate(reasons) if reason is None]
        accepted: list[int] = []
        all_logits = np.zeros((0, len(self.members)), np.float32)
        flagged: set[int] = set()
        if candidates:
            # Squash each original once; the network input and the refusal grid both start from it.
            with ThreadPoolExecutor(max_workers=SQUASH_THREADS) as pool:
                reduced = list(pool.map(lambda i: squash(images[i].pixels, TRAINING_COPY_SIZE), candidates))
            inputs = batch(reduced, self.input_size)
            if explain:
                features = self.features(inputs)
            else:
                all_logits, features = self.logits_and_features(inputs)
            is_chest_xray, out_of_population = self.refusal.assess(reduced, features)
            for index, is_xray, unusual in zip(candidates, is_chest_xray, out_of_population):
                if not is_xray:
                    reasons[index] = REFUSAL_MESSAGE
                elif unusual:
                    flagged.add(index)
            accepted = [i for i, ok in zip(candidates, is_chest_xray) if ok]
            inputs = inputs[is_chest_xray]
            all_logits = all_logits if explain else all_logits[is_chest_xray]
        results: dict[int, Diagnosis] = {
            i: Diagnosis("refused", self.labels, None, None, None, self.threshold, None, reasons[i])
            for i in range(len(images)) if reasons[i] is not None
        }
        if accepted:
            if explain:
                logits, cams = ensemble_cams(self._cam_models, inputs)
                heatmaps, peaks = per_image(cams), cams.max(axis=(1, 2))
            else:
                logits, heatmaps, peaks = all_logits, [None] * len(accepted), [None] * len(accepted)
            for row, index in enumerate(accepted):
                results[index] = self._diagnosis(logits[row], heatmaps[row], index in flagged, peaks[row])
        return [results[i] for i in range(len(images))]

    def _diagnosis(self, logits: np.ndarray, heatmap: np.ndarray | None, out_of_population: bool,
                   heatmap_peak: float | None = None) -> Diagnosis:
        member_probabilities = self.calibrator.predict(logits)
        positive = float(self.calibrator.predict(np.mean(logits)))
        label = self.labels[1] if positive >= self.threshold else self.labels[0]
        spread = float(np.std(member_probabilities))
        members = tuple(float(p) for p in member_probabilities)
        message = (f"{label.capitalize()} (p = {percent(positive)}, threshold {percent(self.threshold)}, "
                   f"members {percent_number(min(members))}–{percent(max(members))}).")
        if out_of_population:
            message = f"{message} {OUT_OF_POPULATION_MESSAGE}"
        return Diagnosis("ok", self.labels, np.array([1.0 - positive, positive]), label, spread,
                         self.threshold, heatmap, message, out_of_population,
                         None if heatmap_peak is None else float(heatmap_peak), members)
