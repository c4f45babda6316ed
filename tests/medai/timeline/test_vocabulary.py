"""Units: spellings read whatever their case, and a unit column doubted only when all its values say so."""

import pytest

from medai.timeline.vocabulary import mislabelled_units, to_own_unit


def test_a_unit_in_capitals_is_read():
    value, unit = to_own_unit("Glucose", 5.0, "MMOL/L")
    assert value == pytest.approx(5.0 * 18.016) and unit == "mmol/L"


def test_one_stray_value_does_not_make_the_unit_column_wrong():
    assert mislabelled_units(["Temp 98.6 °C at 2 h", "Temp 150 °C at 3 h"]) == []
    assert mislabelled_units(["Temp 98.6 °C at 2 h", "Temp 99.1 °C at 3 h"])
