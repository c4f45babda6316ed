"""Predictions run on one BLAS and one OpenMP thread.

The boosted trees (OpenMP) and the NumPy networks (OpenBLAS) share each small prediction among threads
that spin while they wait for one another. On a busy machine (another screen, a training run, other
sessions of the app) those spinning threads fight over the cores: a 10-molecule screen beside two busy
processes took 43 s instead of 24 s, with 12 s of CPU instead of 4.5. The batches predicted here are
small, where one thread loses nothing; training keeps every thread.
"""

from __future__ import annotations

import functools
from functools import cache
from typing import Callable, TypeVar

from threadpoolctl import ThreadpoolController

T = TypeVar("T")


@cache
def _controller() -> ThreadpoolController:
    import sklearn.ensemble  # noqa: F401  loads the OpenMP runtime: a controller sees only loaded libraries

    return ThreadpoolController()


def single_threaded(function: Callable[..., T]) -> Callable[..., T]:
    """Decorator: ``function`` runs with BLAS and OpenMP limited to one thread, restored afterwards
    (OpenMP's limit holds for the calling thread; BLAS's for the process while the call lasts)."""

    @functools.wraps(function)
    def limited(*args, **kwargs) -> T:
        with _controller().limit(limits=1):
            return function(*args, **kwargs)

    return limited
