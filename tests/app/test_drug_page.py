"""The Drug page through AppTest: sample molecules, pasted SMILES, bad input, one audit record per
model per screen, row details with the radar chart, and the optimisation panel."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from medai.drug.service import SCREEN_MODELS
from medai.store import AuditStore
from tests.app.conftest import shown
from tests.conftest import REPO

TIMEOUT = 240


@pytest.fixture
def drug_page() -> AppTest:
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    app.run()
    app.switch_page("pages/drug.py").run()
    assert not app.exception
    return app


def _records() -> int:
    return len(AuditStore().recent_predictions(limit=1000))


def test_sample_molecules_screen_once(drug_page):
    drug_page.radio[0].set_value("Sample molecules").run()
    assert not drug_page.exception
    assert any("12 of 14" in m.value for m in drug_page.markdown)
    assert _records() == len(SCREEN_MODELS)
    table = drug_page.dataframe[0].value
    # Predictions are numbers (a column sorts by value), each followed by its SD.
    assert table["logS (log mol/L)"].dtype.kind == "f" and table["logS_std"].dtype.kind == "f"
    assert list(table.columns).index("logS_std") == list(table.columns).index("logS (log mol/L)") + 1
    # Each SD is a bar as well as a number, so that an uncertain prediction stands out in a long column.
    config = json.loads(drug_page.dataframe[0].proto.columns)
    assert config["logS_std"]["type_config"]["type"] == "progress" and config["logS_std"]["label"] == "± SD"
    # Probabilities in per cent, so that a rare event's 0.004 reads 0.4 %, not 0.00.
    screened = [m for m in drug_page.session_state.drug_result.molecules if m.valid]
    shown = table["P(clin. tox)"].dropna().to_numpy()
    assert shown == pytest.approx([100 * m.predictions["clinical_toxicity"][0] for m in screened], abs=1e-2)
    assert table["max P(Tox21)"].max() > 1
    drug_page.toggle[1].set_value(True).run()  # a filter: redraw, never re-record
    assert not drug_page.exception and _records() == len(SCREEN_MODELS)
    assert len(drug_page.get("download_button")) >= 2


def test_pasted_smiles_with_an_invalid_line(drug_page):
    drug_page.text_area[0].input("CCO ethanol\nnot_a_smiles junk\nO water\n").run()
    assert not drug_page.exception
    assert any("2 of 3" in m.value for m in drug_page.markdown)
    assert any(w.value.startswith("1 inorganic species (no carbon) screened — water") for w in drug_page.warning)
    # Named with its reason even while 'Valid only' hides it from the table.
    assert any("junk (not_a_smiles)" in shown(w.value) for w in drug_page.warning)
    drug_page.toggle[1].set_value(True).run()  # 'In domain only' on a molecule out of some model's domain
    assert not drug_page.exception


def test_an_empty_file_is_named_not_ignored(drug_page):
    drug_page.radio[0].set_value("Upload a file").run()
    drug_page.file_uploader[0]._files = [("f1", "empty.csv", b"", "text/csv")]
    drug_page.run()
    assert any("empty.csv is empty" in e.value for e in drug_page.error)


def test_a_file_without_smiles_column_gets_a_message(drug_page):
    drug_page.radio[0].set_value("Upload a file").run()
    drug_page.file_uploader[0]._files = [("f1", "bad.csv", b"a,b\n1,2\n", "text/csv")]
    drug_page.run()
    assert not drug_page.exception
    assert any("SMILES column" in e.value for e in drug_page.error)
    assert _records() == 0


def test_an_uploaded_files_own_columns_are_shown_and_kept(drug_page):
    """An assay column comes through; one named like a column the page makes is shown as 'input: …'."""
    drug_page.radio[0].set_value("Upload a file").run()
    drug_page.file_uploader[0]._files = [("f1", "assay.csv", b"name,smiles,IC50 (nM),structure\n"
                                          b"aspirin,CC(=O)Oc1ccccc1C(=O)O,120,drawn\nethanol,CCO,,\n", "text/csv")]
    drug_page.run()
    assert not drug_page.exception
    table = drug_page.dataframe[0].value
    assert list(table["IC50 (nM)"]) == ["120", ""] and list(table["input: structure"]) == ["drawn", ""]
    assert table["structure"].str.startswith("data:image/svg+xml").all()
    assert list(table.columns)[-1] == "message"


def test_details_radar_and_optimisation(drug_page):
    drug_page.radio[0].set_value("Sample molecules").run()
    assert drug_page.get("plotly_chart"), "the radar chart against approved drugs"
    assert drug_page.subheader[0].value == "aspirin"
    drug_page.selectbox[1].set_value(1).run()  # paracetamol
    next(b for b in drug_page.button if b.label == "Propose analogues").click().run()
    assert not drug_page.exception
    assert len(drug_page.get("plotly_chart")) == 2, "radar + Pareto front"
    assert _records() == 2 * len(SCREEN_MODELS)  # the screen, then the analogues' screen
    newest = AuditStore().recent_predictions(limit=1)[0]
    assert newest.label.endswith("(lead optimisation: the lead and its analogues)"), "told apart from a screen"
    # The lead's own objectives are given, so each analogue column can be read against them.
    assert any("The lead itself scores" in m.value and "BACE-1 activity 0." in m.value for m in drug_page.markdown)


def test_feedback_on_a_models_predictions_is_saved_once(drug_page):
    from medai.store import AuditStore

    drug_page.radio[0].set_value("Sample molecules").run()
    drug_page.selectbox(key="drug_feedback_model").set_value("drug-solubility").run()
    save = next(b for b in drug_page.button if b.label == "Save feedback")
    save.click().run()
    save = next(b for b in drug_page.button if b.label == "Save feedback")
    save.click().run()  # a second save updates the verdict
    assert not drug_page.exception
    store = AuditStore()
    record = next(r for r in store.recent_predictions(50) if r.model_name == "drug-solubility")
    assert len(store.feedback_for(record.id)) == 1
    # An override without a measured value would count as a disagreement with nothing in it: refused.
    next(r for r in drug_page.radio if (r.key or "").startswith(f"verdict_{record.id}_")).set_value("override").run()
    next(b for b in drug_page.button if b.label == "Save feedback").click().run()
    assert any("An override needs the correct answer" in e.value for e in drug_page.error)
    assert [f.verdict for f in store.feedback_for(record.id)] == ["agree"]
    assert any("Your feedback on record" in c.value and "agree" in c.value for c in drug_page.caption)


def test_pasted_molecules_and_their_screen_survive_a_visit_to_another_page(drug_page):
    drug_page.text_area(key="drug_text").set_value("CC(=O)Oc1ccccc1C(=O)O aspirin\nCCO ethanol").run()
    assert any("2 of 2" in m.value for m in drug_page.markdown)
    drug_page.switch_page("pages/models.py").run()
    back = drug_page.switch_page("pages/drug.py").run()
    assert not back.exception and back.text_area(key="drug_text").value.startswith("CC(=O)Oc1ccccc1C(=O)O aspirin")
    assert any("2 of 2" in m.value for m in back.markdown) and _records() == len(SCREEN_MODELS)  # not screened again


def test_switching_back_to_pasted_molecules_neither_screens_nor_records_them_again(drug_page):
    drug_page.text_area(key="drug_text").set_value("CC(=O)Oc1ccccc1C(=O)O aspirin\nCCO ethanol").run()
    drug_page.radio(key="drug_how").set_value("Sample molecules").run()
    assert any("12 of 14" in m.value for m in drug_page.markdown) and _records() == 2 * len(SCREEN_MODELS)
    drug_page.radio(key="drug_how").set_value("Paste SMILES").run()
    assert not drug_page.exception and any("2 of 2" in m.value for m in drug_page.markdown)
    assert _records() == 2 * len(SCREEN_MODELS)
    drug_page.text_area(key="drug_text").set_value("CCO ethanol").run()  # new molecules: a new screen
    assert any("1 of 1" in m.value for m in drug_page.markdown) and _records() == 3 * len(SCREEN_MODELS)


def test_a_molecule_id_written_as_markdown_is_shown_as_text(drug_page):
    drug_page.text_area(key="drug_text").set_value(
        "Xx1invalid ![m](http://127.0.0.1:9/mol.png)\nQq2invalid [Sign in again](https://evil.example)\n").run()
    (warning,) = [w for w in drug_page.warning if "could not be screened" in w.value]
    assert not re.search(r"(?<!\\)[\[\]]", warning.value)  # every bracket escaped: no image, no link
    assert "![m](http://127.0.0.1:9/mol.png)" in shown(warning.value)  # but the reader sees the id as written


def test_more_molecules_than_the_page_screens_are_refused_with_the_cli_named(drug_page):
    drug_page.text_area(key="drug_text").set_value("CCO\n" * 5_001).run()
    assert not drug_page.exception and _records() == 0
    assert any("More than 5,000 molecules" in e.value and "medai screen" in e.value for e in drug_page.error)
    drug_page.text_area(key="drug_text").set_value("CCO\n" * 300_000).run()  # past the field's cap: cut by the server
    assert len(drug_page.text_area(key="drug_text").value) == 1_000_000
    assert any("More than 5,000 molecules" in e.value for e in drug_page.error) and _records() == 0


def test_filters_units_and_the_picked_row_of_a_filtered_table(drug_page):
    drug_page.text_area[0].input("not_a_smiles junk\nCCO ethanol\nCCCCCCCCCCCCCCCCCCCC icosane\n"
                                 "CC(=O)Oc1ccccc1C(=O)O aspirin\n").run()
    assert not drug_page.exception
    table = drug_page.dataframe[0].value
    assert list(table["id"]) == ["ethanol", "icosane", "aspirin"]  # 'Valid only' hides junk
    # A probability's SD is in percentage points beside the value in per cent.
    screened = [m for m in drug_page.session_state.drug_result.molecules if m.valid]
    for column in ("clinical_toxicity", "bbb_penetration"):
        assert list(table[f"{column}_std"]) == pytest.approx([100 * m.predictions[column][1] for m in screened],
                                                              abs=1e-2)
    assert dict(zip(table["id"], table["lipinski_violations"]))["icosane"] == 1  # cLogP > 5 alone
    drug_page.toggle[3].set_value(True).run()  # 'Lipinski pass' allows one violation, as its caption says
    assert "icosane" in list(drug_page.dataframe[0].value["id"])
    drug_page.session_state["drug_table"] = {"selection": {"rows": [1], "columns": []}}  # the 2nd row shown
    drug_page.run()
    assert not drug_page.exception and drug_page.subheader[0].value == "icosane"


def test_a_new_similarity_bound_proposes_analogues_again(drug_page):
    drug_page.text_area[0].input("CC(=O)Nc1ccc(O)cc1 paracetamol\n").run()
    next(b for b in drug_page.button if b.label == "Propose analogues").click().run()
    first = drug_page.session_state["drug_optimized"][1]
    assert first and min(item.analogue.similarity for item in first) < 0.7
    next(s for s in drug_page.slider if s.label.startswith("Min. similarity")).set_value(0.7)
    next(b for b in drug_page.button if b.label == "Propose analogues").click().run()
    assert not drug_page.exception
    shown_now = drug_page.session_state["drug_optimized"][1] if "drug_optimized" in drug_page.session_state else []
    assert all(item.analogue.similarity >= 0.7 for item in shown_now)
