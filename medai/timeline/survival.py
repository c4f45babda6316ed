"""``icu-survival``: a survival curve over the year after ICU admission (Cox proportional hazards).

Fitted with lifelines' ``CoxPHFitter`` at training time; at prediction time the curve is
``S(t | x) = exp(-H0(t) · exp((x - x̄) · β))`` from the shipped coefficients and baseline cumulative
hazard (NumPy only: lifelines is needed to retrain, not to predict). Since 1.1.0 one covariate of ``x``
is the log-odds of death within a year from boosted trees on all summary features (the mean over
five cross-fitted tree models, so that the Cox model learnt its weight from out-of-fold values).

Outcome: ``Survival`` days of the PhysioNet outcomes file; -1 ("not known to have died") is treated as
alive at one year (deaths are recorded years after discharge, so survivors were followed at least that
long); deaths after 365 days are censored at 365.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import joblib
import numpy as np

from medai.registry import ModelSpec
from medai.threads import single_threaded
from medai.timeline.features import feature_names, summary_features
from medai.timeline.io import Stay

HORIZON_DAYS = 365
ARRAYS_FILE, BOOSTERS_FILE = "cox.npz", "boosters.joblib"
KEY_VARIABLES = ("GCS", "HR", "RespRate", "Temp", "MAP", "NIMAP", "SysABP", "NISysABP", "BUN", "Creatinine",
                 "Lactate", "HCO3", "pH", "WBC", "Platelets", "Bilirubin", "Na", "K", "Glucose", "Urine", "PaO2",
                 "FiO2", "MechVent", "Albumin", "HCT", "SaO2")
KEY_STATS = ("last", "min", "max", "mean")


def selected_features() -> list[str]:
    """Summary-feature columns the Cox model uses (key variables × last/min/max/mean + age, gender, ICU type)."""
    return ([f"{v}_{s}" for v in KEY_VARIABLES for s in KEY_STATS] + [f"{v}_count" for v in KEY_VARIABLES]
            + ["desc_Age", "desc_Gender", "desc_ICUType", "desc_Weight", "hours_observed"])


def selected_columns() -> np.ndarray:
    """Indices of :func:`selected_features` in :func:`medai.timeline.features.feature_names`."""
    names = feature_names()
    return np.array([names.index(f) for f in selected_features()])


@dataclass
class CoxModel:
    """Standardise (median-impute, centre, scale, clip ±5) → linear predictor → survival curve.

    Attributes
    ----------
    median, center, scale : ndarray, shape (p,)
        Imputation and standardisation of the selected features.
    beta, mean : ndarray, shape (p,)
        Cox coefficients (per standardised unit) and the covariate mean lifelines centres at.
    days : ndarray, shape (d,)
        0..365.
    baseline : ndarray, shape (d,)
        Baseline cumulative hazard at ``days``.
    boosters : list
        Cross-fitted scikit-learn classifiers of death within a year on all summary features; their mean
        log-odds is the last covariate (``beta`` and ``mean`` are then one longer). Empty: no such covariate.
    """

    name: str
    version: str
    median: np.ndarray
    center: np.ndarray
    scale: np.ndarray
    beta: np.ndarray
    mean: np.ndarray
    days: np.ndarray
    baseline: np.ndarray
    boosters: list = field(default_factory=list)

    def design(self, features: np.ndarray) -> np.ndarray:
        """(n, p) covariates from (n, F) summary features: the standardised selected features, then (with
        boosters) their mean log-odds of death within a year."""
        features = np.asarray(features, dtype=float)
        x = features[:, selected_columns()]
        x = np.where(np.isnan(x), self.median, x)
        x = np.clip((x - self.center) / self.scale, -5, 5)
        if not self.boosters:
            return x
        return np.column_stack([x, booster_log_odds(self.boosters, features)])

    def log_hazard(self, features: np.ndarray) -> np.ndarray:
        """Linear predictor, shape (n,): higher = earlier death."""
        return (self.design(features) - self.mean) @ self.beta

    def curves(self, features: np.ndarray) -> np.ndarray:
        """Survival probability, shape (n, d), at :attr:`days`."""
        return np.exp(-np.outer(np.exp(self.log_hazard(features)), self.baseline))

    def curve(self, stay: Stay) -> tuple[np.ndarray, np.ndarray]:
        """(days, survival probability) of one stay from all its data, both shape (d,)."""
        return self.days, self.curves(summary_features(stay)[None, :])[0]


@single_threaded
def booster_log_odds(boosters: list, features: np.ndarray) -> np.ndarray:
    """Mean log-odds of death within a year over ``boosters``, shape (n,), from (n, F) summary features."""
    odds = [np.clip(booster.predict_proba(features)[:, 1], 1e-6, 1 - 1e-6) for booster in boosters]
    return np.mean([np.log(p / (1 - p)) for p in odds], axis=0)


def outcome(survival_days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(duration days, event 0/1), shape (n,) each, from PhysioNet ``Survival`` (see the module docstring)."""
    died = (survival_days >= 0) & (survival_days <= HORIZON_DAYS)
    return np.where(died, np.maximum(survival_days, 0.5), HORIZON_DAYS).astype(float), died.astype(int)


def load(spec: ModelSpec) -> CoxModel:
    """Build the model from a registry spec (files already verified)."""
    boosters = joblib.load(spec.path(BOOSTERS_FILE)) if BOOSTERS_FILE in spec.files else []
    with np.load(spec.path(ARRAYS_FILE)) as a:
        return CoxModel(spec.name, spec.version, a["median"], a["center"], a["scale"], a["beta"], a["mean"],
                        a["days"], a["baseline"], boosters)
