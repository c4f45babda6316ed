"""Draw segmentation masks over an image, and read a user's mask file: pure functions for the Segment page.

Masks are (H, W) bool arrays; colours are ``"#rrggbb"`` strings. Nothing here imports Streamlit or
TensorFlow, so the page stays thin and these functions are tested on synthetic shapes.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from scipy import ndimage

from medai.errors import InputError, InputTooLargeError
from medai.imaging.io import PNG_MAGIC, check_byte_count, check_pixel_count

# One colour per known structure, told apart from each other and from DISAGREEMENT with red-green colour
# blindness too (Okabe & Ito's palette): a green left lung and a red heart looked the same olive to a deutan.
PALETTE = {
    "right_lung": "#0072b2",           # blue
    "left_lung": "#009e73",            # bluish green
    "cardiomediastinum": "#d55e00",    # vermillion
    "ground_glass_opacity": "#f0e442", # yellow
    "consolidation": "#cc79a7",        # reddish purple
    "polyp": "#00e5ff",                # cyan: green on red mucosa is the pair a deutan cannot tell apart
    "vessels": "#00e5ff",              # cyan: yellow was faint on a fundus photograph's orange
}
FALLBACK = ("#17becf", "#8c564b", "#bcbd22", "#7f7f7f", "#9467bd")
DISAGREEMENT = "#ff00ff"  # magenta: where a ground-truth mask and the model's mask differ
# Filled as diagonal stripes (1: "/", -1: "\\"), told from the organ beneath by their pattern: no colour set keeps
# six overlays apart for a red-green colour-blind reader once blended over a film (a lesion in a green lung,
# the magenta disagreement beside a blue one).
HATCHED = {"ground_glass_opacity": 1, "consolidation": 1, "disagreement": -1}
ASPECT_TOLERANCE = 0.02


def structure_colours(structures: tuple[str, ...] | list[str]) -> dict[str, str]:
    """A distinct ``"#rrggbb"`` per structure: the palette's where known, then the fallback colours in turn."""
    colours, spare = {}, iter(FALLBACK * (len(structures) // len(FALLBACK) + 1))
    for name in structures:
        known = PALETTE.get(name)
        colours[name] = known if known and known not in colours.values() else next(spare)
    return colours


def hex_to_rgb(colour: str) -> np.ndarray:
    """``"#rrggbb"`` → (3,) float32 in [0, 1]."""
    value = colour.lstrip("#")
    return np.array([int(value[i:i + 2], 16) for i in (0, 2, 4)], np.float32) / 255.0


def boundary(mask: np.ndarray, width: int = 1) -> np.ndarray:
    """The inner boundary of a bool mask, ``width`` px thick: its pixels within ``width`` 4-neighbour steps of
    the outside (or of the image's edge)."""
    mask = np.asarray(mask, bool)
    return mask & ~ndimage.binary_erosion(mask, structure=ndimage.generate_binary_structure(2, 1), border_value=0,
                                          iterations=width)


def outline_width(shape: tuple[int, ...]) -> int:
    """Outline thickness (px) for an image of ``shape``: 1 px per 384 px of its long side, so that an outline
    stays visible when the picture is shown smaller (a tablet shows a 768-px picture about 450 px wide)."""
    return max(1, round(max(shape[:2]) / 384))


def stripes(shape: tuple[int, ...], direction: int = 1) -> np.ndarray:
    """(H, W) bool diagonal stripes, half on: one period per 1/80 of the long side (at least 4 px), so that they
    stay visible on a picture shown smaller; ``direction`` 1 runs "/", -1 runs "\\"."""
    period = max(4, round(max(shape[:2]) / 80))
    rows, columns = np.indices(shape[:2])
    return (columns - direction * rows) % period < period // 2


def compose(pixels: np.ndarray, masks: dict[str, np.ndarray], colours: dict[str, str], opacity: float,
            outline_only: bool = False, rgb: np.ndarray | None = None) -> np.ndarray:
    """Lay coloured masks over an image.

    Parameters
    ----------
    pixels : np.ndarray
        (H, W) float grey image in [0, 1] (used when ``rgb`` is None).
    masks : dict
        Structure → (H, W) bool mask, drawn in order (later ones on top).
    colours : dict
        Structure → ``"#rrggbb"``.
    opacity : float
        0 shows only the image, 1 only the colour, inside each drawn region.
    outline_only : bool
        Draw each mask's boundary (:func:`outline_width` thick) instead of its filled area (in :func:`stripes`
        for the structures in :data:`HATCHED`).
    rgb : np.ndarray, optional
        (H, W, 3) uint8 colour image to draw on instead of ``pixels``.

    Returns
    -------
    np.ndarray
        (H, W, 3) uint8 RGB.
    """
    base = (rgb.astype(np.float32) / 255.0 if rgb is not None
            else np.repeat(np.clip(pixels, 0.0, 1.0).astype(np.float32)[..., None], 3, axis=2))
    for name, mask in masks.items():
        if mask.shape != base.shape[:2]:
            raise ValueError(f"Mask {name} is {mask.shape}; the image is {base.shape[:2]}.")
        region = boundary(mask, outline_width(base.shape)) if outline_only else np.asarray(mask, bool)
        if not outline_only and name in HATCHED:
            region = region & stripes(base.shape, HATCHED[name])
        base[region] = (1.0 - opacity) * base[region] + opacity * hex_to_rgb(colours[name])
    return np.clip(np.rint(base * 255.0), 0, 255).astype(np.uint8)


def resize_mask(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """A bool mask resized (nearest neighbour) to ``shape`` = (height, width)."""
    if mask.shape == tuple(shape):
        return np.asarray(mask, bool)
    image = Image.fromarray(np.asarray(mask, np.uint8) * 255).resize((shape[1], shape[0]), Image.NEAREST)
    return np.asarray(image) >= 128


def read_mask_png(data: bytes, shape: tuple[int, int]) -> tuple[np.ndarray, bool]:
    """A user's mask PNG → ((height, width) bool mask at ``shape``, whether it had to be resized).

    Foreground is any value ≥ 128 of the grey image (0/255 masks), or any non-zero value when the
    image's largest value is 1 (0/1 masks). A mask of another size is accepted when its aspect ratio
    matches the image's within 2 % and resized by nearest neighbour.

    Raises
    ------
    InputError
        Not a PNG, damaged, beyond the byte or pixel caps, or of another aspect ratio than the image.
    """
    if not data.startswith(PNG_MAGIC):
        raise InputError("The mask is not a PNG file. Save it as a single-channel PNG (0 = outside, 255 = inside).")
    check_byte_count(len(data))
    try:
        with Image.open(io.BytesIO(data)) as opened:
            check_pixel_count(*opened.size)
            grey = np.asarray(opened.convert("L"))
    except Image.DecompressionBombError as exc:  # Pillow's own cap, far above ours
        raise InputTooLargeError("The mask declares more pixels than is safe to decode.") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise InputError("The mask file is damaged or truncated and cannot be read.") from exc
    height, width = shape
    if abs(grey.shape[1] / grey.shape[0] - width / height) > ASPECT_TOLERANCE * width / height:
        raise InputError(f"The mask is {grey.shape[1]}×{grey.shape[0]} pixels but the image is {width}×{height}; "
                         "a mask must have the image's size, or its proportions (it is then resized to it).")
    mask = grey > 0 if grey.max() <= 1 else grey >= 128
    return resize_mask(mask, shape), grey.shape != tuple(shape)


def disagreement(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Pixels where exactly one of two bool masks of one shape is set (missed or extra)."""
    if predicted.shape != truth.shape:
        raise ValueError(f"Mask shapes differ: {predicted.shape} vs {truth.shape}.")
    return np.logical_xor(predicted, truth)


# Ground-truth targets that are unions of a model's structures (a lung mask usually marks both lungs).
COMBINED = {"lungs": ("right_lung", "left_lung")}


def truth_targets(structures: tuple[str, ...] | list[str]) -> list[str]:
    """What a ground-truth mask may mark for a model: each structure, then any union it has all parts of."""
    return [*structures, *(name for name, parts in COMBINED.items() if set(parts) <= set(structures))]


def target_mask(masks: dict[str, np.ndarray], target: str) -> np.ndarray:
    """The mask of ``target``: one structure's, or the union of a :data:`COMBINED` target's parts."""
    if target in masks:
        return masks[target]
    parts = [masks[name] for name in COMBINED[target]]
    return np.logical_or.reduce(parts)
