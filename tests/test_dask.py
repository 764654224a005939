"""Model selection on a Dask cluster gives the local results (issue 10).

``GridSearchCV(..., n_jobs=-1)`` under joblib's "dask" backend, on a
``dask.distributed.LocalCluster`` of two worker processes started here, must
give the same ``cv_results_`` scores, bit for bit, as the same search run
locally with ``n_jobs=1``: for a pipeline ending in :class:`skntk.NTKClassifier`
and one ending in :class:`skntk.TorchMLPClassifier`. The estimators travel to
the workers by pickle, unfitted, and come back fitted; nothing in skntk knows
about Dask. See docs/distributed.rst for a real cluster.
"""

import concurrent.futures
import json
import logging
import os
import subprocess
import sys
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


# ---- issue 19: solver="nystrom" on Dask arrays -------------------------------- #
#
# The Dask fit runs FALKON over the row blocks on the workers; for the same
# centres (same random_state) and iterations it must equal the in-memory
# Nyström fit, which is the independent reference here (one n x m kernel block
# and one BLAS product per iteration, against a tree sum of per-block products).
# alpha = 10 keeps the preconditioned system well conditioned: with alpha near 0
# the conjugate gradients amplify the rounding of any reordered sum (the block
# sums here, or a different BLAS) well past 1e-10 (1e-9 at alpha = 1, m = 60).

import dask  # noqa: E402
import dask.array as da  # noqa: E402

from skntk import NTKRegressor  # noqa: E402
from skntk.kernels import gram  # noqa: E402
from skntk.linalg import falkon, falkon_dask  # noqa: E402

NYSTROM = dict(solver="nystrom", n_components=100, alpha=10.0, depth=2, b_std=0.1,
               random_state=0, tol=1e-6)


def _regression_data(n=600, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = np.c_[np.sin(X[:, 0]) + X[:, 1] ** 2, np.cos(X[:, 2])]
    return X, Y, rng.uniform(0.5, 2.0, size=n)


def _close(actual, expected, rtol=1e-10):
    actual, expected = np.asarray(actual), np.asarray(expected)
    scale = np.max(np.abs(expected))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=rtol * scale)


@pytest.mark.parametrize("cache", [False, True])
def test_dask_nystrom_regressor_equals_the_in_memory_fit(client, cache):
    X, Y, w = _regression_data()
    local = NTKRegressor(**NYSTROM).fit(X, Y, sample_weight=w)
    Xd = da.from_array(X, chunks=(128, -1))
    with dask.config.set({"skntk.nystrom-cache": cache}):
        remote = NTKRegressor(**NYSTROM).fit(
            Xd, da.from_array(Y, chunks=(200, -1)),  # y rechunked to X's blocks
            sample_weight=da.from_array(w, chunks=300))
    np.testing.assert_array_equal(remote.support_, local.support_)
    np.testing.assert_array_equal(remote.centers_, local.centers_)
    assert remote.n_iter_ == local.n_iter_
    _close(remote.dual_coef_, local.dual_coef_)
    pred = remote.predict(Xd)
    assert isinstance(pred, da.Array) and pred.shape == Y.shape
    _close(pred.compute(), local.predict(X))
    assert isinstance(remote.predict(X), np.ndarray)  # numpy in, numpy out


def test_dask_nystrom_classifier_equals_the_in_memory_fit(client):
    X, Y, _ = _regression_data(n=500)
    labels = np.array(["a", "b", "c"])[np.digitize(Y[:, 0], [0.5, 1.5])]
    params = dict(NYSTROM, dtype="float32")
    local = NTKClassifier(**params).fit(X, labels)
    Xd = da.from_array(X.astype(np.float32), chunks=(100, -1))
    remote = NTKClassifier(**params).fit(Xd, da.from_array(labels, chunks=250))
    np.testing.assert_array_equal(remote.classes_, local.classes_)
    assert remote.dual_coef_.dtype == np.float32 and remote.n_iter_ == local.n_iter_
    # float32: the block sums round differently from one product, and CG at
    # this conditioning amplifies float32 rounding: the in-memory float32 fit
    # itself is 1.7e-4 (relative to the largest coefficient) from the float64
    # fit, and the Dask fit 4e-5..1e-4 from the in-memory one depending on the
    # chunking and BLAS threads (measured), so 1e-4 failed now and then in CI
    _close(remote.dual_coef_, local.dual_coef_, rtol=1e-3)
    exact = NTKClassifier(**NYSTROM).fit(X, labels)  # float64
    _close(remote.dual_coef_, exact.dual_coef_, rtol=1e-3)
    scores = remote.decision_function(Xd)
    assert isinstance(scores, da.Array) and scores.shape == (500, 3)
    _close(scores.compute(), local.decision_function(X), rtol=1e-3)
    labels_pred = remote.predict(Xd)
    assert isinstance(labels_pred, da.Array)
    assert np.mean(labels_pred.compute() == local.predict(X)) > 0.99


def test_chunk_size_does_not_change_the_fit(client):
    X, Y, _ = _regression_data(n=500)
    fits = [NTKRegressor(**NYSTROM).fit(da.from_array(X, chunks=(c, -1)), Y[:, 0])
            for c in (37, 250, 500)]
    for fit in fits[1:]:
        _close(fit.dual_coef_, fits[0].dual_coef_, rtol=1e-12)
        assert fit.dual_coef_.shape == (NYSTROM["n_components"],)


