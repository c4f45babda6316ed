"""The shared diagnose path: one outcome per input, every one recorded, no identifiers stored."""

import hashlib

from medai.imaging.lung_focus import NO_LUNG_FIELDS
from medai.imaging.service import csv_columns, diagnose
from medai.store import AuditStore


def test_every_input_is_answered_and_recorded_without_its_name(samples, tmp_path):
    store = AuditStore(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    inputs = [("Smith_John.jpeg", (samples / "cxr_normal_NORMAL2-IM-1427-0001.jpeg").read_bytes()),
              ("broken.png", b"\x89PNG\r\n\x1a\n broken"),
              ("retina.jpg", (samples / "fundus_retina_CHASE_Image_01L.jpg").read_bytes())]
    outcomes = diagnose(inputs, "cxr-pneumonia", user="dr.x", source="python", store=store)
    assert [o.status for o in outcomes] == ["ok", "error", "refused"]
    records = sorted(store.recent_predictions(), key=lambda r: r.id)
    assert [r.id for r in records] == [o.record_id for o in outcomes]
    assert records[0].input_sha256 == outcomes[0].image.sha256 and records[0].model_version
    # A file that could not be read is still traceable by its bytes.
    assert records[1].input_sha256 == hashlib.sha256(inputs[1][1]).hexdigest() and records[1].status == "error"
    assert outcomes[1].row(("normal", "pneumonia"))["input_sha256"] == records[1].input_sha256
    assert all("Smith" not in str(vars(r)) for r in records)
    assert list(outcomes[1].row(("normal", "pneumonia"))) == csv_columns(("normal", "pneumonia"))


def test_fast_decode_without_heat_maps_agrees_with_the_full_decode(samples, tmp_path):
    store = AuditStore(f"sqlite:///{tmp_path / 'audit.sqlite'}")
    names = ["cxr_normal_NORMAL2-IM-1427-0001.jpeg", "cxr_pneumonia_person1946_bacteria_4874.jpeg"]
    inputs = [(name, (samples / name).read_bytes()) for name in names]
    fast = diagnose(inputs, "cxr-pneumonia", store=store)
    full = diagnose(inputs, "cxr-pneumonia", explain=True)
    for quick, slow in zip(fast, full):
        assert quick.image.stored_shape == slow.image.shape  # decoded at reduced scale, size as stored
        assert max(quick.image.shape) < max(slow.image.shape)
        assert quick.diagnosis.label == slow.diagnosis.label
        assert abs(quick.diagnosis.positive_probability - slow.diagnosis.positive_probability) < 0.02
    recorded = {r.id: r for r in store.recent_predictions()}
    for outcome, reference in zip(fast, full):
        metadata = recorded[outcome.record_id].input_metadata
        assert (metadata["height"], metadata["width"]) == reference.image.shape


def test_a_film_without_lung_fields_says_so_where_the_result_goes(samples, monkeypatch):
    monkeypatch.setattr("medai.imaging.service.lung_focus", lambda image, heatmap: (None, None))
    film = (samples / "cxr_pneumonia_person1946_bacteria_4874.jpeg").read_bytes()
    (outcome,) = diagnose([("film.jpeg", film)], "cxr-pneumonia", explain=True)
    assert outcome.status == "ok" and outcome.heat_in_lungs is None
    assert outcome.message.endswith(NO_LUNG_FIELDS)  # in the CSV, the PDF and on the page
    row = outcome.row(("normal", "pneumonia"))
    assert row["heat_in_lungs"] == "" and NO_LUNG_FIELDS in row["message"]


def test_a_film_given_twice_is_named_once_with_both_names():
    from types import SimpleNamespace

    from medai.imaging.service import repeated_images

    outcomes = [SimpleNamespace(image=object(), input_sha256="a", name="x.png"),
                SimpleNamespace(image=object(), input_sha256="a", name="y.png"),
                SimpleNamespace(image=object(), input_sha256="b", name="z.png")]
    assert repeated_images(outcomes) == [["x.png", "y.png"]]
