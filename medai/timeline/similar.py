"""``icu-similar-stays``: the training stays most like a patient at the same hour of their stays, and what
happened to them — evidence a clinician can read beside the models' figures, not a further model of risk.

Likeness: the key variables' last, lowest and highest values and the age (``KEY_VARIABLES`` of
``icu-survival``), median-imputed, standardised by the reference's median and interquartile range and
clipped to ±5, then projected on the reference's first :data:`COMPONENTS` principal components; the
:data:`NEIGHBOURS` nearest among stays of the same ICU type, each reference stay cut at the hour of
:data:`CUTOFFS_H` nearest to the patient's hours of data. What happened to them comes from the
PhysioNet outcomes.

Nearest by plain distance would be biased towards survivors: typical stays sit in the dense middle of the
space and are everyone's neighbours ("hubs"), while stays that ended in death are spread at its edges;
the neighbours' death share then averaged 9 % on validation stays of whom 14 % died. So each reference
stay's distance is reduced by ``local_scaling_`` times its own local radius (its mean distance to its
:data:`RADIUS_NEIGHBOURS` nearest reference stays), as in cross-domain similarity local scaling (Conneau
et al., ICLR 2018); the factor is chosen on validation, where the share is then right on average.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from medai.cards import wilson
from medai.registry import ModelSpec
from medai.threads import single_threaded
from medai.timeline.features import feature_names, feature_matrix
from medai.timeline.io import Stay
from medai.timeline.survival import HORIZON_DAYS, KEY_VARIABLES

CUTOFFS_H = (12.0, 24.0, 36.0, 48.0)
NEIGHBOURS = 50
RADIUS_NEIGHBOURS = 10
COMPONENTS = 24
STATS = ("last", "min", "max")
ARRAYS_FILE = "similar.npz"
UNKNOWN_ICU = 0  # ICU type not given: neighbours from every type
ICU_TYPES = {1: "coronary care unit", 2: "cardiac surgery recovery unit", 3: "medical ICU", 4: "surgical ICU",
             UNKNOWN_ICU: "any ICU type"}
FINGERPRINT_H = 6.0  # a stay is known again by its first hours (every patient with figures has at least these)
UNLIKE_PERCENTILE = 95.0  # neighbours further than for this share of validation stays: said to be less alike


def likeness_columns() -> np.ndarray:
    """Indices, in :func:`medai.timeline.features.feature_names`, of the features likeness is measured on."""
    names = feature_names()
    chosen = [f"{v}_{s}" for v in KEY_VARIABLES for s in STATS] + ["desc_Age"]
    return np.array([names.index(name) for name in chosen])


def icu_type(features: np.ndarray) -> np.ndarray:
    """ICU type 1–4 of each row of (n, F) summary features (0 when not given), shape (n,)."""
    types = features[:, feature_names().index("desc_ICUType")]
    return np.where(np.isin(types, (1, 2, 3, 4)), np.nan_to_num(types), UNKNOWN_ICU).astype(np.int8)


def fingerprint(stay: Stay) -> int:
    """A 64-bit digest of the stay's descriptors and first :data:`FINGERPRINT_H` hours, rounded (minutes, 2
    decimals) so that the same stay read from a PhysioNet file or re-written as a long CSV digests alike:
    a patient who is one of the reference stays (a sample patient) is known and left out of its own neighbours."""
    early = stay.until(FINGERPRINT_H)
    rows = np.column_stack([np.round(early.time * 60), early.variable, np.round(early.value, 2)])
    heads = np.round([early.descriptors.get(name, np.nan) for name in sorted(early.descriptors)], 1)
    digest = hashlib.sha256(np.nan_to_num(heads, nan=-1.0).tobytes() + rows.astype("<f8").tobytes()).digest()
    return int.from_bytes(digest[:8], "little", signed=True)


def nearest_cutoff(hours: float) -> float:
    """The reference cut-off (h) nearest to a stay's hours of data."""
    return min(CUTOFFS_H, key=lambda cutoff: abs(cutoff - hours))


