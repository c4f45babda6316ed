"""The segmentation path refuses a model that does not segment, before reading or recording anything."""

import pytest

from medai.errors import MedAIError
from medai.imaging.segment.service import segment
from medai.store import AuditStore


@pytest.mark.parametrize("model", ["cxr-pneumonia", "drug-bbbp"])
def test_a_model_that_does_not_segment_is_refused_whole(model, samples):
    store = AuditStore()
    film = (samples / "cxr_normal_NORMAL2-IM-1427-0001.jpeg").read_bytes()
    with pytest.raises(MedAIError, match="cxr-lungs"):  # the message names the segmentation models
        segment([("film.jpeg", film)], model, store=store)
    assert store.recent_predictions() == []
