"""Train a shipped segmentation model: ``python -m medai train cxr-lungs|colon-polyp|retina-vessels``.

One recipe per model (:mod:`medai.imaging.segment.recipes`). The trainer splits the data by group
(patient, child), trains the U-Net with augmentation and a Dice + cross-entropy loss, then, through
the same :class:`Segmenter` the app uses, predicts the validation images at their original size,
chooses each structure's threshold on them, measures Dice with bootstrap intervals, fits the
refusal limit (and, where the recipe asks, a thumbnail kind check), measures what it refuses, and
writes the weights, ``spec.json`` and ``card.json``.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from medai.errors import MedAIError
from medai.imaging.ood import FeatureDistance
from medai.imaging.segment import augment
from medai.imaging.segment.data import SegmentationSet, joined, load_set, split_by_group
from medai.imaging.segment.evaluate import card_for, validation_report
from medai.imaging.segment.model import Segmenter
from medai.imaging.segment.recipes import RECIPES, Recipe
from medai.imaging.segment.refusal import fit_kind_check, refusal_report
from medai.imaging.segment.unet import build_unet, dice_bce_loss
from medai.registry import sha256_of

WEIGHTS_FILE = "unet.keras"
TRAINING_FILE = "training.json"
TYPICALITY_FILE = "typicality.npz"
KIND_CHECK_FILE = "kind_check.npz"
TYPICALITY_MARGIN = 1.5


def training_data(recipe: Recipe) -> tuple[SegmentationSet, SegmentationSet]:
    """The recipe's dataset at its training size, split by group."""
    size = recipe.working_size.get("square")
    data = load_set(recipe.dataset, recipe.structures, channels=recipe.channels, size=size,
                    empty_when_missing=recipe.empty_when_missing, group_column=recipe.group_column)
    return split_by_group(data, recipe.validation_fraction, recipe.seed)


def pipeline(recipe: Recipe, data: SegmentationSet) -> tf.data.Dataset:
    """Endless shuffled, augmented batches of (image, loss target)."""
    annotated = data.annotated.astype(np.float32)[:, None, None, :]
    source = tf.data.Dataset.from_tensor_slices((data.images, data.masks, annotated))
    mapper = augment.augmenter(recipe.channels, len(recipe.structures), flip=recipe.flip, degrees=recipe.degrees,
                               zoom=recipe.zoom, shift=recipe.shift, crop=recipe.crop)
    return (source.shuffle(len(data.ids), seed=recipe.seed).repeat().map(mapper, num_parallel_calls=2)
            .batch(recipe.batch_size).prefetch(2))


