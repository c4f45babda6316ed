"""PhysioNet 2012 development data: each stay carries its own set's outcomes (skipped without the shared sets)."""

import pytest

from medai import config
from medai.timeline.datasets import development_data, outcomes


def test_development_arrays_follow_each_stays_own_outcomes_row():
    if not (config.data_dir() / "timeline" / "physionet2012").is_dir():
        pytest.skip("PhysioNet 2012 sets not available (MEDAI_DATA_DIR)")
    stays, data = development_data()
    tables = {name: outcomes(name) for name in ("a", "b")}
    for i in (0, 1, len(stays) - 1):
        row = tables[data["set"][i]][stays[i].patient_id]
        assert data["saps"][i] == row["SAPS-I"] and data["death"][i] == row["In-hospital_death"]
    assert data["set"][0] == "a" and data["set"][-1] == "b"
