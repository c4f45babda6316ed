from threadpoolctl import threadpool_info

from medai.threads import single_threaded


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
