"""Predictions run on one BLAS and one OpenMP thread.

The boosted trees (OpenMP) and the NumPy networks (OpenBLAS) share each small prediction among threads
that spin while they wait for one another. On a busy machine (another screen, a training run, other
sessions of the app) those spinning threads fight over the cores: beside two busy processes a 10-molecule
screen took 43 s (12 s of CPU), and 19 s (5.8 s) on one thread. The batches predicted here are small,
where one thread loses little; training keeps every thread.
"""

from __future__ import annotations

from functools import cache, wraps
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

    @wraps(function)
    def limited(*args, **kwargs) -> T:
        with _controller().limit(limits=1):
            return function(*args, **kwargs)

    return limited
