"""The one path the Timeline page, ``python -m medai timeline`` and Python callers take.

stays (or read errors) → features → registry models → result dataclasses (status ``ok`` / ``flagged``
/ ``refused`` (a forecast or comparison with nothing to start from) / ``error`` (a file that cannot be
read), message) → one audit record per patient and model, keyed by the SHA-256 of the
patient's data as the models saw it (never the patient id).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Callable, Iterable, Iterator, TypeVar

import numpy as np

from medai import registry
from medai.cards import outcomes_in_bin
from medai.errors import MedAIError
from medai.store import AuditStore
from medai.timeline.forecast import MAX_HORIZON, Forecast, not_forecast
from medai.timeline.io import Stay
from medai.timeline.mortality import sufficiency, too_little_data
from medai.timeline.news2 import PARAMETERS as NEWS2_PARAMETERS
from medai.timeline.news2 import News2Series, news2
from medai.timeline.similar import SimilarStays
from medai.timeline.vocabulary import table_row

RISK_MODEL, FORECAST_MODEL, SURVIVAL_MODEL = "icu-mortality", "icu-vitals-forecast", "icu-survival"
SIMILAR_MODEL = "icu-similar-stays"
RISK_COLUMNS = ["patient_id", "mortality_risk", "news2_max", "news2_last", "news2_not_recorded", "status", "message"]
# ``time``: hours since admission; ``unit``: of p10 / p50 / p90 (the variable's, ``variables.csv``).
FORECAST_COLUMNS = ["patient_id", "variable", "hours_ahead", "time", "p10", "p50", "p90", "status", "message", "unit"]
# Counts among the NEIGHBOURS training stays most like the patient (``medai.timeline.similar``).
SIMILAR_COLUMNS = ["patient_id", "cutoff_h", "icu_type", "similar_stays", "died_in_hospital", "died_in_hospital_ci95",
                   "alive_at_1_year", "survivors_stay_days_median", "survivors_stay_days_iqr", "distance_percentile",
                   "status", "message"]
BATCH = 256
T = TypeVar("T")
MODELS_DISAGREE_BY = 0.05  # survival at a year above the chance of leaving hospital alive by more than this
Item = Stay | tuple[str, MedAIError]


def stay_hash(stay: Stay) -> str:
    """SHA-256 of the stay's observations and descriptors (what the models see; no identifier). A stay with no
    usable observation adds why (its reading problems, unknown variables): otherwise every unreadable file would
    carry one and the same hash in the audit trail."""
    data = stay.canonical_bytes()
    if not len(stay.time):
        data += "\n".join([*stay.problems, *(f"{k}={v}" for k, v in sorted(stay.unknown.items()))]).encode()
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class RiskResult:
    """One patient's mortality risk and NEWS2, or why there is none.

    Attributes
    ----------
    mortality_risk : float or None
        Calibrated probability of in-hospital death (0–1).
    news2_max, news2_last : int or None
        NEWS2 (points, 0–20): maximum over the hourly series, and at the last hour.
    news2_not_recorded : tuple of str
        NEWS2 parameters with no observation for the last score (each scored 0, as if normal).
    news2_single_three : bool
        One parameter of the last score scored 3 (the RCP's "red score": an urgent ward-based response
        whatever the total).
    status : str
        ``ok``, ``flagged`` (a number is given but the data are thin or had problems; see ``message``) or ``error``.
    record_id : int or None
        Id of the audit record, when a store was given.
    """

    patient_id: str
    status: str
    message: str
    mortality_risk: float | None = None
    news2_max: int | None = None
    news2_last: int | None = None
    news2_not_recorded: tuple[str, ...] = ()
    news2_single_three: bool = False
    input_sha256: str = ""
    record_id: int | None = None

    @property
    def news2_sparse(self) -> bool:
        """More than half of NEWS2's parameters unrecorded: each scores 0, as if normal, so the score means little."""
        return len(self.news2_not_recorded) > len(NEWS2_PARAMETERS) / 2

    def row(self) -> dict[str, object]:
        """One CSV row (:data:`RISK_COLUMNS`); NEWS2 blank when most of its parameters were not recorded."""
        sparse = self.news2_sparse and self.news2_last is not None
        message = " ".join(filter(None, ["NEWS2 not given: most of its parameters were not recorded." if sparse
                                         else "", self.message]))
        return {"patient_id": self.patient_id, "status": self.status, "message": message,
                "mortality_risk": "" if self.mortality_risk is None else round(self.mortality_risk, 4),
                "news2_max": "" if self.news2_max is None or sparse else self.news2_max,
                "news2_last": "" if self.news2_last is None or sparse else self.news2_last,
                "news2_not_recorded": "; ".join(self.news2_not_recorded)}


