"""What the Diagnose and Drug services record: weights digest, technical input facts, output summary,
duration — with stand-in models, so no network is trained or loaded here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from medai import registry
from medai.drug import service as drug_service
from medai.drug.io import read_smiles_lines
from medai.drug.models import TaskPrediction
from medai.imaging import service as imaging_service
from medai.store import AuditStore
from tests.conftest import png_bytes


@dataclass(frozen=True)
class StubDiagnosis:
    status: str
    labels: tuple[str, ...]
    probabilities: np.ndarray | None
    label: str | None
    uncertainty: float | None
    threshold: float
    heatmap: None
    message: str
    out_of_population: bool = False
    member_probabilities: tuple[float, ...] | None = None

    @property
    def positive_probability(self) -> float | None:
        return None if self.probabilities is None else float(self.probabilities[-1])


class StubClassifier:
    def predict(self, images, explain=False):
        return [StubDiagnosis("ok", ("normal", "pneumonia"), np.array([0.3, 0.7]), "pneumonia", 0.05, 0.5, None,
                              "Pneumonia likely.") for _ in images]


@pytest.fixture
def store(tmp_path) -> AuditStore:
    return AuditStore(f"sqlite:///{tmp_path / 'records.sqlite'}")


def test_diagnose_records_weights_digest_metadata_summary_and_duration(store, monkeypatch):
    monkeypatch.setattr(imaging_service.registry, "load", lambda name: StubClassifier())
    image = png_bytes((np.arange(64 * 80) % 256).astype(np.uint8).reshape(64, 80))
    outcomes = imaging_service.diagnose([("smith_john.png", image), ("broken.png", b"not an image")],
                                        "cxr-pneumonia", user="dr.x", source="python", store=store)
    good, bad = sorted(store.recent_predictions(), key=lambda r: r.id)
    assert good.id == outcomes[0].record_id
    assert good.weights_sha256 == registry.weights_digest(registry.get_spec("cxr-pneumonia"))
    assert good.input_metadata == {"bytes": len(image), "format": "png", "height": 64, "width": 80,
                                   "pixel_spacing_mm": None}
    assert good.output_summary == {"status": "ok", "message": "Pneumonia likely.", "label": "pneumonia",
                                   "threshold": 0.5, "out_of_population": False}
    assert good.duration_ms is not None and good.duration_ms >= 0
    assert bad.status == "error" and bad.input_metadata == {"bytes": 12}
    assert bad.output_summary["status"] == "error" and bad.duration_ms >= 0
    assert "smith" not in repr([vars(good), vars(bad)]).lower()


class StubPropertyModel:
    approved_quantiles = {"logS": list(np.linspace(-8, 2, 101))}
    domain_cutoff = 0.3

    def predict(self, features, graphs=None):
        return {"logS": TaskPrediction(np.full(len(features), -2.0), np.full(len(features), 0.5))}

    def nearest_training_similarity(self, bits):
        return np.full(len(bits), 0.2)  # below the cut-off: every molecule out of domain


def test_screen_records_one_row_per_model_with_the_new_fields(store, monkeypatch):
    spec = registry.get_spec("drug-solubility") if "drug-solubility" in registry.names() else None
    if spec is None:
        pytest.skip("drug-solubility is not installed")
    monkeypatch.setattr(drug_service.registry, "load", lambda name: StubPropertyModel())
    molecules = read_smiles_lines("CC(=O)Oc1ccccc1C(=O)O aspirin\nnot-a-smiles bad\n")
    result = drug_service.screen(molecules, ["drug-solubility"], user="chem", source="cli", store=store,
                                 workers=1)
    (record,) = store.recent_predictions()
    assert result.record_ids == [record.id]
    assert record.weights_sha256 == registry.weights_digest(spec) and record.model_version == spec.version
    assert record.input_metadata == {"molecules": 2, "unreadable": 0}
    assert record.output_summary == {"valid": 1, "invalid": 1, "out_of_domain": 1, "with_alerts": 1}
    assert record.duration_ms > 0 and record.label == "1 valid of 2 molecules"


class LenientPropertyModel(StubPropertyModel):
    domain_cutoff = 0.1  # the same similarity (0.2) is inside this model's domain


def test_each_models_record_counts_its_own_domain(store, monkeypatch):
    names = ["drug-solubility", "drug-lipophilicity"]
    if not set(names) <= set(registry.names()):
        pytest.skip("the drug models are not installed")
    stubs = {"drug-solubility": StubPropertyModel(), "drug-lipophilicity": LenientPropertyModel()}
    monkeypatch.setattr(drug_service.registry, "load", lambda name: stubs[name])
    (result,) = drug_service.screen(read_smiles_lines("CC(=O)Oc1ccccc1C(=O)O aspirin\n"), names, user="chem",
                                    source="cli", store=store, workers=1).molecules
    outside = {r.model_name: r.output_summary["out_of_domain"] for r in store.recent_predictions()}
    assert outside == {"drug-solubility": 1, "drug-lipophilicity": 0}
    # In domain means in the domain of every model: outside one is outside, and the message names it.
    assert result.in_domain is False and "Out of the applicability domain of drug-solubility" in result.message
