"""The Diagnose page through Streamlit's AppTest: results, messages, one audit record per input, feedback."""

from __future__ import annotations

import re
import uuid

import pytest
from streamlit.testing.v1 import AppTest

from medai import config, registry
from medai.imaging.notes import percent
from medai.imaging.service import DISPLAY_SIDE_PX
from medai.store import AuditStore
from tests.app.conftest import shown
from tests.conftest import REPO

TIMEOUT = 180
ADULT_CXR = (config.data_dir() / "imaging" / "segmentation" / "covid19_cxr_segmentations" / "images"
             / "covid-19-pneumonia-30-PA.jpg")  # a held-back adult patient
FILMS = ("cxr_normal_NORMAL2-IM-1427-0001.jpeg", "cxr_normal_NORMAL2-IM-1436-0001.jpeg",
         "cxr_pneumonia_person1946_bacteria_4874.jpeg")


@pytest.fixture
def diagnose_page() -> AppTest:
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    app.run()
    app.switch_page("pages/diagnose.py").run()
    assert not app.exception
    return app


def _text(app: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "error", "warning", "success", "info", "caption") for e in getattr(app, kind)]
    return "\n".join(str(p) for p in parts)


def _records() -> int:
    return len(AuditStore().recent_predictions(limit=1000))


def _set_uploads(app: AppTest, files: list[tuple[str, str, bytes, str]]) -> None:
    """Put exactly ``files`` (file_id, name, bytes, mime) in the uploader, as a browser would.

    AppTest's ``upload``/``set_value`` give every file a new id on each call; a browser keeps the ids of
    the files already there when one is added or removed, and that is what the page keys on.
    """
    app.file_uploader(key="uploads")._files = files
    app.run()
    assert not app.exception


def _current_uploads(app: AppTest) -> list[tuple[str, str, bytes, str]]:
    return list(app.file_uploader(key="uploads")._get_files_to_register())


def test_home_page_says_research_use_only():
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT).run()
    assert not app.exception
    assert "Not a medical device" in _text(app)


def test_uploaded_sample_leads_with_the_decision(diagnose_page, samples):
    data = (samples / "cxr_pneumonia_person1946_bacteria_4874.jpeg").read_bytes()
    diagnose_page.file_uploader(key="uploads").set_value(("xray.jpeg", data, "image/jpeg")).run()
    assert not diagnose_page.exception
    assert any("Pneumonia" in e.value and "decision at threshold" in e.value for e in diagnose_page.error)
    text = _text(diagnose_page)
    assert "Uncertainty: the 5 models give " in text and "at or above the threshold" in text and "±" not in text
    assert "where the network looked, not a lesion outline" in text and "Rescaled per image" in text
    # The why-line reads the prior the probabilities are calibrated for from the model card (2.0.0: 50 %).
    threshold = registry.get_spec("cxr-pneumonia").parameters["threshold"]
    assert "assumes 50 % of the films read show pneumonia" in text
    assert f"is at or above the line at {percent(threshold)}" in text
    assert re.search(r"because \d{2}\.\d{1,3} % is at or above", text)  # per cent, never rounded to certainty
    assert "Do not type patient names" in text
    (row,) = diagnose_page.dataframe[0].value.to_dict("records")  # the table in per cent, as the card below
    assert 50 < row["p_pneumonia"] <= 100 and row["uncertainty"] < 50
    keys = [chart.key for chart in diagnose_page.get("plotly_chart")]
    assert "colour_bar" in keys and sum(key.startswith("bar_") for key in keys) == 1  # colour bar, probability bar


@pytest.mark.skipif(not ADULT_CXR.exists(), reason="shared data (MEDAI_DATA_DIR) not available")
def test_adult_film_is_diagnosed_with_a_visible_warning(diagnose_page):
    diagnose_page.file_uploader(key="uploads").set_value(("adult.jpg", ADULT_CXR.read_bytes(), "image/jpeg")).run()
    assert not diagnose_page.exception
    assert any(w.value.startswith("Outside the validated population:") for w in diagnose_page.warning)
    assert any("decision at threshold" in e.value for e in [*diagnose_page.error, *diagnose_page.success])


def test_garbage_upload_gets_a_plain_message(diagnose_page):
    diagnose_page.file_uploader(key="uploads").set_value(("scan.png", b"garbage bytes", "image/png")).run()
    assert not diagnose_page.exception
    assert any("not a PNG, JPEG or DICOM" in e.value for e in diagnose_page.error)