@dataclass(frozen=True)
class SimilarStays:
    """What happened to the training stays most like one patient.

    Attributes
    ----------
    cutoff_h : float
        The hour the reference stays were cut at (the nearest of :data:`CUTOFFS_H`).
    icu_type : int
        1 coronary care, 2 cardiac surgery recovery, 3 medical, 4 surgical; 0 = any (not given).
    stays : int
        How many neighbours (:data:`NEIGHBOURS`).
    died_in_hospital, alive_at_1_year : int
        How many of them.
    survivors_stay_days : tuple of float
        Hospital length of stay (days) of those who left alive: (25th, 50th, 75th percentile); NaNs when none.
    distance_percentile : float
        How far the nearest neighbours lie, as the percentile of the same distance among validation stays
        (0–100; over 95: this patient is unlike most, and the neighbours are less alike than usual).
    """

    cutoff_h: float
    icu_type: int
    stays: int
    died_in_hospital: int
    alive_at_1_year: int
    survivors_stay_days: tuple[float, float, float]
    distance_percentile: float

    @property
    def died_ci95(self) -> tuple[float, float]:
        """Wilson 95 % interval of the share who died in hospital (0–1)."""
        return wilson(self.died_in_hospital, self.stays)

    @property
    def alive_ci95(self) -> tuple[float, float]:
        """Wilson 95 % interval of the share alive at a year (0–1)."""
        return wilson(self.alive_at_1_year, self.stays)

    @property
    def unlike_most(self) -> bool:
        """The neighbours lie further than for :data:`UNLIKE_PERCENTILE` % of validation stays."""
        return self.distance_percentile > UNLIKE_PERCENTILE

    def row(self) -> dict[str, object]:
        """CSV columns of ``python -m medai timeline similar``."""
        low, median, high = self.survivors_stay_days
        return {"cutoff_h": self.cutoff_h, "icu_type": self.icu_type, "similar_stays": self.stays,
                "died_in_hospital": self.died_in_hospital,
                "died_in_hospital_ci95": "{:.0f}–{:.0f} %".format(*(100 * bound for bound in self.died_ci95)),
                "alive_at_1_year": self.alive_at_1_year,
                "survivors_stay_days_median": "" if median != median else round(median, 1),
                "survivors_stay_days_iqr": "" if median != median else f"{low:.0f}-{high:.0f}",
                "distance_percentile": round(self.distance_percentile, 1)}


