"""Similar stays: neighbours from the same ICU type at the nearest cut-off, a reference stay its own nearest
neighbour, local scaling that favours sparse reference stays, counts and the CLI."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from medai import registry
from medai.cli import main
from medai.timeline import similar
from medai.timeline.features import feature_matrix
from medai.timeline.sources import read_upload
from medai.timeline.service import SIMILAR_COLUMNS, find_similar
from tests.medai.timeline.conftest import SAMPLES, sample_stay

WARD = SAMPLES / "ward_set_a.csv"


@pytest.fixture(scope="module")
def stays() -> list:
    return [sample_stay(p.name) for p in sorted(SAMPLES.glob("*.txt"))] + read_upload(WARD.read_bytes(), WARD.name)


@pytest.fixture
def small(monkeypatch, stays) -> similar.SimilarStaysModel:
    """A reference of the 17 sample stays (3 to 5 of each ICU type), 2 components, 2 neighbours (fitted here)."""
    monkeypatch.setattr(similar, "COMPONENTS", 2)
    monkeypatch.setattr(similar, "NEIGHBOURS", 2)
    monkeypatch.setattr(similar, "RADIUS_NEIGHBOURS", 2)
    died = np.arange(len(stays)) % 2
    return similar.SimilarStaysModel().fit(stays, died, np.full(len(stays), -1.0), np.full(len(stays), 7.0))


def test_nearest_cutoff():
    assert [similar.nearest_cutoff(h) for h in (3, 17.9, 18.1, 47.5, 60)] == [12, 12, 24, 48, 48]


def test_a_reference_stay_is_not_its_own_neighbour_and_neighbours_share_its_icu_type(small, stays):
    full = [s for s in stays if s.hours > 47]
    marks = np.array([similar.fingerprint(s) for s in full])
    chosen, _ = small.neighbours(feature_matrix(full), 48.0, marks)
    types = similar.icu_type(feature_matrix(full))
    for stay, row, unit in zip(full, chosen, types):
        assert not any(stays[i] is stay for i in row), "the patient's own stay would count its own outcome"
        assert (small.icu_type_[row] == unit).all()
    without_marks, distance = small.neighbours(feature_matrix(full), 48.0)
    assert all(stays[row[0]] is stay for stay, row in zip(full, without_marks)), "unmarked, itself is nearest"


def test_a_stay_digests_alike_from_its_physionet_file_and_as_a_long_csv():
    written = read_upload((SAMPLES / "long_format_132540.csv").read_bytes(), "long.csv")[0]
    assert similar.fingerprint(written) == similar.fingerprint(sample_stay("132540.txt"))
    assert similar.fingerprint(written) != similar.fingerprint(sample_stay("132539.txt"))


def test_an_unknown_icu_type_draws_from_every_type(small, stays):
    features = feature_matrix(stays[:1])
    features[:, similar.feature_names().index("desc_ICUType")] = np.nan
    assert similar.icu_type(features)[0] == similar.UNKNOWN_ICU
    chosen, _ = small.neighbours(features, 48.0)
    assert len(chosen[0]) == 2


def test_local_scaling_moves_neighbours_towards_sparse_reference_stays(small, stays):
    features = feature_matrix(stays)
    plain, _ = small.neighbours(features, 24.0)
    small.local_scaling_ = 1.0
    scaled, _ = small.neighbours(features, 24.0)
    radius = small.radius_[similar.CUTOFFS_H.index(24.0)]
    assert radius[scaled].mean() >= radius[plain].mean()


def test_shipped_model_counts_and_audit(stays):
    answers = registry.load("icu-similar-stays").predict(stays[:3])
    for stay, answer in zip(stays, answers):
        assert answer.stays == similar.NEIGHBOURS and 0 <= answer.died_in_hospital <= answer.stays
        assert 0 <= answer.alive_at_1_year <= answer.stays and answer.cutoff_h == 48.0
        low, high = answer.died_ci95
        assert low <= answer.died_in_hospital / answer.stays <= high
        low, high = answer.alive_ci95
        assert low <= answer.alive_at_1_year / answer.stays <= high
        assert 0 <= answer.distance_percentile <= 100
    result = next(find_similar([stays[0]]))
    assert result.status in ("ok", "flagged") and result.similar is not None


def test_cli_similar(tmp_path):
    folder = tmp_path / "stays"
    folder.mkdir()
    (folder / "000000.txt").write_bytes(b"not a physionet file\n")  # a bad file in a folder: an error row
    out = tmp_path / "similar.csv"
    assert main(["timeline", "similar", str(WARD), str(folder), "--output", str(out), "--quiet"]) == 1
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == SIMILAR_COLUMNS and len(rows) == 13
    assert all(r["similar_stays"] == "50" for r in rows[:12]) and rows[-1]["status"] == "error"


def test_shipped_reference_reproduces_its_card_on_validation():
    """The card's 48-hour ROC-AUC and mean death share come back from the shipped arrays on the validation stays."""
    from sklearn.metrics import roc_auc_score

    from medai import config
    from medai.timeline.datasets import development_data
    from medai.timeline.train_mortality import split

    if not (config.data_dir() / "timeline" / "physionet2012").is_dir():
        pytest.skip("PhysioNet 2012 sets not available (MEDAI_DATA_DIR)")
    model = registry.load("icu-similar-stays")
    stays, data = development_data()
    _, validation = split(data["death"])
    features = feature_matrix([stays[i] for i in validation], [48.0] * len(validation))
    chosen, _ = model.neighbours(features, 48.0)
    share = model.died_[chosen].mean(axis=1)
    card = registry.card("icu-similar-stays")["metrics"]["validation"]["by_cutoff"]["48_h"]
    assert roc_auc_score(data["death"][validation], share) == pytest.approx(card["roc_auc"], abs=1e-3)
    assert share.mean() == pytest.approx(card["mean_share_died"], abs=1e-3)


def _observed_stay():
    rows = "".join(f"a,{h},{v},{x}\n" for h in range(0, 30, 2) for v, x in
                   (("HR", 95), ("Temp", 37.8), ("RespRate", 22), ("NISysABP", 105), ("NIDiasABP", 60),
                    ("NIMAP", 75), ("GCS", 14), ("FiO2", 0.4), ("SaO2", 95), ("Urine", 40)))
    (stay,) = read_upload(("patient_id,time,variable,value\n" + rows).encode(), "stay.csv")
    return stay


def test_physionet_survival_minus_one_counts_as_alive_at_a_year(monkeypatch):
    model = registry.load("icu-similar-stays")
    monkeypatch.setattr(model, "survival_days_", np.full(len(model.survival_days_), -1.0))
    (answer,) = model.predict([_observed_stay()])
    assert answer.alive_at_1_year == answer.stays


def test_neighbours_unlike_most_stays_flag_the_result(monkeypatch):
    from medai.timeline import service

    model = registry.load("icu-similar-stays")
    monkeypatch.setattr(model, "typical_distance_", np.zeros_like(model.typical_distance_))  # every one is far
    monkeypatch.setattr(service, "sufficiency", lambda stay: [])
    monkeypatch.setattr(service, "too_little_data", lambda stay: [])
    (result,) = find_similar([_observed_stay()])
    assert result.similar.unlike_most and result.status == "flagged" and "Unlike most stays" in result.message
