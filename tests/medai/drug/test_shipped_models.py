"""The shipped weights reproduce their model cards: the validation figure recomputed from the files
equals the one the card states (skipped when the training data are not beside the checkout)."""

import numpy as np
import pytest

from medai import config, registry
from medai.drug import datasets, evaluate
from medai.drug.catalog import DRUG_MODELS
from medai.drug.graphs import graphs_of


@pytest.mark.parametrize("name", ["drug-solubility", "drug-lipophilicity", "drug-bace"])
def test_card_headline_is_reproduced_by_the_shipped_weights(name):
    if not (config.data_dir() / "drug" / "moleculenet").is_dir():
        pytest.skip("MoleculeNet files not available (MEDAI_DATA_DIR)")
    info = DRUG_MODELS[name]
    data = datasets.load(info.dataset)
    _, validation_rows = datasets.split(data, datasets.DATASETS[info.dataset].split)
    validation = data.subset(validation_rows)
    model = registry.load(name)
    predictions = model.predict(validation.features, graphs_of(validation.smiles))[info.tasks[0]]
    truth = validation.targets[:, 0]
    score = evaluate.task_score(datasets.DATASETS[info.dataset].kind)(truth, predictions.value)
    assert score == pytest.approx(registry.card(name)["headline"][0]["value"], abs=2e-3)
    assert np.all(predictions.std > 0)


@pytest.mark.parametrize("name", sorted(DRUG_MODELS))
def test_a_retrained_model_would_carry_the_version_of_its_shipped_recipe(name):
    # Each model's version lives with its recipe (the catalog), so retraining BBBP cannot label it with
    # the version of another model's newer recipe.
    assert DRUG_MODELS[name].version == registry.get_spec(name).version == registry.card(name)["version"]