@dataclass
class SimilarStaysModel:
    """Reference stays, per cut-off, in a standardised principal-component space.

    Attributes
    ----------
    median_, scale_ : ndarray, shape (K, L)
        Per cut-off (K = len(CUTOFFS_H)): imputation median and standardisation scale of the L likeness features.
    components_ : ndarray, shape (K, COMPONENTS, L)
        Principal axes of the standardised features.
    coordinates_ : ndarray, shape (K, n, COMPONENTS)
        The n reference stays cut at each cut-off, projected.
    icu_type_ : ndarray of int8, shape (n,)
    died_ : ndarray of int8, shape (n,)
        In-hospital death.
    survival_days_, stay_days_ : ndarray, shape (n,)
        PhysioNet ``Survival`` (-1 = not known to have died) and ``Length_of_stay`` (days).
    fingerprint_ : ndarray of int64, shape (n,)
        :func:`fingerprint` of each reference stay.
    radius_ : ndarray, shape (K, n)
        Each reference stay's local radius at each cut-off (mean distance to its :data:`RADIUS_NEIGHBOURS`
        nearest reference stays of the same ICU type).
    local_scaling_ : float
        How much of its radius is taken off a reference stay's distance (0 = plain distance).
    typical_distance_ : ndarray, shape (K, 101)
        Percentiles 0..100 of the mean distance to the neighbours among validation stays.
    """

    name: str = "icu-similar-stays"
    version: str = ""
    median_: np.ndarray | None = None
    scale_: np.ndarray | None = None
    components_: np.ndarray | None = None
    coordinates_: np.ndarray | None = None
    icu_type_: np.ndarray | None = None
    died_: np.ndarray | None = None
    survival_days_: np.ndarray | None = None
    stay_days_: np.ndarray | None = None
    fingerprint_: np.ndarray | None = None
    radius_: np.ndarray | None = None
    local_scaling_: float = 0.0
    typical_distance_: np.ndarray | None = None

    def fit(self, stays: list[Stay], died: np.ndarray, survival_days: np.ndarray,
            stay_days: np.ndarray) -> "SimilarStaysModel":
        """Standardise, fit the principal components and store the reference stays at every cut-off."""
        from sklearn.decomposition import PCA

        medians, scales, components, coordinates = [], [], [], []
        for cutoff in CUTOFFS_H:
            x = feature_matrix(stays, [cutoff] * len(stays))[:, likeness_columns()].astype(float)
            median = np.nanmedian(x, axis=0)
            spread = np.nanpercentile(x, 75, axis=0) - np.nanpercentile(x, 25, axis=0)
            scale = np.where(spread > 0, spread, np.nanstd(x, axis=0) + 1e-6)
            z = np.clip((np.where(np.isnan(x), median, x) - median) / scale, -5, 5)
            pca = PCA(COMPONENTS, random_state=0).fit(z)
            medians.append(median), scales.append(scale), components.append(pca.components_)
            coordinates.append(z @ pca.components_.T)
        self.median_, self.scale_ = np.array(medians), np.array(scales)
        self.components_, self.coordinates_ = np.array(components), np.array(coordinates, dtype=np.float32)
        self.icu_type_ = icu_type(feature_matrix(stays))
        self.died_, self.survival_days_ = np.asarray(died, np.int8), np.asarray(survival_days, float)
        self.stay_days_ = np.asarray(stay_days, float)
        self.fingerprint_ = np.array([fingerprint(stay) for stay in stays], np.int64)
        counts = np.bincount(self.icu_type_, minlength=5)[1:]
        if counts.min() <= NEIGHBOURS:  # a patient in the reference still has NEIGHBOURS others of its type
            raise ValueError(f"each ICU type needs over {NEIGHBOURS} reference stays; counts {counts.tolist()}")
        self.radius_ = np.array([self._radius(reference) for reference in self.coordinates_])
        self.typical_distance_ = np.zeros((len(CUTOFFS_H), 101))
        return self

    def _radius(self, reference: np.ndarray) -> np.ndarray:
        """Each of the (n, COMPONENTS) reference points' mean distance to its nearest others of its ICU type."""
        from sklearn.metrics import pairwise_distances

        radius = np.zeros(len(reference))
        for unit in np.unique(self.icu_type_):
            pool = np.flatnonzero(self.icu_type_ == unit)
            gaps = np.sort(pairwise_distances(reference[pool]), axis=1)
            radius[pool] = gaps[:, 1:RADIUS_NEIGHBOURS + 1].mean(axis=1)
        return radius

    def neighbours(self, features: np.ndarray, cutoff: float,
                   fingerprints: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the :data:`NEIGHBOURS` nearest reference stays (by locally scaled distance) and their
        mean plain distance, shapes (n, NEIGHBOURS) and (n,), for (n, F) summary features compared at
        ``cutoff``; a reference stay with the patient's ``fingerprints[i]`` (its own stay) is left out."""
        k = CUTOFFS_H.index(cutoff)
        x = np.asarray(features, float)[:, likeness_columns()]
        z = np.clip((np.where(np.isnan(x), self.median_[k], x) - self.median_[k]) / self.scale_[k], -5, 5)
        points, reference = z @ self.components_[k].T, self.coordinates_[k].astype(float)
        chosen, distances = [], []
        for row, (point, unit) in enumerate(zip(points, icu_type(features))):
            keep = np.ones(len(reference), bool) if unit == UNKNOWN_ICU else self.icu_type_ == unit
            if fingerprints is not None:
                keep &= self.fingerprint_ != fingerprints[row]
            pool = np.flatnonzero(keep)
            gaps = np.linalg.norm(reference[pool] - point, axis=1)
            nearest = np.argsort(gaps - self.local_scaling_ * self.radius_[k][pool], kind="stable")[:NEIGHBOURS]
            chosen.append(pool[nearest]), distances.append(gaps[nearest].mean())
        return np.array(chosen), np.array(distances)

    @single_threaded
    def predict(self, stays: list[Stay]) -> list[SimilarStays]:
        """What happened to each stay's neighbours (each compared from all its data so far)."""
        answers = []
        for stay in stays:
            cutoff = nearest_cutoff(stay.hours)
            features = feature_matrix([stay])
            (chosen,), (distance,) = self.neighbours(features, cutoff, np.array([fingerprint(stay)]))
            survival, survived = self.survival_days_[chosen], self.died_[chosen] == 0
            alive = (survival < 0) | (survival > HORIZON_DAYS)
            days = self.stay_days_[chosen][survived & (self.stay_days_[chosen] >= 0)]
            quartiles = tuple(np.percentile(days, (25, 50, 75))) if len(days) else (np.nan,) * 3
            typical = self.typical_distance_[CUTOFFS_H.index(cutoff)]
            answers.append(SimilarStays(cutoff, int(icu_type(features)[0]), len(chosen), int(self.died_[chosen].sum()),
                                        int(alive.sum()), tuple(float(q) for q in quartiles),
                                        float(np.interp(distance, typical, np.arange(101)))))
        return answers


def load(spec: ModelSpec) -> SimilarStaysModel:
    """Build the model from a registry spec (files already verified)."""
    with np.load(spec.path(ARRAYS_FILE)) as saved:
        return SimilarStaysModel(spec.name, spec.version, saved["median"], saved["scale"], saved["components"],
                                 saved["coordinates"], saved["icu_type"], saved["died"], saved["survival_days"],
                                 saved["stay_days"], saved["fingerprint"], saved["radius"],
                                 float(spec.parameters["local_scaling"]),
                                 saved["typical_distance"])


__all__ = ["CUTOFFS_H", "ICU_TYPES", "NEIGHBOURS", "SimilarStays", "SimilarStaysModel", "load", "nearest_cutoff"]
