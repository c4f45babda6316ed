"""Percentiles against approved drugs."""

import numpy as np
import pytest

from medai.drug.reference import percentile


def test_a_value_many_approved_drugs_share_takes_the_middle_of_their_stretch():
    """No H-bond donor, say: shared by 31 of 101 drugs, it is the 15th percentile, not the 0th."""
    reference = [0.0] * 31 + list(np.linspace(1, 10, 70))
    assert float(percentile(0.0, reference)) == pytest.approx(15.0)
