"""Graphs traced once: on the first call in a batch run, only by the warm-up in a server."""

import threading

import numpy as np
import pytest
import tensorflow as tf

from medai.imaging import graphs
from medai.imaging.graphs import GraphWhenReady

SIGNATURE = [tf.TensorSpec((None, 3), tf.float32)]


def _graph() -> GraphWhenReady:
    weights = tf.constant([[1.0], [2.0], [3.0]])
    return GraphWhenReady(lambda x: tf.matmul(x, weights), SIGNATURE)


@pytest.fixture
def fresh(monkeypatch):
    """A process where no server deferred tracing yet."""
    monkeypatch.setattr(graphs, "_deferred", threading.Event())


def test_batch_run_traces_on_first_call(fresh):
    graph = _graph()
    out = graph(tf.ones((2, 3)))
    assert graph.traced and graph.tracing_count() == 1
    np.testing.assert_allclose(out.numpy(), [[6.0], [6.0]])
    graph(tf.ones((5, 3)))
    assert graph.tracing_count() == 1


def test_server_runs_eagerly_until_the_warm_up_traced(fresh):
    graphs.defer_tracing()
    graph = _graph()
    eager = graph(tf.ones((1, 3)))
    assert not graph.traced and graph.tracing_count() == 0  # the request did not wait for a trace
    graph.trace()
    assert graph.traced and graph.tracing_count() == 1
    np.testing.assert_allclose(graph(tf.ones((1, 3))).numpy(), eager.numpy())


def test_shipped_classifier_same_answer_eager_and_traced(fresh, samples):
    """The first request in a server (eager) gets the answer every later one (traced) gets."""
    from medai import registry
    from medai.imaging.classify import TRAINING_COPY_SIZE
    from medai.imaging.io import read_image
    from medai.imaging.preprocess import batch, squash

    model = registry.load("cxr-pneumonia")
    model.prepare()
    image = read_image((samples / "cxr_pneumonia_person1946_bacteria_4874.jpeg").read_bytes())
    inputs = tf.constant(batch([squash(image.pixels, TRAINING_COPY_SIZE)], model.input_size))
    for graph in (model._cam_models.graph, model._both):
        assert graph.traced
        for eager, traced in zip(graph._function(inputs), graph(inputs)):
            np.testing.assert_allclose(eager.numpy(), traced.numpy(), atol=1e-4)


def test_the_warm_up_waits_while_a_request_is_running():
    import time

    saved = (graphs._eager_in_flight[0], graphs._last_eager_call[0])
    stop, returned = threading.Event(), threading.Event()
    try:
        graphs._eager_in_flight[0] = 1  # a clinician's eager call is running, begun long ago
        graphs._last_eager_call[0] = time.monotonic() - 60
        threading.Thread(target=lambda: (graphs.wait_until_idle(stop, quiet_s=0.1, unused_s=0.1), returned.set()),
                         daemon=True).start()
        time.sleep(1.0)
        assert not returned.is_set(), "the warm-up would trace beside a running request"
        graphs._eager_in_flight[0], graphs._last_eager_call[0] = 0, time.monotonic()
        assert returned.wait(5.0)
    finally:
        stop.set()
        graphs._eager_in_flight[0], graphs._last_eager_call[0] = saved
