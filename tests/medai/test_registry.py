"""The registry knows each model's version, files and card, verifies checksums, and loads once."""

import json
import shutil

import pytest

from medai import registry
from medai.errors import ModelIntegrityError, ModelNotFoundError


def test_shipped_model_is_registered_with_a_complete_spec():
    assert "cxr-pneumonia" in registry.names()
    assert registry.names(task="image-classification") == ["cxr-pneumonia"]
    spec = registry.get_spec("cxr-pneumonia")
    assert spec.labels == ("normal", "pneumonia")
    assert spec.version and spec.input["size"] == 128
    assert all(len(digest) == 64 for digest in spec.files.values())
    assert set(spec.parameters["members"]) <= set(spec.files)
    registry.verify(spec)


def test_card_reports_measured_validation_metrics():
    card = registry.card("cxr-pneumonia")
    validation = card["metrics"]["validation"]
    assert 0.5 < validation["roc_auc"] <= 1.0
    low, high = validation["roc_auc_95ci"]
    assert low <= validation["roc_auc"] <= high
    for key in ("sensitivity", "specificity", "accuracy"):
        assert 0.0 <= validation["at_threshold_cross_fitted"][key] <= 1.0
    assert "Not a medical device" in card["regulatory_status"]
    assert card["recipe"]["command"] == "python -m medai train cxr-pneumonia"


def test_unknown_name_raises():
    with pytest.raises(ModelNotFoundError, match="cxr-pneumonia"):
        registry.get_spec("nope")


def test_tampered_weights_are_refused(tmp_path, monkeypatch):
    shutil.copytree(registry.models_dir() / "cxr-pneumonia", tmp_path / "cxr-pneumonia")
    monkeypatch.setattr(registry, "models_dir", lambda: tmp_path)
    spec = registry.get_spec("cxr-pneumonia")
    member = spec.path(spec.parameters["members"][0])
    member.write_bytes(member.read_bytes() + b"\0")
    with pytest.raises(ModelIntegrityError, match="checksum"):
        registry.verify(spec)
    member.unlink()
    with pytest.raises(ModelIntegrityError, match="missing"):
        registry.verify(spec)


def test_files_that_do_not_fit_the_code_are_named_not_a_traceback(tmp_path, monkeypatch):
    """Weights that verify but break their loader (code upgraded without them) give one plain error."""
    model = tmp_path / "broken"
    model.mkdir()
    (model / "spec.json").write_text(json.dumps({"name": "broken", "version": "1.0.0", "task": "x",
                                                 "labels": [], "input": {}, "loader": "json:loads", "files": {}}))
    monkeypatch.setattr(registry, "models_dir", lambda: tmp_path)
    with pytest.raises(ModelIntegrityError, match=r"'broken' 1.0.0 could not be built from its files \(TypeError"):
        registry.load("broken")


def test_load_is_lazy_and_cached():
    first = registry.load("cxr-pneumonia")
    assert registry.is_loaded("cxr-pneumonia")
    assert registry.load("cxr-pneumonia") is first


def test_spec_file_is_plain_json():
    raw = json.loads((registry.models_dir() / "cxr-pneumonia" / "spec.json").read_text())
    assert raw["parameters"]["calibration"]["method"] == "platt"


def test_registry_imports_no_domain_and_specs_name_their_loader():
    source = (registry.models_dir().parent / "registry.py").read_text()
    assert "medai.imaging" not in source and "medai.drug" not in source
    for name in registry.names():
        spec = registry.get_spec(name)
        assert callable(registry.resolve(spec.loader))
        if spec.trainer:
            assert callable(registry.resolve(spec.trainer))


def test_the_weights_digest_does_not_depend_on_the_order_spec_json_lists_files_in(tmp_path):
    import dataclasses

    spec = registry.get_spec("cxr-pneumonia")
    one = dataclasses.replace(spec, directory=tmp_path, files={"b.bin": "1" * 64, "a.bin": "2" * 64})
    two = dataclasses.replace(spec, directory=tmp_path, files={"a.bin": "2" * 64, "b.bin": "1" * 64})
    assert registry.weights_digest(one) == registry.weights_digest(two)