def fit_network(recipe: Recipe, train: SegmentationSet, epochs: int) -> keras.Model:
    """Train the U-Net (Adam, cosine decay) and return it."""
    keras.utils.set_random_seed(recipe.seed)
    network = build_unet(recipe.channels, len(recipe.structures), recipe.widths)
    steps = recipe.steps_per_epoch or int(np.ceil(len(train.ids) / recipe.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(recipe.learning_rate, epochs * steps, alpha=0.02,
                                                      warmup_target=None)
    network.compile(optimizer=keras.optimizers.Adam(schedule), loss=dice_bce_loss, jit_compile=False)
    network.fit(pipeline(recipe, train), epochs=epochs, steps_per_epoch=steps, verbose=2)
    return network


def save_weights_only(network: keras.Model, recipe: Recipe, path: Path) -> None:
    """Save an uncompiled copy: the file then carries no optimizer state (a third of the size)."""
    shipped = build_unet(recipe.channels, len(recipe.structures), recipe.widths)
    shipped.set_weights(network.get_weights())
    shipped.save(path)


def bottleneck_features(segmenter: Segmenter, data: SegmentationSet) -> np.ndarray:
    """(N, D) mean bottleneck activations of whole images, as the app computes them."""
    rows = []
    for image in data.images:
        scaled = image.astype(np.float32) / 255.0
        batch = tf.image.resize(scaled[None], segmenter.working_shape(image.shape[:2]))
        rows.append(segmenter.forward(np.asarray(batch))[1])
    return np.stack(rows)


def train(model_dir: Path, epochs: int | None = None, reuse_members: bool = False,
          extra_data: Path | None = None) -> dict:
    """Train, validate and write the model named by ``model_dir``'s folder name.

    Parameters
    ----------
    model_dir : Path
        ``medai/models/<name>``; ``<name>`` picks the recipe.
    epochs : int, optional
        Override the recipe's epochs (for a quick trial; the card records what was run).
    reuse_members : bool
        Keep the trained network in ``model_dir``; redo thresholds, refusal limit, spec and card.
    extra_data : Path, optional
        A corrected-mask export (``python -m medai export-feedback``) whose images join the training
        split only; structures it does not correct count as not annotated.

    Returns
    -------
    dict
        The card written.
    """
    recipe = RECIPES[model_dir.name]
    train_set, validation_set = training_data(recipe)
    if extra_data is not None:
        if "square" not in recipe.working_size:
            raise MedAIError(f"--extra-data needs a model trained on whole resized images; {model_dir.name} is not.")
        extra = load_set(recipe.dataset, recipe.structures, channels=recipe.channels,
                         size=recipe.working_size["square"], root=extra_data)
        train_set = joined(train_set, extra)
    if reuse_members:
        network = keras.saving.load_model(model_dir / WEIGHTS_FILE, compile=False)
        training = json.loads((model_dir / TRAINING_FILE).read_text())
    else:
        epochs = epochs or recipe.epochs
        began = time.perf_counter()
        network = fit_network(recipe, train_set, epochs)
        model_dir.mkdir(parents=True, exist_ok=True)
        save_weights_only(network, recipe, model_dir / WEIGHTS_FILE)
        training = {"epochs": epochs, "training_minutes": round((time.perf_counter() - began) / 60, 1),
                    "parameters": int(network.count_params()), "trained_on": dt.date.today().isoformat()}
        (model_dir / TRAINING_FILE).write_text(json.dumps(training, indent=2) + "\n")
    training.update(training_images=int(len(train_set.ids)), validation_images=int(len(validation_set.ids)))
    return finalize(model_dir, recipe, network, train_set, validation_set, training)


def finalize(model_dir: Path, recipe: Recipe, network: keras.Model, train_set: SegmentationSet,
             validation_set: SegmentationSet, training: dict) -> dict:
    """Fit the refusal limit, validate at original size, write ``spec.json`` and ``card.json``."""
    name = model_dir.name
    segmenter = Segmenter(network, recipe.structures, (0.5,) * len(recipe.structures), recipe.channels,
                          recipe.working_size, FeatureDistance(), recipe.required, recipe.kind)
    typicality = FeatureDistance(quantile=0.999).fit(bottleneck_features(segmenter, train_set))
    reference = np.concatenate([typicality.distance(bottleneck_features(segmenter, validation_set)),
                                typicality.distance(bottleneck_features(segmenter, train_set))])
    typicality.limit_ = float(np.quantile(reference, typicality.quantile) * TYPICALITY_MARGIN)
    typicality.save(model_dir / TYPICALITY_FILE)
    segmenter.typicality = typicality
    if recipe.kind_check:
        segmenter.kind_check = fit_kind_check(recipe, train_set.ids)
        segmenter.kind_check.save(model_dir / KIND_CHECK_FILE)
    if recipe.flip:  # measured once without, so the card shows what the averaging adds
        single_view = validation_report(segmenter, recipe, validation_set.ids)
        segmenter.flip_average = True
    report = validation_report(segmenter, recipe, validation_set.ids)
    if recipe.flip:
        report["dice_single_view"] = {name: single_view["dice"][name]["mean"] for name in recipe.structures}
    if recipe.single_region:  # thresholds chosen on the raw maps, then scored as shipped (organs cleaned)
        raw = report
        segmenter.thresholds, segmenter.single_region = tuple(raw["thresholds"]), recipe.single_region
        report = validation_report(segmenter, recipe, validation_set.ids, raw["thresholds"])
        report["dice_before_cleaning"] = {name: raw["dice"][name]["mean"] for name in recipe.single_region}
    segmenter.thresholds = tuple(report["thresholds"])
    report["refusal"] = refusal_report(segmenter, recipe, validation_set.ids)
    files = [WEIGHTS_FILE, TYPICALITY_FILE] + ([KIND_CHECK_FILE] if recipe.kind_check else [])
    spec = {
        "name": name, "version": recipe.version, "task": "image-segmentation",
        "loader": "medai.imaging.segment.loader:load_segmenter",
        "trainer": "medai.imaging.segment.fit:train",
        "labels": list(recipe.structures),
        "input": {"formats": ["png", "jpeg", "dicom"], "channels": recipe.channels,
                  "working_size": recipe.working_size, "kind": recipe.kind},
        "files": {file: sha256_of(model_dir / file) for file in files},
        "parameters": {"weights": WEIGHTS_FILE, "typicality": TYPICALITY_FILE,
                       "thresholds": report["thresholds"], "required": list(recipe.required),
                       "single_region": list(recipe.single_region), "flip_average": recipe.flip,
                       **({"kind_check": KIND_CHECK_FILE} if recipe.kind_check else {})},
    }
    (model_dir / "spec.json").write_text(json.dumps(spec, indent=2) + "\n")
    card = card_for(name, recipe.version, recipe, report, training)
    (model_dir / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    return card
