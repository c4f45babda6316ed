"""FHIR R4 ``Bundle`` (JSON) of ``Observation`` resources → stays, read with the ``fhir.resources`` library.

Each entry is validated on its own (``fhir.resources`` pydantic models), so one malformed resource
gets a message naming it (entry number and id) and the rest of the bundle is still read.
Observations map to variables by LOINC code (``loinc`` column of ``variables.csv``/``descriptors.csv``,
system ``http://loinc.org``); the value is ``valueQuantity.value`` and its ``unit``/``code`` must be the
table's UCUM unit (``ucum`` column), its display unit, or one ``units.csv`` converts from. Time is
``effectiveDateTime`` (or ``effectivePeriod.start``), counted in hours from the patient's earliest
observation. The patient is the ``subject`` reference (``Patient/<id>``). ``Patient`` resources give
Gender, and Age from ``birthDate`` (years at the earliest observation) where no Age observation does;
other resource types are counted as unknown.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from typing import Any

from medai.errors import InputError, InputTooLargeError
from medai.timeline.io import MAX_FILE_BYTES, MAX_STAYS, Stay, _Builder
from medai.timeline.vocabulary import descriptors, variables

LOINC = "http://loinc.org"


def _by_loinc() -> dict[str, str]:
    table = {**variables(), **descriptors()}
    return {v.loinc: name for name, v in table.items() if v.loinc}


def _error_text(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0] if errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return f"{where}: {first.get('msg', 'invalid')}"[:120]
    return type(exc).__name__


def _add_age(target: _Builder, number: int, born: dt.date) -> None:
    """The age (years) at the patient's earliest timed observation, from ``Patient.birthDate``, unless an Age
    observation gave it; read like any Age row (so an implausible one is set aside and named)."""
    stamps = [when for when, _, _ in target.rows if isinstance(when, dt.datetime)]
    if "Age" in target.desc or not stamps:
        return
    first = min(stamps)
    years = (first.date() - born).days / 365.25
    target.add(number, first.isoformat(), "Age", f"{years:.1f}")


def read_bundle(data: bytes) -> list[Stay]:
    """Stays of a FHIR R4 Bundle of Observations, in order of first appearance.

    Raises
    ------
    InputError
        Not JSON, not a Bundle, too large, or holding no Observation at all.
    """
    from fhir.resources.observation import Observation
    from fhir.resources.patient import Patient

    if len(data) > MAX_FILE_BYTES:
        raise InputTooLargeError(f"The file is larger than {MAX_FILE_BYTES // 2**20} MB.")
    try:
        bundle: Any = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError("The file is not valid JSON.") from exc
    except RecursionError as exc:  # e.g. 100,000 nested brackets: no Bundle nests that deep
        raise InputError("The JSON is nested too deeply to be a FHIR Bundle.") from exc
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise InputError("The JSON is not a FHIR Bundle (resourceType must be 'Bundle').")
    codes = _by_loinc()
    builders: dict[str, _Builder] = {}
    births: dict[str, tuple[int, dt.date]] = {}  # patient → (entry number, birth date)
    orphans: list[str] = []

    def builder(patient: str) -> _Builder:
        if patient not in builders:
            if len(builders) >= MAX_STAYS:
                raise InputTooLargeError(f"The bundle holds more than {MAX_STAYS:,} patients.")
            builders[patient] = _Builder(patient)
        return builders[patient]

    for number, entry in enumerate(bundle.get("entry") or [], start=1):
        raw = entry.get("resource") if isinstance(entry, dict) else None
        kind = raw.get("resourceType") if isinstance(raw, dict) else None
        label = f"entry {number}" + (f" ({kind}/{raw.get('id')})" if kind and raw.get("id") else "")
        if kind == "Patient":
            try:
                patient = Patient.model_validate(raw)
            except Exception as exc:  # pydantic.ValidationError and friends
                orphans.append(f"{label}: {_error_text(exc)}")
                continue
            if patient.gender in ("male", "female"):
                builder(patient.id or f"entry-{number}").add(number, "0", "Gender",
                                                             "1" if patient.gender == "male" else "0")
            if patient.birthDate:
                births[patient.id or f"entry-{number}"] = (number, patient.birthDate)
            continue
        if kind != "Observation":
            continue
        subject = ((raw.get("subject") or {}).get("reference") or "").removeprefix("Patient/") or "unknown"
        target = builder(subject)
        try:
            observation = Observation.model_validate(raw)
        except Exception as exc:
            target.problem(number, f"{label} is not a valid Observation ({_error_text(exc)})")
            continue
        code = next((c.code for c in (observation.code.coding or []) if c.system == LOINC and c.code), None)
        name = codes.get(code or "")
        if name is None:
            target.unknown[f"LOINC {code}" if code else "uncoded Observation"] = \
                target.unknown.get(f"LOINC {code}" if code else "uncoded Observation", 0) + 1
            continue
        when = observation.effectiveDateTime or (observation.effectivePeriod.start if observation.effectivePeriod
                                                 else None)
        quantity = observation.valueQuantity
        if when is None or quantity is None or quantity.value is None:
            target.problem(number, f"{label} has no effective time or no valueQuantity")
            continue
        unit = quantity.code or quantity.unit or ""
        stamp = when.isoformat() if hasattr(when, "isoformat") else str(when)
        target.add(number, stamp, name, str(quantity.value), unit)
    if not builders:
        raise InputError("The Bundle holds no Observation or Patient resource.")
    for patient, (number, born) in births.items():
        _add_age(builders[patient], number, born)
    stays = [b.build() for b in builders.values()]
    if orphans:
        first = stays[0]
        stays[0] = replace(first, problems=first.problems + tuple(orphans))
    return stays