def test_non_xray_sample_is_refused(diagnose_page):
    diagnose_page.multiselect[0].set_value(["fundus_retina_CHASE_Image_01L.jpg"]).run()
    assert not diagnose_page.exception
    assert any(w.value.startswith("Refused") for w in diagnose_page.warning)


def test_each_input_is_recorded_once(diagnose_page, samples):
    """Adding files one by one, removing one, moving the slider: one record per input asked about."""
    files: list[tuple[str, str, bytes, str]] = []
    for count, name in enumerate(FILMS, start=1):
        files = _current_uploads(diagnose_page) + [(str(uuid.uuid4()), name, (samples / name).read_bytes(), "image/jpeg")]
        _set_uploads(diagnose_page, files)
        assert _records() == count
    _set_uploads(diagnose_page, files[1:])  # remove the first
    assert _records() == len(FILMS)
    diagnose_page.slider[0].set_value(0.7).run()
    diagnose_page.multiselect[0].set_value(["cxr_pneumonia_person1950_bacteria_4881.dcm"]).run()
    diagnose_page.slider[0].set_value(0.2).run()
    assert not diagnose_page.exception and _records() == len(FILMS) + 1
    # The same image uploaded again on purpose is a new request.
    again = files[1][1:]
    _set_uploads(diagnose_page, _current_uploads(diagnose_page) + [(str(uuid.uuid4()), *again)])
    assert _records() == len(FILMS) + 2
    assert any(f"The same image was added 2 times ({again[0]}, {again[0]})" in shown(i.value) for i in diagnose_page.info)


def test_the_session_keeps_display_size_images_only(diagnose_page):
    diagnose_page.multiselect[0].set_value([FILMS[0]]).run()
    (outcome,) = diagnose_page.session_state["diagnose_results"].values()
    assert max(outcome.image.pixels.shape) <= DISPLAY_SIDE_PX
    assert outcome.original_shape == (1416, 1776)
    assert any("film 1776×1416 px" in caption for image in diagnose_page.get("image") for caption in image.captions)


def _field(app: AppTest, kind: str, key: str):
    """The feedback form's ``kind`` text field ("comment", "label"); after a save its key also names the version."""
    return next(t for t in app.text_input if t.key.startswith(f"{kind}_{key}"))


def test_feedback_shows_as_saved_when_drawn_again(diagnose_page):
    diagnose_page.multiselect[0].set_value([FILMS[2]]).run()
    diagnose_page.button(key=next(b.key for b in diagnose_page.button if b.key.startswith("save_"))).click().run()
    assert not diagnose_page.exception
    assert "Your feedback on record" in _text(diagnose_page)
    diagnose_page.slider[0].set_value(0.6).run()
    assert "Your feedback on record" in _text(diagnose_page) and _records() == 1
    # The first reader starts another comment and leaves it unsaved; another reader then takes the screen:
    # they see that verdict as someone else's, and a form of their own, not the first reader's draft.
    first = next(t.key for t in diagnose_page.text_input if t.key.startswith("comment_"))
    diagnose_page.text_input(key=first).input("draft of the first reader").run()
    diagnose_page.session_state["user"] = "Dr Other"  # the sidebar's name (AppTest runs the page without the router)
    diagnose_page.run()
    assert "Your feedback on record" not in _text(diagnose_page)
    assert "Other readers of record" in _text(diagnose_page) and "agree (anonymous)" in _text(diagnose_page)
    assert [t.value for t in diagnose_page.text_input if t.key.startswith("comment_")] == [""]


def test_an_override_offers_only_the_other_labels(diagnose_page):
    diagnose_page.multiselect[0].set_value([FILMS[2]]).run()
    record = next(b.key for b in diagnose_page.button if b.key.startswith("save_")).removeprefix("save_")
    diagnose_page.radio(key=f"verdict_{record}").set_value("override").run()
    given = AuditStore().recent_predictions(limit=1)[0].label
    assert diagnose_page.selectbox(key=f"label_{record}").options == [
        label for label in ("normal", "pneumonia") if label != given]


