"""Train the ``cxr-pneumonia`` ensemble on the CPU: ``python -m medai train cxr-pneumonia``.

Recipe: a patient-grouped 85/15 split of the official Kermany training set; each ensemble member is
the small residual CNN of :mod:`medai.imaging.network`, trained from scratch at 128 px with strong
augmentation (zoom, rotation, shift, contrast, brightness, gamma, blur and noise), class-balanced
weights, label smoothing and a cosine learning-rate schedule; the epoch with the best validation
ROC-AUC (batch-norm in inference mode) is kept. :mod:`medai.imaging.fit_cxr` then calibrates the
ensemble, picks the threshold, fits the refusal model and writes the model card.
"""

from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from sklearn.metrics import roc_auc_score

from medai.imaging.acquisition import acquisition_shift, blur_outside_box
from medai.imaging.datasets import ImageSet, joined, load_extra_set, load_training_set, split_by_patient
from medai.imaging.lung_boxes import lung_boxes
from medai.imaging.network import build_classifier

INPUT_SIZE = 128
VALIDATION_FRACTION = 0.15
SPLIT_SEED = 0
BATCH_SIZE = 32
OUTSIDE_LUNGS_BLURRED = 0.5


def make_augmenter(seed: int) -> keras.Sequential:
    """Geometric and photometric augmentation of (N, H, W, 1) images in [0, 1]."""
    return keras.Sequential([
        keras.layers.RandomRotation(0.03, fill_mode="constant", seed=seed),
        keras.layers.RandomZoom((-0.2, 0.15), fill_mode="constant", seed=seed + 1),
        keras.layers.RandomTranslation(0.08, 0.08, fill_mode="constant", seed=seed + 2),
        keras.layers.RandomContrast(0.3, seed=seed + 3),
        keras.layers.RandomBrightness(0.15, value_range=(0.0, 1.0), seed=seed + 4),
    ], name="augment")


def _photometric(images: tf.Tensor) -> tf.Tensor:
    """Random gamma, blur and noise, so that exposure and resolution differences do not matter."""
    batch = tf.shape(images)[0]
    gamma = tf.exp(tf.random.uniform((batch, 1, 1, 1), -0.35, 0.35))
    images = tf.clip_by_value(images, 0.0, 1.0) ** gamma
    blurred = tf.nn.avg_pool2d(images, 3, 1, "SAME")
    blur_weight = tf.random.uniform((batch, 1, 1, 1), 0.0, 1.0) * tf.cast(
        tf.random.uniform((batch, 1, 1, 1)) < 0.3, tf.float32)
    images = images + blur_weight * (blurred - images)
    noise = tf.random.normal(tf.shape(images)) * tf.random.uniform((batch, 1, 1, 1), 0.0, 0.03)
    return tf.clip_by_value(images + noise, 0.0, 1.0)


def training_dataset(data: ImageSet, seed: int, boxes: np.ndarray) -> tf.data.Dataset:
    """Shuffled, augmented batches of ((N, H, W, 1) float images, (N, 1) labels, (N,) weights).

    ``boxes`` (N, 4) are the films' lung boxes (:func:`medai.imaging.lung_boxes.lung_boxes`): half the
    films have everything outside theirs blurred before any other change.
    """
    counts = np.bincount(data.labels, minlength=2)
    class_weight = (len(data.labels) / (2.0 * counts)).astype(np.float32)
    weights = class_weight[data.labels]
    augmenter = make_augmenter(seed)
    images = data.images[..., np.newaxis]
    labels = data.labels.astype(np.float32)[:, np.newaxis]
    dataset = tf.data.Dataset.from_tensor_slices((images, boxes, labels, weights))
    dataset = dataset.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True).batch(BATCH_SIZE)

    def augment(image, box, label, weight):
        image = blur_outside_box(tf.cast(image, tf.float32) / 255.0, box, OUTSIDE_LUNGS_BLURRED)
        return acquisition_shift(_photometric(augmenter(image, training=True))), label, weight

    return dataset.map(augment, num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)


def predict_logits(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """(N,) logits for (N, H, W) uint8 images, batch-norm in inference mode."""
    inputs = images[..., np.newaxis].astype(np.float32) / 255.0
    return model.predict(inputs, batch_size=128, verbose=0)[:, 0]


class _KeepBest(keras.callbacks.Callback):
    """Evaluate validation ROC-AUC after each epoch and keep the weights of the best one."""

    def __init__(self, validation: ImageSet):
        super().__init__()
        self.validation = validation
        self.best_auc, self.best_epoch, self.best_weights = -1.0, -1, None

    def on_epoch_end(self, epoch, logs=None):
        auc = roc_auc_score(self.validation.labels, predict_logits(self.model, self.validation.images))
        print(f"  epoch {epoch + 1}: loss {logs['loss']:.4f}  val AUC {auc:.4f}", flush=True)
        if auc > self.best_auc:
            self.best_auc, self.best_epoch, self.best_weights = auc, epoch + 1, self.model.get_weights()


def fit_member(train: ImageSet, validation: ImageSet, seed: int, epochs: int) -> tuple[keras.Model, dict]:
    """Train one ensemble member on ``train``, keeping the epoch with the best ROC-AUC on ``validation``.

    Returns
    -------
    keras.Model
        The uncompiled member (the file it is saved to carries no optimizer state).
    dict
        ``seed``, ``epochs``, ``best_epoch``, ``val_auc`` and ``seconds`` for the model card.
    """
    keras.utils.set_random_seed(seed)
    model = build_classifier(INPUT_SIZE)
    steps = epochs * int(np.ceil(len(train.labels) / BATCH_SIZE))
    schedule = keras.optimizers.schedules.CosineDecay(0.0, steps, warmup_target=2e-3, warmup_steps=steps // epochs)
    model.compile(
        optimizer=keras.optimizers.AdamW(schedule, weight_decay=1e-4),
        loss=keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.05),
    )
    keeper = _KeepBest(validation)
    started = time.time()
    boxes = lung_boxes(train.files)
    model.fit(training_dataset(train, seed, boxes), epochs=epochs, verbose=0, callbacks=[keeper])
    member = build_classifier(INPUT_SIZE)
    member.set_weights(keeper.best_weights)
    return member, {"seed": seed, "epochs": epochs, "best_epoch": keeper.best_epoch,
                    "val_auc": round(keeper.best_auc, 4), "seconds": round(time.time() - started)}


def train_member(out_path: Path, seed: int, epochs: int, extra_data: Path | None = None) -> dict:
    """Train one ensemble member on the patient-grouped training split and save it to ``out_path``.

    ``extra_data`` is a feedback export (:func:`medai.imaging.datasets.load_extra_set`); its images join
    the training split only, so the validation figures stay comparable between versions.

    Returns
    -------
    dict
        :func:`fit_member`'s figures and ``extra_images``, for the model card.
    """
    train, validation = split_by_patient(load_training_set(INPUT_SIZE), VALIDATION_FRACTION, SPLIT_SEED)
    extra = 0
    if extra_data is not None:
        feedback = load_extra_set(extra_data, INPUT_SIZE)
        train, extra = joined(train, feedback), len(feedback.labels)
    member, info = fit_member(train, validation, seed, epochs)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    member.save(out_path)
    return {**info, "extra_images": extra}
