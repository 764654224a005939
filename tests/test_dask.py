"""Model selection on a Dask cluster gives the local results (issue 10).

``GridSearchCV(..., n_jobs=-1)`` under joblib's "dask" backend, on a
``dask.distributed.LocalCluster`` of two worker processes started here, must
give the same ``cv_results_`` scores, bit for bit, as the same search run
locally with ``n_jobs=1``: for a pipeline ending in :class:`skntk.NTKClassifier`
and one ending in :class:`skntk.TorchMLPClassifier`. The estimators travel to
the workers by pickle, unfitted, and come back fitted; nothing in skntk knows
about Dask. See docs/distributed.rst for a real cluster.
"""

import logging
import os
import time
import warnings

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skntk import NTKClassifier, TorchMLPClassifier
from skntk.datasets import make_teacher_network

distributed = pytest.importorskip("dask.distributed")

N_WORKERS = 2


@pytest.fixture(scope="module")
def client():
    # distributed's nanny writes OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1,
    # PYTHONHASHSEED, ... into this process's os.environ for its workers and
    # leaves them there: every later subprocess of the test run would inherit
    # them (single-threaded OpenBLAS rounds some triangular solves differently
    # on this CPU). Restore the environment when the cluster is gone.
    environ = dict(os.environ)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. a dashboard port already in use
        cluster = distributed.LocalCluster(
            n_workers=N_WORKERS, threads_per_worker=1, processes=True,
            dashboard_address=None, silence_logs=logging.ERROR)
    client = distributed.Client(cluster)
    try:
        client.wait_for_workers(N_WORKERS, timeout=120)
        yield client
    finally:
        client.close()
        cluster.close()
        os.environ.clear()
        os.environ.update(environ)


def _data():
    # the seed's teacher network: hard enough that the candidates score apart
    return make_teacher_network(150, 10, 10, threshold="median", random_state=0)


SEARCHES = {
    "NTKClassifier": (
        make_pipeline(StandardScaler(), NTKClassifier()),
        {"ntkclassifier__alpha": [1e-3, 1e-1], "ntkclassifier__depth": [1, 3]},
    ),
    "TorchMLPClassifier": (
        make_pipeline(StandardScaler(), TorchMLPClassifier(
            max_iter=15, n_iter_no_change=np.inf, random_state=0)),
        {"torchmlpclassifier__hidden_layer_sizes": [(16,), (32,)],
         "torchmlpclassifier__learning_rate_init": [1e-3, 1e-2]},
    ),
}

_SCORE_KEYS = ("mean_test_score", "std_test_score", "rank_test_score",
               "mean_train_score")


def _search(name, n_jobs):
    pipe, grid = SEARCHES[name]
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    return GridSearchCV(pipe, grid, cv=cv, n_jobs=n_jobs, return_train_score=True)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SEARCHES))
def test_grid_search_on_a_dask_cluster_equals_the_local_run(client, name):
    X, y = _data()
    local = _search(name, n_jobs=1).fit(X, y)

    start = time.perf_counter()
    with distributed.get_task_stream(client) as stream:
        with joblib.parallel_config(backend="dask"):
            remote = _search(name, n_jobs=-1).fit(X, y)
    elapsed = time.perf_counter() - start

    # the fits really ran on the cluster's workers
    workers = {task["worker"] for task in stream.data}
    assert len(stream.data) > 0
    assert workers <= set(client.scheduler_info()["workers"])
    print(f"\n{name}: {len(local.cv_results_['params'])} candidates x 3 folds on "
          f"{len(workers)} Dask workers in {elapsed:.1f} s")

    assert remote.cv_results_["params"] == local.cv_results_["params"]
    n_splits = local.n_splits_
    for key in _SCORE_KEYS + tuple(f"split{i}_test_score" for i in range(n_splits)):
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key],
                                      err_msg=key)
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(remote.predict(X), local.predict(X))
    # an honest search: the candidates do differ
    assert np.ptp(local.cv_results_["mean_test_score"]) > 0
    assert local.best_score_ > 0.65  # better than chance (0.5) on this task
