"""The Ward overview through AppTest: the sample ward ranked and audited once per patient, uploads with a
thin and an unreadable file listed apart, and a patient handed over to the Patient timeline page."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from medai.store import AuditStore
from medai.timeline.ward import RESPONSES
from tests.conftest import REPO

TIMEOUT = 240
SAMPLE_WARD = REPO / "sample_data" / "timeline" / "ward_set_a.csv"


@pytest.fixture
def ward_page() -> AppTest:
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    app.run()
    app.switch_page("pages/ward.py").run()
    assert not app.exception
    # A visit alone ranks nobody (nothing recorded); then the sample ward is chosen.
    assert _records() == 0 and not app.dataframe and any("Pick the sample ward" in i.value for i in app.info)
    app.radio[0].set_value("Sample ward").run()
    assert not app.exception
    return app


def _records() -> int:
    return len(AuditStore().recent_predictions(limit=1000))


def test_sample_ward_is_ranked_by_risk_and_recorded_once(ward_page):
    assert ward_page.title[0].value == "Ward overview"
    table = ward_page.dataframe[0].value
    assert list(table["rank"]) == list(range(1, 13))
    risks = list(table["risk of death in hospital"])
    assert risks == sorted(risks, reverse=True) and 0 < min(risks) and max(risks) < 100
    assert set(table["NEWS2 response"]) <= {"", *RESPONSES.values()}
    # Every RCP response above 0 is counted in the summary, a registered nurse's assessment too.
    nurse = sum(table["NEWS2 response"] == RESPONSES["nurse"])
    summary = next(m.value for m in ward_page.markdown if "patients ranked" in m.value)
    assert (f"nurse assessment **{nurse}**" in summary) == bool(nurse)
    assert any(c.value.startswith("How sure: in validation") and "with 12 h of data" in c.value
               for c in ward_page.caption)
    ranked = [e for e in ward_page.session_state["ward_entries"] if e.rank is not None]
    assert risks == pytest.approx([100 * e.risk.mortality_risk for e in ranked])  # per cent, not a fraction
    assert _records() == 12
    ward_page.run()  # a rerun draws again without recording again
    assert _records() == 12


def test_uploads_thin_and_unreadable_patients_are_listed_apart(ward_page):
    ward_page.radio[0].set_value("Upload files").run()
    thin = "\n".join(["patient_id,time,variable,value"] + [f"thin,{h},HR,{80 + h}" for h in range(3)])
    ward_page.file_uploader[0]._files = [("f1", "ward.csv", SAMPLE_WARD.read_bytes(), "text/csv"),
                                         ("f2", "thin.csv", thin.encode(), "text/csv"),
                                         ("f3", "bad.csv", b"a,b\n1,2\n", "text/csv")]
    ward_page.run()
    assert not ward_page.exception
    assert any(w.value.startswith("Not ranked") for w in ward_page.warning)
    ranked, apart = ward_page.dataframe[0].value, ward_page.dataframe[1].value
    assert len(ranked) == 12 and list(apart["patient"]) == ["thin", "bad.csv"]
    assert apart["notes"][0].startswith("Not ranked (too little data). NEWS2 not given: most of its parameters were "
                                        "not recorded. Read with care: only 2.0 h of data")  # as the CSV says it
    assert "patient_id" in apart["notes"][1]
    assert apart["hours of data"].isna().tolist() == [False, True], "no 0 h for a file that could not be read"
    assert list(apart.columns[:2]) == ["patient", "notes"], "why a patient is not ranked is in sight"
    assert list(ranked["file"]) == ["ward.csv"] * 12, "several files: each line says its file"


def test_a_patient_id_in_two_files_is_warned_of(ward_page):
    ward_page.radio[0].set_value("Upload files").run()
    ward_page.file_uploader[0]._files = [("f1", "a.csv", SAMPLE_WARD.read_bytes(), "text/csv"),
                                         ("f2", "b.csv", SAMPLE_WARD.read_bytes(), "text/csv")]
    ward_page.run()
    assert not ward_page.exception
    assert any(w.value.startswith("Given more than once") for w in ward_page.warning)
    table = ward_page.dataframe[0].value
    assert len(table) == 24 and table["notes"].str.contains("comes 2 times in the input").all()


def test_a_patient_handed_over_opens_on_the_timeline(ward_page):
    patient = ward_page.dataframe[0].value["patient"][0]
    ward_page.session_state["timeline_from_ward"] = (SAMPLE_WARD.name, SAMPLE_WARD.read_bytes(), patient)  # as the button
    ward_page.switch_page("pages/timeline.py").run()
    assert not ward_page.exception
    assert ward_page.radio(key="timeline_how").value == "From the ward overview"
    assert ward_page.selectbox[0].value == patient
    assert any(m.value.startswith(f"**Patient {patient}**") for m in ward_page.markdown)


def test_an_upload_is_still_shown_after_a_visit_to_another_page(ward_page):
    ward_page.radio[0].set_value("Upload files").run()
    thin = "\n".join(["patient_id,time,variable,value"] + [f"thin,{h},HR,{80 + h}" for h in range(3)])
    ward_page.file_uploader[0]._files = [("f1", "ward.csv", SAMPLE_WARD.read_bytes(), "text/csv"),
                                         ("f2", "thin.csv", thin.encode(), "text/csv")]
    ward_page.run()
    ward_page.switch_page("pages/timeline.py").run()
    back = ward_page.switch_page("pages/ward.py").run()
    assert not back.exception
    assert any(c.value.startswith("Showing your last upload (ward.csv, thin.csv)") for c in back.caption)
    assert len(back.dataframe[0].value) == 12 and list(back.dataframe[1].value["patient"]) == ["thin"]
    assert back.dataframe[1].value["data"][0] == "read with care"


def test_a_patient_opened_again_in_the_session_is_not_recorded_again(ward_page):
    """Going back to a patient already assessed in this session shows it again without recording it again
    (the typed user's name across st.switch_page is checked in the browser: tests/e2e/test_timeline_e2e.py)."""
    ward_page.session_state["ward_table"] = {"selection": {"rows": [0], "columns": []}}  # the first row selected
    ward_page.run()
    assert any(b.label.startswith("Open patient ward-") for b in ward_page.button)
    patient = ward_page.dataframe[0].value["patient"][0]
    ward_page.session_state["timeline_from_ward"] = (SAMPLE_WARD.name, SAMPLE_WARD.read_bytes(), patient)
    ward_page.switch_page("pages/timeline.py").run()  # what the button does (AppTest does not follow st.switch_page)
    assert not ward_page.exception and ward_page.radio(key="timeline_how").value == "From the ward overview"
    opened = _records()
    ward_page.switch_page("pages/audit.py").run()  # back through the sidebar: still the ward's patient
    ward_page.switch_page("pages/timeline.py").run()
    assert ward_page.radio(key="timeline_how").value == "From the ward overview" and _records() == opened
    ward_page.radio(key="timeline_how").set_value("Sample patient").run()
    first = ward_page.selectbox(key="timeline_sample").options[0]
    ward_page.selectbox(key="timeline_sample").set_value(first).run()
    sample = _records() - opened
    ward_page.radio(key="timeline_how").set_value("From the ward overview").run()
    ward_page.radio(key="timeline_how").set_value("Sample patient").run()
    ward_page.selectbox(key="timeline_sample").set_value(first).run()
    assert not ward_page.exception and sample > 0 and _records() == opened + sample


def test_a_laboratory_export_says_so_in_the_data_column(ward_page):
    labs = ["Na", "K", "HCO3", "BUN", "Creatinine", "Glucose", "HCT", "WBC", "Platelets", "Mg"]
    rows = ["patient_id,time,variable,value"] + [f"lab,{h},{name},{value}" for h in (1, 12, 24) for name, value in
                                                 zip(labs, (140, 4.1, 24, 18, 1.0, 110, 35, 9.0, 250, 2.0))]
    ward_page.radio[0].set_value("Upload files").run()
    ward_page.file_uploader[0]._files = [("f1", "labs.csv", "\n".join(rows).encode(), "text/csv")]
    ward_page.run()
    assert not ward_page.exception
    assert list(ward_page.dataframe[0].value["data"]) == ["no vital sign recorded"]
