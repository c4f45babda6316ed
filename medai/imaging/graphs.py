"""TensorFlow graphs that a server traces when it is idle, while early requests run eagerly.

Tracing the ensemble's Grad-CAM graph takes about 3 s on 2 quiet cores (twice that beside a page
being drawn); running it eagerly once takes about 0.7 s. A command-line batch traces on its first
call (every later image is then fast). A server calls :func:`defer_tracing` before its warm-up: from
then on a graph is traced only by :meth:`GraphWhenReady.trace` (the warm-up thread, once
:func:`wait_until_idle` returns), and a request that finds its graph untraced runs the same
function eagerly instead of waiting for, or competing with, the trace.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

_deferred = threading.Event()
_last_eager_call = [0.0]  # monotonic time an eager call last ended (0: none yet)
_eager_in_flight = [0]
_activity = threading.Lock()


def defer_tracing() -> None:
    """Leave tracing to the warm-up thread from now on (see the module docstring); for servers."""
    _deferred.set()


def wait_until_idle(stop: threading.Event, quiet_s: float = 2.0, unused_s: float = 30.0) -> None:
    """Return once no eager call has run for ``quiet_s`` seconds after at least one did, or after
    ``unused_s`` seconds with none at all, or when ``stop`` is set."""
    began = time.monotonic()
    while not stop.wait(0.2):
        with _activity:
            busy, last = _eager_in_flight[0] > 0, _last_eager_call[0]
        now = time.monotonic()
        if not busy and ((last and now - last >= quiet_s) or (not last and now - began >= unused_s)):
            return


class GraphWhenReady:
    """``function`` as a ``tf.function`` with a fixed input signature, traced once.

    Parameters
    ----------
    function : callable
        TensorFlow code taking tensors that match ``signature``.
    signature : list of tf.TensorSpec
        The fixed input signature (one trace serves every batch size).
    """

    def __init__(self, function: Callable[..., Any], signature: list):
        import tensorflow as tf

        self._function = function
        # autograph=False: plain Python loops over members, nothing to convert; the trace is faster.
        self._graph = tf.function(function, input_signature=signature, autograph=False)
        self._traced = threading.Event()
        self._lock = threading.Lock()

    @property
    def traced(self) -> bool:
        """Whether the graph is ready."""
        return self._traced.is_set()

    def tracing_count(self) -> int:
        """How many times the graph was traced (1 once ready; never more with a fixed signature)."""
        return self._graph.experimental_get_tracing_count()

    def trace(self) -> None:
        """Trace the graph now, once (other callers run eagerly meanwhile)."""
        with self._lock:
            if not self._traced.is_set():
                self._graph.get_concrete_function()
                self._traced.set()

    def __call__(self, *args: Any) -> Any:
        if self._traced.is_set():
            return self._graph(*args)
        if _deferred.is_set() or self._lock.locked():
            with _activity:
                _eager_in_flight[0] += 1
            try:
                return self._function(*args)
            finally:
                with _activity:
                    _eager_in_flight[0] -= 1
                    _last_eager_call[0] = time.monotonic()
        self.trace()
        return self._graph(*args)
