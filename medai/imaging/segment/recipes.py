"""What each shipped segmentation model is trained on, and how (data, not code)."""

from __future__ import annotations

from dataclasses import dataclass

from medai.imaging.segment.measure import LESION_CAVEAT


@dataclass(frozen=True)
class Recipe:
    """Training recipe of one segmentation model.

    Attributes
    ----------
    dataset : str
        Folder under ``imaging/segmentation``.
    structures : tuple of str
        Output channels, in order.
    empty_when_missing : tuple of str
        Structures whose missing mask file means "absent" (per the dataset's README).
    required : tuple of str
        Structures every valid image shows (none found = refused).
    single_region : tuple of str
        Organs kept as their largest region with holes filled (see :func:`medai.imaging.segment.model.one_region`).
    channels : int
        1 grey or 3 colour.
    working_size : dict
        ``{"square": n}`` or ``{"long_side": n}`` (see :class:`medai.imaging.segment.model.Segmenter`).
    crop : int or None
        Train on random square patches of this side (full-resolution models), else on whole images.
    flip : bool
        Mirror during training, and average over the mirror images when predicting (not for chest
        X-rays, whose left and right differ).
    degrees, zoom, shift : float
        Ranges of the random affine transform.
    epochs, batch_size, steps_per_epoch : int
        Schedule; ``steps_per_epoch`` 0 = one pass over the training images.
    learning_rate : float
        Peak Adam learning rate (cosine decay to 2 % of it).
    widths : tuple of int
        U-Net filters per level.
    validation_fraction : float
        Share of groups held out for validation.
    group_column : str
        ``index.csv`` column grouping images (patient, child).
    seed : int
        Seed of the split and the weights.
    citation : str
        The dataset's source, as its README asks to cite it.
    kind : str
        What the model reads, for refusal messages.
    version : str
        Model version written to the spec and card (bumped when the recipe changes).
    limitations : tuple of str
        What the card must warn of for this model in particular.
    sample_marker : str
        Part of a shipped sample's file name that marks an image of the kind this model reads ('' for none).
    kind_check : bool
        Fit a thumbnail check of the image's kind (:mod:`medai.imaging.segment.kind`), for a model whose
        own features cannot tell its images from other kinds (a fundus photograph, a grey colonoscopy frame).
    kind_positives : str
        Glob under ``MEDAI_DATA_DIR/imaging`` of more images of the model's kind for that check ('' none).
    kind_sets : str
        ``"fundus"``: fit that check with :data:`medai.imaging.ood_sets.FUNDUS_POSITIVES` and
        ``FUNDUS_NEGATIVES`` ('' the defaults for the model's channels).
    """

    dataset: str
    structures: tuple[str, ...]
    channels: int
    working_size: dict[str, int]
    kind: str
    epochs: int
    batch_size: int
    learning_rate: float = 2e-3
    steps_per_epoch: int = 0
    empty_when_missing: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    single_region: tuple[str, ...] = ()
    crop: int | None = None
    flip: bool = True
    degrees: float = 10.0
    zoom: float = 0.1
    shift: float = 0.05
    widths: tuple[int, ...] = (16, 32, 64, 128, 160)
    validation_fraction: float = 0.2
    group_column: str = "id"
    seed: int = 7
    citation: str = ""
    version: str = "1.0.0"
    limitations: tuple[str, ...] = ()
    sample_marker: str = ""
    kind_check: bool = False
    kind_positives: str = ""
    kind_sets: str = ""


RECIPES: dict[str, Recipe] = {
    "cxr-lungs": Recipe(
        dataset="covid19_cxr_segmentations",
        structures=("right_lung", "left_lung", "cardiomediastinum", "ground_glass_opacity", "consolidation"),
        empty_when_missing=("ground_glass_opacity", "consolidation"),
        required=("right_lung", "left_lung"), single_region=("right_lung", "left_lung", "cardiomediastinum"),
        channels=1, working_size={"square": 256},
        kind="a frontal chest X-ray", epochs=200, batch_size=8, flip=False, degrees=8.0, zoom=0.12,
        shift=0.06, group_column="patientid", limitations=(LESION_CAVEAT,), sample_marker="cxr_",
        kind_check=True, kind_positives="kermany_cxr/train_224/*/*", version="1.1.0",
        citation="COVID-19 Chest X-ray Segmentations Dataset, General Blockchain Inc., 2020 (annotations CC BY 4.0); "
                 "images from Cohen JP et al., COVID-19 Image Data Collection, arXiv:2003.11597 (2020)."),
    "colon-polyp": Recipe(
        dataset="Kvasir-SEG", structures=("polyp",), channels=3, working_size={"square": 192},
        kind="a colonoscopy frame", epochs=48, batch_size=8, version="1.2.0", degrees=20.0, zoom=0.15, shift=0.08,
        validation_fraction=0.1, kind_check=True,
        citation="Jha D et al. Kvasir-SEG: A Segmented Polyp Dataset. MMM 2020, LNCS 11962, pp. 451-462 "
                 "(research and educational use only)."),
    "retina-vessels": Recipe(
        dataset="CHASE_DB1", structures=("vessels",), channels=3, working_size={"long_side": 1008},
        kind="a colour fundus photograph", epochs=150, batch_size=8, steps_per_epoch=50, crop=128,
        degrees=15.0, zoom=0.1, shift=0.0, group_column="child", widths=(16, 32, 64, 128), sample_marker="retina",
        version="1.2.0", validation_fraction=0.2, kind_check=True, kind_sets="fundus",
        citation="Fraz MM et al. An ensemble classification-based approach applied to retinal blood vessel "
                 "segmentation. IEEE Trans Biomed Eng 59(9):2538-2548 (2012); CHASE_DB1, CC BY 4.0."),
}
