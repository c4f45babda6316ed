import os
import subprocess
import sys

from threadpoolctl import threadpool_info

from medai.threads import single_threaded
from tests.conftest import REPO


def _threads() -> dict[str, int]:
    return {lib["user_api"]: lib["num_threads"] for lib in threadpool_info()}


def test_a_prediction_runs_on_one_thread_and_the_limit_is_lifted_after():
    import sklearn.ensemble  # noqa: F401  its OpenMP runtime, as a loaded model has it

    before = _threads()

    @single_threaded
    def predict() -> dict[str, int]:
        return _threads()

    during = predict()
    assert "openmp" in during and "blas" in during  # scikit-learn's OpenMP and NumPy's BLAS are both seen
    assert set(during.values()) == {1}
    assert _threads() == before
    assert predict.__name__ == "predict"


def test_openmp_is_limited_even_when_scikit_learn_is_first_imported_inside_the_limited_call():
    """A fresh interpreter, so the controller must load OpenMP itself (the test above imports scikit-learn first)."""
    code = ("from medai.threads import single_threaded\n"
            "@single_threaded\n"
            "def predict():\n"
            "    import sklearn.ensemble\n"
            "    from threadpoolctl import threadpool_info\n"
            "    return {lib['user_api']: lib['num_threads'] for lib in threadpool_info()}\n"
            "print(predict().get('openmp'))\n")
    env = {**os.environ, "OMP_NUM_THREADS": "4"}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "1"
