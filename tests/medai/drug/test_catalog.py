"""The drug model catalog names each shipped model's output columns as its spec does, each with its unit."""

from medai.drug.service import prediction_columns, prediction_units


def test_every_prediction_column_has_its_unit():
    """The Drug page shows a probability as per cent only when its column has the unit "probability"."""
    units = prediction_units()
    assert set(prediction_columns()) <= set(units)
    assert units["tox21_NR-AR"] == "probability" and units["logS"] == "log10 mol/L"
