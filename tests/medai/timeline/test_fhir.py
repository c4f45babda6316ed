"""FHIR R4 Bundle reader: LOINC mapping from the table, UCUM units, a malformed Observation named, the rest read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from medai.errors import InputError
from medai.timeline.sources import read_upload

pytest.importorskip("fhir.resources")


def _observation(number: int, loinc: str, value, unit: str, when: str, patient: str = "p1") -> dict:
    return {"resource": {"resourceType": "Observation", "id": f"o{number}", "status": "final",
                         "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
                         "subject": {"reference": f"Patient/{patient}"}, "effectiveDateTime": when,
                         "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org",
                                           "code": unit}}}


def test_bundle_of_observations():
    entries = [{"resource": {"resourceType": "Patient", "id": "p1", "gender": "male"}},
               _observation(1, "8867-4", 88, "/min", "2024-05-01T10:00:00Z"),
               _observation(2, "8867-4", 96, "/min", "2024-05-01T12:30:00Z"),
               _observation(3, "8310-5", 38.2, "Cel", "2024-05-01T11:00:00Z"),
               _observation(4, "8310-5", 100.4, "[degF]", "2024-05-01T11:30:00Z"),
               _observation(5, "99999-9", 1, "1", "2024-05-01T11:00:00Z"),
               {"resource": {"resourceType": "Observation", "id": "bad", "status": "not-a-status",
                             "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                             "subject": {"reference": "Patient/p1"}}}]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    (stay,) = read_upload(json.dumps(bundle).encode(), "bundle.json")
    assert stay.patient_id == "p1" and stay.descriptors["Gender"] == 1
    times, values = stay.series("HR")
    assert list(times) == [0.0, 2.5] and list(values) == [88, 96]
    assert np.allclose(stay.series("Temp")[1], [38.2, 38.0])  # 100.4 [degF] converted
    assert stay.converted == ("Temperature: 1 value read in °F, converted to °C",)
    assert not any("[degF]" in p for p in stay.problems)
    assert any("Observation/bad" in p for p in stay.problems)
    assert stay.unknown == {"LOINC 99999-9": 1}


def test_age_from_the_patient_birth_date_unless_an_age_observation_gives_it():
    entries = [{"resource": {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1940-01-01"}},
               _observation(1, "8867-4", 88, "/min", "2024-05-01T10:00:00Z")]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    (stay,) = read_upload(json.dumps(bundle).encode(), "bundle.json")
    assert stay.descriptors["Age"] == pytest.approx(84.3, abs=0.05)
    entries.append(_observation(2, "30525-0", 70, "a", "2024-05-01T10:00:00Z"))  # an Age observation wins
    (stay,) = read_upload(json.dumps(bundle).encode(), "bundle.json")
    assert stay.descriptors["Age"] == 70


def test_not_a_bundle():
    with pytest.raises(InputError, match="Bundle"):
        read_upload(b'{"resourceType": "Patient"}', "x.json")
    with pytest.raises(InputError, match="JSON"):
        read_upload(b"{not json", "x.json")
    with pytest.raises(InputError, match="not a FHIR Bundle"):  # it was told "The CSV lacks the columns …"
        read_upload(b"not json at all", "broken.json")
    with pytest.raises(InputError, match="not a PhysioNet 2012 file"):
        read_upload(b"hello world\n1,2", "notes.txt")


def test_a_malformed_patient_is_named_and_the_observations_still_read():
    entries = [{"resource": {"resourceType": "Patient", "id": "p1", "birthDate": "not-a-date"}},
               _observation(1, "8867-4", 88, "/min", "2024-05-01T10:00:00Z")]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    (stay,) = read_upload(json.dumps(bundle).encode(), "bundle.json")
    assert any(p.startswith("entry 1 (Patient/p1)") for p in stay.problems)
    assert stay.series("HR")[1].tolist() == [88]