def test_model_cards_and_audit_pages_render(diagnose_page):
    diagnose_page.multiselect[0].set_value(["cxr_normal_NORMAL2-IM-1427-0001.jpeg"]).run()
    cards = diagnose_page.switch_page("pages/models.py").run()
    cards.selectbox(key="card_model").set_value("cxr-pneumonia").run()
    assert not cards.exception and "cxr-pneumonia" in _text(cards)
    audit = cards.switch_page("pages/audit.py").run()
    assert not audit.exception and len(audit.dataframe) == 1
    assert audit.dataframe[0].value["status"].tolist() == ["ok"]


def test_lung_fields_outlined_and_heat_share_reported(diagnose_page):
    diagnose_page.multiselect[0].set_value([FILMS[2]]).run()
    assert not diagnose_page.exception
    text = _text(diagnose_page)
    assert "of the heat map lies inside the lung fields" in text
    assert any("lung fields (cxr-lungs)" in caption for image in diagnose_page.get("image") for caption in image.captions)
    record = AuditStore().recent_predictions(1)[0]
    assert 0.0 <= record.output_summary["heat_in_lungs"] <= 1.0


def test_results_are_still_there_after_visiting_another_page(diagnose_page):
    diagnose_page.multiselect[0].set_value([FILMS[0]]).run()
    diagnose_page.switch_page("pages/models.py").run()
    back = diagnose_page.switch_page("pages/diagnose.py").run()
    assert not back.exception and "Results from before you left this page" in _text(back)
    assert FILMS[0] in back.dataframe[0].value["file"].tolist() and _records() == 1
    back.slider[0].set_value(0.7).run()  # redrawing keeps them
    assert FILMS[0] in back.dataframe[0].value["file"].tolist()
    back.multiselect[0].set_value([FILMS[1]]).run()  # a new request replaces them
    assert back.dataframe[0].value["file"].tolist() == [FILMS[1]] and _records() == 2


def test_a_reader_back_at_the_screen_finds_their_own_override_in_the_form(diagnose_page):
    def as_reader(name: str, widget=None):  # the sidebar's name, set again for each run (AppTest has no router)
        diagnose_page.session_state["user"] = name
        return widget if widget is not None else diagnose_page

    as_reader("Dr A", diagnose_page.multiselect[0].set_value([FILMS[2]])).run()
    key = next(b.key for b in diagnose_page.button if b.key.startswith("save_")).removeprefix("save_")
    as_reader("Dr A", diagnose_page.radio(key=f"verdict_{key}").set_value("override")).run()
    as_reader("Dr A", diagnose_page.text_input(key=f"comment_{key}").input("left base")).run()
    as_reader("Dr A", diagnose_page.button(key=f"save_{key}").click()).run()
    as_reader("Dr B").run()  # away and back: Streamlit forgets the widgets of a form it did not draw
    as_reader("Dr A").run()
    assert diagnose_page.radio(key=f"verdict_{key}").value == "override"
    assert _field(diagnose_page, "comment", key).value == "left base"


def test_after_saving_the_form_shows_the_comment_as_stored_not_as_typed(diagnose_page):
    diagnose_page.multiselect[0].set_value([FILMS[2]]).run()
    key = next(b.key for b in diagnose_page.button if b.key.startswith("save_")).removeprefix("save_")
    diagnose_page.text_input(key=f"comment_{key}").input("seen with Dr Jane Smith on 12/03/2024").run()
    diagnose_page.button(key=f"save_{key}").click().run()
    stored = AuditStore().latest_feedback(AuditStore().recent_predictions(1)[0].id, user="anonymous").comment
    assert "Smith" not in stored and "12/03/2024" not in stored
    typed = _field(diagnose_page, "comment", key)
    assert typed.value == stored and typed.key != f"comment_{key}"  # a new widget: a browser shows it as stored


def test_the_low_focus_warning_follows_the_card_s_limit(diagnose_page):
    """'Less of the heat lies inside the lungs' shows on a pneumonia call exactly when its share of heat inside
    the lungs is under the card's limit (on the shipped film, whichever side of it that falls)."""
    from medai.imaging.lung_focus import low_focus_limit

    diagnose_page.multiselect[0].set_value([FILMS[2]]).run()
    assert not diagnose_page.exception
    record = AuditStore().recent_predictions(1)[0]
    share, limit = record.output_summary["heat_in_lungs"], low_focus_limit(registry.card("cxr-pneumonia"), "pneumonia")
    assert record.label == "pneumonia" and share is not None and limit is not None and abs(share - limit) > 1e-6
    warned = any(w.value.startswith("Less of the heat lies inside the lungs") for w in diagnose_page.warning)
    assert warned == (share < limit)
