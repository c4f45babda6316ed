"""The shift checks: each change keeps the film's size and really changes it; scores count refusals."""

from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from medai.imaging.shift_checks import CHANGES, shift_checks


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_each_change_keeps_size_and_changes_the_film(name):
    rng = np.random.default_rng(0)
    film = Image.fromarray(rng.integers(30, 220, (96, 96), dtype=np.uint8), mode="L")
    changed = CHANGES[name](film)
    assert changed.size == film.size and changed.mode == "L"
    assert not np.array_equal(np.asarray(changed), np.asarray(film))


def test_checks_score_what_the_classifier_answers():
    def predict(images):  # brightness decides; very dark films are refused
        answers = []
        for image in images:
            level = float(image.pixels.mean())
            if level < 0.05:
                answers.append(SimpleNamespace(status="refused", label=None, labels=("normal", "pneumonia"),
                                               positive_probability=None))
            else:
                answers.append(SimpleNamespace(status="ok", label="pneumonia" if level > 0.5 else "normal",
                                               labels=("normal", "pneumonia"), positive_probability=level))
        return answers

    labels = np.array([0, 0, 1, 1])
    films = np.stack([np.full((32, 32), value, np.uint8) for value in (60, 100, 180, 230)])
    results = shift_checks(SimpleNamespace(predict=predict), films, labels)
    assert results["unchanged"]["roc_auc"] == 1.0 and results["unchanged"]["accuracy"] == 1.0
    assert results["unchanged"]["refused"] == 0.0 and results["unchanged"]["mean_abs_probability_change"] == 0.0
    assert set(results) == {"unchanged", *CHANGES}


def test_gamma_0_6_brightens_a_film_and_1_6_darkens_it():
    film = Image.fromarray(np.tile(np.arange(20, 236, dtype=np.uint8), (8, 1)), mode="L")
    level = np.asarray(film, float).mean()
    assert np.asarray(CHANGES["gamma 0.6 (brighter)"](film), float).mean() > level + 10
    assert np.asarray(CHANGES["gamma 1.6 (darker)"](film), float).mean() < level - 10


def test_specificity_is_measured_on_the_normal_films():
    def predict(images):  # every bright film called pneumonia: sensitivity 1, specificity 0.5
        return [SimpleNamespace(status="ok", label="pneumonia" if float(i.pixels.mean()) > 0.5 else "normal",
                                labels=("normal", "pneumonia"), positive_probability=float(i.pixels.mean()))
                for i in images]

    films = np.stack([np.full((32, 32), value, np.uint8) for value in (60, 200, 180, 230)])
    results = shift_checks(SimpleNamespace(predict=predict), films, np.array([0, 0, 1, 1]))
    assert results["unchanged"]["specificity"] == 0.5 and results["unchanged"]["accuracy"] == 0.75