def _recording_kernel(directory, kill_once=False):
    """A picklable kernel that writes (pid, rows) of each call into
    ``directory``; with ``kill_once`` the first call on a worker kills it."""
    def kernel(A, B=None):
        pid = os.getpid()
        if kill_once and pid != client_pid:
            marker = os.path.join(directory, "killed")
            if not os.path.exists(marker):
                open(marker, "w").close()
                os._exit(1)  # a worker process dies in the middle of the fit
        with open(os.path.join(directory, f"{pid}.log"), "a") as f:
            f.write(f"{len(A)}\n")
        return gram(A, B, depth=2, dtype=np.float64)

    client_pid = os.getpid()
    return kernel


def test_no_row_block_reaches_the_client(client, tmp_path):
    X, Y, _ = _regression_data()
    n, m = len(X), 40
    idx = np.sort(np.random.default_rng(0).choice(n, m, replace=False))
    Xd = da.from_array(X, chunks=(100, -1))
    kernel = _recording_kernel(str(tmp_path))
    beta, n_iter = falkon_dask(Xd, da.from_array(Y, chunks=(100, -1)), X[idx], 1.0,
                               kernel, max_iter=5, tol=1e-12)
    calls = {int(p.stem): [int(r) for r in p.read_text().split()]
             for p in tmp_path.glob("*.log")}
    # the client computed one kernel: K_mm of the m centres
    assert calls.pop(os.getpid()) == [m]
    # the workers computed every row block, in each of the 1 + 5 passes
    workers = set(client.run(os.getpid).values())
    assert calls and set(calls) <= workers
    assert sum(sum(rows) for rows in calls.values()) == (1 + n_iter) * n
    assert max(max(rows) for rows in calls.values()) == 100
    # and the answer is FALKON's on the whole kernel block
    expected, it = falkon(gram(X, X[idx], depth=2), gram(X[idx], depth=2), Y, 1.0,
                          max_iter=5, tol=1e-12)
    assert it == n_iter == 5
    _close(beta, expected)


@pytest.mark.parametrize("cache", [False, True])
def test_a_worker_killed_mid_fit_is_survived(client, tmp_path, cache):
    X, Y, _ = _regression_data()
    idx = np.sort(np.random.default_rng(0).choice(len(X), 40, replace=False))
    Xd = da.from_array(X, chunks=(100, -1))
    Yd = da.from_array(Y, chunks=(100, -1))
    args = (Xd, Yd, X[idx], 1.0)
    kw = dict(max_iter=8, tol=1e-12, cache=cache)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    undisturbed, _ = falkon_dask(*args, _recording_kernel(str(tmp_path / "a")), **kw)
    kernel = _recording_kernel(str(tmp_path / "b"), kill_once=True)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        future = pool.submit(falkon_dask, *args, kernel, **kw)
        beta, _ = future.result(timeout=120)  # never a hang
    assert (tmp_path / "b" / "killed").exists()  # a worker did die
    _close(beta, undisturbed, rtol=1e-12)
    client.wait_for_workers(N_WORKERS, timeout=60)


def test_bad_dask_input(client):
    X, Y, _ = _regression_data(n=300)
    reference = NTKRegressor(**NYSTROM).fit(X, Y[:, 0])
    # chunked along the columns: rechunked to whole rows, with a warning
    by_columns = da.from_array(X, chunks=(100, 2))
    with pytest.warns(UserWarning, match="rechunk"):
        fit = NTKRegressor(**NYSTROM).fit(by_columns, Y[:, 0])
    _close(fit.dual_coef_, reference.dual_coef_)
    # unknown chunk sizes: a clear error naming the fix
    Xd = da.from_array(X, chunks=(100, -1))
    unknown = Xd[Xd[:, 0] > -np.inf]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        NTKRegressor(**NYSTROM).fit(unknown, Y[:, 0])
    # y of another length, and an exact solver: clear errors
    with pytest.raises(ValueError, match="y has 299 rows"):
        NTKRegressor(**NYSTROM).fit(Xd, Y[:-1, 0])
    with pytest.raises(ValueError, match="solver='nystrom'"):
        NTKRegressor().fit(Xd, Y[:, 0])
    bad = X.copy()
    bad[5, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        NTKRegressor(**NYSTROM).fit(da.from_array(bad, chunks=(100, -1)), Y[:, 0])
    assert np.isnan(unknown.chunks[0][0])  # the user's array was left as it was


def test_numpy_input_does_not_import_dask():
    code = ("import sys, numpy as np, skntk; rng = np.random.default_rng(0); "
            "X = rng.normal(size=(50, 3)); "
            "m = skntk.NTKRegressor(solver='nystrom', n_components=10).fit(X, X[:, 0]); "
            "m.predict(X); skntk.NTKClassifier().fit(X, X[:, 0] > 0).predict(X); "
            "sys.exit(1 if 'dask' in sys.modules else 0)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_compare_cli_runs_the_folds_on_the_scheduler(client, tmp_path, capsys):
    from skntk.compare._cli import main

    argv = ["compare", "--quick", "--models", "ntk", "--no-figures", "--quiet"]
    with distributed.get_task_stream(client) as stream:
        code = main(argv + ["--scheduler", client.scheduler.address,
                            "--output", str(tmp_path / "dask")])
    assert code == 0, capsys.readouterr().err
    assert len(stream.data) >= 3  # the three folds ran as tasks on the workers
    assert main(argv + ["--output", str(tmp_path / "local")]) == 0

    def accuracies(name):
        report = json.loads((tmp_path / name / "results.json").read_text())
        return sorted((r["fold"], r["accuracy"]) for r in report["results"])

    assert accuracies("dask") == accuracies("local")
    # a scheduler that is not there: one line, exit status 1, no traceback
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        code = main(argv + ["--scheduler", "tcp://127.0.0.1:1", "--output",
                            str(tmp_path / "none")])
    assert code == 1 and "cannot reach the Dask scheduler" in capsys.readouterr().err
