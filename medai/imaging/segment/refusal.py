"""Fit a segmentation model's kind check, and measure what the model refuses, for its card.

Refusal is measured through :meth:`Segmenter.predict_one`, the path the page and the CLI take
(colour rule, kind check, feature typicality, required structures), on the model's validation images
(which it should accept) and on images of other kinds (:data:`medai.imaging.ood_sets.OOD_SETS`, less
any drawn from the model's own dataset), which it should refuse.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from medai import config
from medai.imaging.io import read_image
from medai.imaging.ood_sets import (DETECTOR_NEGATIVES, FUNDUS_NEGATIVES, FUNDUS_POSITIVES, KIND_NEGATIVES,
                                    OOD_SETS)
from medai.imaging.segment.data import dataset_root, read_index
from medai.imaging.segment.kind import KindCheck, thumbnail
from medai.imaging.segment.model import Segmenter, colour_pixels
from medai.imaging.segment.recipes import Recipe

KIND_POSITIVES_SAMPLED = 600


def _own_files(recipe: Recipe, ids: Iterable[str]) -> list[bytes]:
    root = dataset_root(recipe.dataset)
    index = {row["id"]: row for row in read_index(root)}
    return [(root / index[image_id]["image_file"]).read_bytes() for image_id in ids]


def _thumbnails(files: Iterable[bytes]) -> np.ndarray:
    return np.stack([thumbnail(colour_pixels(read_image(data, keep_colour=True))) for data in files])


def _negatives(recipe: Recipe) -> dict[str, Any]:
    """Other kinds of image to fit against: the fundus sets for a fundus model, colour ones for another
    colour model, the chest X-ray detector's for grey."""
    if recipe.kind_sets == "fundus":
        return FUNDUS_NEGATIVES
    return KIND_NEGATIVES if recipe.channels == 3 else DETECTOR_NEGATIVES


def _positive_sets(recipe: Recipe) -> dict[str, Any]:
    return FUNDUS_POSITIVES if recipe.kind_sets == "fundus" else {}


def _more_positives(recipe: Recipe) -> list[bytes]:
    """``KIND_POSITIVES_SAMPLED`` files (seeded) matching the recipe's ``kind_positives`` glob, if any,
    and the images of its positive sets."""
    found = sorted((config.data_dir() / "imaging").glob(recipe.kind_positives)) if recipe.kind_positives else []
    picked = np.random.default_rng(0).permutation(len(found))[:KIND_POSITIVES_SAMPLED]
    return [found[i].read_bytes() for i in sorted(picked)] + [
        data for images in _positive_sets(recipe).values() for data in images()]


def fit_kind_check(recipe: Recipe, train_ids: Iterable[str]) -> KindCheck:
    """A :class:`KindCheck` fitted on the training images (and the recipe's other images of its kind)
    against other kinds of image."""
    positives = _thumbnails([*_own_files(recipe, train_ids), *_more_positives(recipe)])
    negatives = np.concatenate([_thumbnails(images()) for images in _negatives(recipe).values()])
    return KindCheck().fit(positives, negatives)


def kind_check_text(recipe: Recipe) -> str:
    """What the kind check was fitted on, for the card."""
    folder = recipe.kind_positives.split("/*")[0]
    extra = f" and {KIND_POSITIVES_SAMPLED} images from {folder}" if recipe.kind_positives else ""
    extra += "".join(f" and the {name}" for name in _positive_sets(recipe))
    return f"fitted on the training images{extra} against {'; '.join(_negatives(recipe))}"


def other_kinds(recipe: Recipe) -> dict[str, Any]:
    """``OOD_SETS`` entries not drawn from the recipe's own dataset."""
    return {name: images for name, images in OOD_SETS.items() if f"({recipe.dataset})" not in name}


def refusal_report(segmenter: Segmenter, recipe: Recipe, validation_ids: Iterable[str]) -> dict[str, Any]:
    """Share refused of the validation images and of each other kind of image.

    Returns
    -------
    dict
        ``validation_refused`` {"share", "n"}; ``other_kinds_refused`` {set name: {"share", "n"}};
        ``kind_check`` what the thumbnail kind check was fitted on (None without one).
    """
    def refused(files: Iterable[bytes]) -> dict[str, float | int]:
        outcomes = [segmenter.predict_one(read_image(data, keep_colour=recipe.channels == 3)).status == "refused"
                    for data in files]
        return {"share": float(np.mean(outcomes)) if outcomes else 0.0, "n": len(outcomes)}

    return {"validation_refused": refused(_own_files(recipe, validation_ids)),
            "other_kinds_refused": {name: refused(images()) for name, images in other_kinds(recipe).items()},
            "kind_check": kind_check_text(recipe) if segmenter.kind_check is not None else None}