@dataclass(frozen=True)
class ForecastResult:
    """One patient's forecasts from the end of the data, or why there are none (``refused``: no recent vital
    sign to start from; ``error``: the file could not be read)."""

    patient_id: str
    status: str
    message: str
    forecasts: tuple[Forecast, ...] = ()
    input_sha256: str = ""
    record_id: int | None = None

    def rows(self) -> list[dict[str, object]]:
        """CSV rows (:data:`FORECAST_COLUMNS`); one row with blanks when there is no forecast."""
        if not self.forecasts:
            return [{"patient_id": self.patient_id, "status": self.status, "message": self.message}]
        return [{"patient_id": self.patient_id, "variable": f.variable, "hours_ahead": f.hours_ahead,
                 "time": round(f.time, 3), "p10": round(f.p10, 2), "p50": round(f.p50, 2), "p90": round(f.p90, 2),
                 "status": self.status, "message": self.message, "unit": table_row(f.variable).unit}
                for f in self.forecasts]


def _batches(items: Iterable[Item], size: int = BATCH) -> Iterator[list[Item]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _record(store: AuditStore | None, name: str, digest: str, status: str, message: str, user: str, source: str,
            label: str | None = None, probabilities: dict[str, float] | None = None,
            duration_ms: float | None = None) -> int | None:
    """Record one answer (with the model's weights digest and the model's time for it, in ms); its id, or
    None without a store."""
    if store is None:
        return None
    spec = registry.get_spec(name)
    return store.record_prediction(user=user, source=source, model_name=spec.name, model_version=spec.version,
                                   input_sha256=digest or None, status=status, label=label,
                                   probabilities=probabilities, weights_sha256=registry.weights_digest(spec),
                                   output_summary={"status": status, "message": message[:500]},
                                   duration_ms=duration_ms)


def _timed(work: Callable[[], T], count: int) -> tuple[T, float]:
    """``work()`` and its wall-clock time in ms shared over ``count`` stays (each stay's audit duration)."""
    began = time.perf_counter()
    done = work()
    return done, (time.perf_counter() - began) * 1000 / max(1, count)


def assess_risk(items: Iterable[Item], *, user: str = "anonymous", source: str = "python",
                store: AuditStore | None = None, progress: Callable[[int], None] | None = None
                ) -> Iterator[RiskResult]:
    """Mortality risk and NEWS2 of each stay, in input order (a generator: rows stream out in batches).

    A read error, or a stay with neither an observation nor a descriptor, becomes an ``error`` result; thin data
    (see :func:`medai.timeline.mortality.sufficiency`) a ``flagged`` one with the reasons in ``message``.
    """
    model = registry.load(RISK_MODEL)
    for batch in _batches(items):
        usable = [item for item in batch if isinstance(item, Stay) and _assessable(item)]
        risks, share_ms = _timed(lambda: dict(zip(map(id, usable), model.predict(usable))) if usable else {},
                                 len(usable))
        for item in batch:
            if not isinstance(item, Stay):
                result = RiskResult(item[0], "error", str(item[1]))
            elif id(item) not in risks:
                more = item.problem_count - 1
                why = f" ({item.problems[0]}" + (f"; and {more} more)" if more else ")") if item.problems else ""
                result = RiskResult(item.patient_id, "error", f"No usable observation in this stay{why}.",
                                    input_sha256=stay_hash(item))
            else:
                series = news2(item)
                notes = sufficiency(item)
                said = [("Read with care: " + "; ".join(notes) + ".") if notes else "",
                        ("Units converted: " + "; ".join(item.converted) + ".") if item.converted else "",
                        ("Names read: " + "; ".join(item.renamed) + ".") if item.renamed else "",
                        (item.date_order[0].upper() + item.date_order[1:] + ".") if item.date_order else ""]
                result = RiskResult(item.patient_id, "flagged" if notes else "ok", " ".join(filter(None, said)),
                                    float(risks[id(item)]), series.maximum, series.last,
                                    tuple(series.unrecorded_now()), series.single_three_now(), stay_hash(item))
            record_id = _record(store, RISK_MODEL, result.input_sha256, result.status, result.message, user, source,
                                # In per cent, as the pages say it (the audit log's P(…) column keeps 0-1)
                                None if result.mortality_risk is None else f"risk {100 * result.mortality_risk:.1f} %",
                                None if result.mortality_risk is None else {"died_in_hospital": result.mortality_risk},
                                share_ms if id(item) in risks else None)
            yield replace(result, record_id=record_id)
        if progress:
            progress(len(batch))


def forecast_all(items: Iterable[Item], horizon: int = MAX_HORIZON, *, user: str = "anonymous",
                 source: str = "python", store: AuditStore | None = None,
                 progress: Callable[[int], None] | None = None) -> Iterator[ForecastResult]:
    """Forecasts for hours 1..``horizon`` from each stay's latest timestamp, in input order.

    Raises
    ------
    MedAIError
        ``horizon`` is not within 1..6 h.
    """
    if not 1 <= horizon <= MAX_HORIZON:
        raise MedAIError(f"The forecast horizon must be 1 to {MAX_HORIZON} hours.")
    model = registry.load(FORECAST_MODEL)
    for batch in _batches(items):
        usable = [item for item in batch if isinstance(item, Stay) and len(item.time)]
        predicted, share_ms = _timed(lambda: dict(zip(map(id, usable), model.forecast_many(usable, horizon)))
                                     if usable else {}, len(usable))
        for item in batch:
            if not isinstance(item, Stay):
                result = ForecastResult(item[0], "error", str(item[1]))
            elif predicted.get(id(item)):
                thin, missing = too_little_data(item), not_forecast(item)
                said = [f"Too little data to forecast from: {'; '.join(thin)}; read these as rough guesses."
                        if thin else "", f"Not forecast: {', '.join(missing)}." if missing else ""]
                result = ForecastResult(item.patient_id, "flagged" if thin or missing else "ok",
                                        " ".join(filter(None, said)), tuple(predicted[id(item)]), stay_hash(item))
            else:
                result = ForecastResult(item.patient_id, "refused", "Nothing to forecast: no recent HR, RespRate, "
                                        "Temp, blood pressure or MAP observation.", input_sha256=stay_hash(item))
            record_id = _record(store, FORECAST_MODEL, result.input_sha256, result.status, result.message, user,
                                source, f"{len(result.forecasts)} forecast points" if result.forecasts else None,
                                duration_ms=share_ms if result.forecasts else None)
            yield replace(result, record_id=record_id)
        if progress:
            progress(len(batch))


@dataclass(frozen=True)
class SimilarResult:
    """What happened to the training stays most like one patient, or why there is no answer."""

    patient_id: str
    status: str
    message: str
    similar: SimilarStays | None = None
    input_sha256: str = ""
    record_id: int | None = None

    def row(self) -> dict[str, object]:
        """One CSV row (:data:`SIMILAR_COLUMNS`)."""
        return {"patient_id": self.patient_id, **(self.similar.row() if self.similar else {}),
                "status": self.status, "message": self.message}


def _assessable(stay: Stay) -> bool:
    """Whether a risk can be given at all: an observation, or at least a descriptor (age, sex, ICU type…).
    From descriptors alone it is a rough guess, and flagged so (10 of the 8,000 training stays had nothing else)."""
    return bool(len(stay.time)) or any(np.isfinite(value) for value in stay.descriptors.values())


def find_similar(items: Iterable[Item], *, user: str = "anonymous", source: str = "python",
                 store: AuditStore | None = None, progress: Callable[[int], None] | None = None
                 ) -> Iterator[SimilarResult]:
    """The training stays most like each stay and what happened to them, in input order; thin data or
    neighbours unlike most make the result ``flagged``."""
    model = registry.load(SIMILAR_MODEL)
    for batch in _batches(items):
        usable = [item for item in batch if isinstance(item, Stay) and len(item.time)]
        found, share_ms = _timed(lambda: dict(zip(map(id, usable), model.predict(usable))), len(usable))
        for item in batch:
            if not isinstance(item, Stay):
                result = SimilarResult(item[0], "error", str(item[1]))
            elif id(item) not in found:
                result = SimilarResult(item.patient_id, "refused", "No observation to compare with other stays.",
                                       input_sha256=stay_hash(item))
            else:
                similar, thin, notes = found[id(item)], too_little_data(item), sufficiency(item)
                said = ["Alike only in what little was measured." if thin else "",
                        ("Read with care: " + "; ".join(notes) + ".") if notes else "",
                        "Unlike most stays: the nearest lie further than for 95 % of validation stays."
                        if similar.unlike_most else ""]
                result = SimilarResult(item.patient_id, "flagged" if notes or similar.unlike_most else "ok",
                                       " ".join(filter(None, said)), similar, stay_hash(item))
            summary = result.similar and f"{result.similar.died_in_hospital} of {result.similar.stays} similar stays died"
            record_id = _record(store, SIMILAR_MODEL, result.input_sha256, result.status, result.message, user, source,
                                summary or None, duration_ms=share_ms if result.similar else None)  # a count: no P
            yield replace(result, record_id=record_id)
        if progress:
            progress(len(batch))


@dataclass(frozen=True)
class TimelineView:
    """Everything the Timeline page draws for one patient.

    Attributes
    ----------
    risk : RiskResult
    news2 : News2Series
    risk_hours, risk_curve : ndarray, shape (t,)
        Whole hours and the risk from the data up to each.
    drivers : list of (variable, change in risk)
        Occlusion: risk with all data minus risk without that variable, largest first.
    forecasts : tuple of Forecast
    forecast_rows : list of dict
        The forecast as ``timeline forecast`` writes it (:data:`FORECAST_COLUMNS`, with status and message).
    survival_days, survival : ndarray, shape (d,)
        Days since admission and survival probability (empty when the model is not installed).
    record_ids : dict
        Model name → audit record id, when a store was given (for clinician feedback).
    risk_evidence : dict or None
        How often validation stays scored in the same tenth as this risk died, with a 95 % interval
        (:func:`medai.cards.outcomes_in_bin`); None without a risk.
    survival_evidence : dict or None
        The same for death within a year against the survival model's ``1 - survival[-1]``.
    similar : SimilarStays or None
        What happened to the training stays most like this one (None when that model is not installed).
    unavailable : dict
        Optional model (survival, similar stays) → why it could not be used (a damaged install), so that
        the rest of the view still stands.
    """

    stay: Stay
    risk: RiskResult
    news2: News2Series
    risk_hours: np.ndarray
    risk_curve: np.ndarray
    drivers: list[tuple[str, float]]
    forecasts: tuple[Forecast, ...]
    survival_days: np.ndarray = field(default_factory=lambda: np.zeros(0))
    survival: np.ndarray = field(default_factory=lambda: np.zeros(0))
    record_ids: dict[str, int] = field(default_factory=dict)
    risk_evidence: dict | None = None
    survival_evidence: dict | None = None
    similar: SimilarStays | None = None
    unavailable: dict[str, str] = field(default_factory=dict)
    forecast_rows: list[dict[str, object]] = field(default_factory=list)

    @property
    def disagreement(self) -> str:
        """A plain warning when the survival model's 1-year survival exceeds the chance of leaving
        hospital alive by the mortality model (both cannot hold); '' when they fit."""
        if not len(self.survival) or self.risk.mortality_risk is None:
            return ""
        alive_at_year, leaves_alive = float(self.survival[-1]), 1.0 - self.risk.mortality_risk
        if alive_at_year <= leaves_alive + MODELS_DISAGREE_BY:
            return ""
        return (f"The two models disagree: {RISK_MODEL} gives a {100 * leaves_alive:.0f} % chance of leaving "
                f"hospital alive, {SURVIVAL_MODEL} a {100 * alive_at_year:.0f} % chance of being alive at a year, which cannot "
                f"both hold. They are separate models of different outcomes (death in hospital; death within a "
                f"year): read both as rough for this patient.")


def _optional(name: str, unavailable: dict[str, str]):
    """An optional model of the view, loaded; None when not installed, or when damaged (why in ``unavailable``:
    an optional panel never takes the rest of the view down)."""
    if name not in registry.names():
        return None
    try:
        return registry.load(name)
    except MedAIError as exc:
        unavailable[name] = str(exc)
        return None


def timeline(stay: Stay, *, user: str = "anonymous", source: str = "python",
             store: AuditStore | None = None) -> TimelineView:
    """Risk (with its hourly curve and drivers), NEWS2, forecasts and survival of one stay; audited once per model."""
    risk = next(assess_risk([stay], user=user, source=source, store=store))
    model = registry.load(RISK_MODEL)
    if risk.status == "error":
        return TimelineView(stay, risk, news2(stay), np.zeros(0), np.zeros(0), [], (),
                            record_ids={RISK_MODEL: risk.record_id} if risk.record_id is not None else {})
    hours, curve = model.risk_curve(stay)
    forecast = next(forecast_all([stay], user=user, source=source, store=store))
    record_ids = {RISK_MODEL: risk.record_id, FORECAST_MODEL: forecast.record_id}
    days, survival, survival_evidence, unavailable = np.zeros(0), np.zeros(0), None, {}
    if (survival_model := _optional(SURVIVAL_MODEL, unavailable)) is not None:
        (days, survival), took_ms = _timed(lambda: survival_model.curve(stay), 1)
        survival_evidence = outcomes_in_bin(1.0 - float(survival[-1]),
                                            registry.card(SURVIVAL_MODEL)["curves"]["reliability"])
        survival_record = _record(store, SURVIVAL_MODEL, risk.input_sha256, risk.status, risk.message, user, source,
                                  f"1-year survival {100 * survival[-1]:.0f} %", {"survival_365d": float(survival[-1])},
                                  took_ms)
        record_ids[SURVIVAL_MODEL] = survival_record
    similar = None
    if _optional(SIMILAR_MODEL, unavailable) is not None:
        found = next(find_similar([stay], user=user, source=source, store=store))
        similar, record_ids[SIMILAR_MODEL] = found.similar, found.record_id
    evidence = outcomes_in_bin(risk.mortality_risk, registry.card(RISK_MODEL)["curves"]["reliability"])
    return TimelineView(stay, risk, news2(stay), hours, curve, model.occlusion(stay), forecast.forecasts, days,
                        survival, {k: v for k, v in record_ids.items() if v is not None}, evidence, survival_evidence,
                        similar, unavailable, forecast.rows())
