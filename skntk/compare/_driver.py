"""``skntk compare``'s cross-validation driver: every model on every fold.

Each (model, fold) is one :func:`_run_fold`, in this process or in ``--n-jobs``
worker processes; :class:`_Progress` is the bar on stderr.
"""

import contextlib
import sys
import time
import warnings

from ..utils.devices import limit_torch_threads
from ._models import ENGINE_MODELS, TORCH_LOADERS, TORCH_MODELS


def _worker_threads(n_jobs, n_tasks):
    """``(processes, threads per process)`` for ``n_jobs`` workers on ``n_tasks``.

    The cores are shared out: ``processes * threads <= cores`` (at least one
    thread each), so J processes never run J times the machine's threads.
    """
    from joblib import cpu_count, effective_n_jobs

    processes = max(1, min(effective_n_jobs(n_jobs), n_tasks))
    return processes, max(1, cpu_count() // processes)


_WARMED = set()  # the models whose libraries this process has loaded


def _warm_up(models):
    """Load in this process what ``models`` will need (once a process).

    A worker loads torch and the kernel engine before its first fold: loky
    measures each worker's memory after its first task and restarts a worker
    that grew by 300 MB since (its leak check), which importing torch during a
    later fold would trigger, paying every import again.
    """
    models = {m.split("@")[0] for m in models} - _WARMED  # mlp@256: the net
    _WARMED.update(models)
    if models & set(TORCH_LOADERS):
        from .. import TorchMLPClassifier  # noqa: F401  (skntk.nets loads torch)
    if models & set(ENGINE_MODELS):
        import numpy as np

        from .. import relu_kernel

        relu_kernel(np.eye(2), depth=1)


def _run_fold(model, k, estimator, X, y, train, test, torch_threads=None,
              threads=None, warm_up=()):
    """One model on one fold, through cross_validate; also its held-out predictions.

    ``threads`` (worker processes) caps the BLAS/OpenMP thread pools and
    torch's threads for this fold; ``warm_up`` lists the models whose
    libraries this process should load first (:func:`_warm_up`).
    """
    from sklearn.model_selection import cross_validate

    if warm_up:
        _warm_up(warm_up)
    if model.split("@")[0] in TORCH_MODELS:  # mlp@256: --widths' net
        if threads is not None:
            torch_threads = min(torch_threads or threads, threads)
        limit_torch_threads(torch_threads)

    # cross_validate times fit and score; the predictions for the agreement
    # come from one more predict of the fitted estimator it returns.
    with warnings.catch_warnings(record=True) as caught, _thread_limits(threads):
        warnings.simplefilter("always")
        res = cross_validate(estimator, X, y, cv=[(train, test)], scoring="accuracy",
                             return_estimator=True, error_score="raise")
        pred = res["estimator"][0].predict(X[test])
    messages = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    out = {"model": model, "fold": k, "accuracy": float(res["test_score"][0]),
           "fit_time": float(res["fit_time"][0]),
           "predict_time": float(res["score_time"][0]),
           "n_train": int(len(train)), "n_test": int(len(test)),
           "predictions": pred, "warnings": messages}
    from ._sweep import fitted_diagnostics

    diagnostics = fitted_diagnostics(res["estimator"][0])  # nets recording drift
    if diagnostics:
        out["diagnostics"] = diagnostics
    return out


def _thread_limits(threads):
    """threadpoolctl's limit on the BLAS and OpenMP pools (nothing if None)."""
    if threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads)


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class _Progress:
    """The run's progress on stderr: a tqdm bar on a terminal, lines in a log.

    tqdm's ``disable=None`` convention: a bar only when stderr is a terminal.
    Otherwise (a CI log, a file) one plain line per finished step,
    ``[3/15] ntk: fold 3/3 (12s)``, with no carriage returns; nothing at all
    with ``--quiet``.
    """

    def __init__(self, total, quiet, stream=None):
        self.stream = sys.stderr if stream is None else stream
        self.bar = None
        self.lines = not quiet and not _is_terminal(self.stream)
        self.total, self.done, self.text = total, 0, ""
        self.started = time.perf_counter()
        if quiet or self.lines:
            return
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, file=self.stream, unit="step", leave=False,
                        dynamic_ncols=True,
                        bar_format="{desc} {bar} {n_fmt}/{total_fmt} "
                                   "[{elapsed}<{remaining}]")

    def describe(self, text):
        """What runs now (the bar's label; a log line names it when it ends)."""
        self.text = text
        if self.bar is not None:
            self.bar.set_description_str(text)

    def update(self, n=1, text=None):
        """``n`` more steps done; ``text`` names them (default: the description)."""
        if n <= 0:
            return
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.lines:
            print(f"[{self.done}/{self.total}] {text or self.text} "
                  f"({time.perf_counter() - self.started:.0f}s)",
                  file=self.stream, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _cross_validate_all(models, estimators, X, y, folds, n_jobs, progress,
                        torch_threads, done=None, on_result=None):
    """Every (model, fold) not in ``done``; ``on_result`` sees each as it finishes.

    With ``n_jobs != 1`` the model-folds run in loky worker processes (one
    model-fold a task), the cores shared out by :func:`_worker_threads`.
    """
    from joblib import Parallel, delayed, parallel_config

    results = dict(done or {})
    tasks = [(m, k) for m in models for k in range(len(folds))
             if (m, k) not in results]

    def finished(res):
        if on_result is not None:
            on_result(res)  # checkpoint first: an interrupt after it keeps the fold
        results[res["model"], res["fold"]] = res
        progress.update(text=f"{res['model']}: fold {res['fold'] + 1}/{len(folds)}")

    if n_jobs == 1 or len(tasks) <= 1:
        for m, k in tasks:
            progress.describe(f"{m}: fold {k + 1}/{len(folds)}")
            finished(_run_fold(m, k, estimators[m], X, y, *folds[k], torch_threads))
        return results
    processes, threads = _worker_threads(n_jobs, len(tasks))
    progress.describe(f"{len(tasks)} model-folds, {processes} processes")
    needed = tuple(dict.fromkeys(m for m, _ in tasks))
    jobs = (delayed(_run_fold)(m, k, estimators[m], X, y, *folds[k], torch_threads,
                               threads, needed)
            for m, k in tasks)
    # inner_max_num_threads: the workers start with OMP/OpenBLAS/MKL/numba
    # thread counts of `threads` (numba reads its count once, at import);
    # under --scheduler/--dask the joblib backend in force is Dask's: keep it
    from joblib.parallel import get_active_backend

    on_dask = type(get_active_backend()[0]).__name__.startswith("Dask")
    with (contextlib.nullcontext() if on_dask else
          parallel_config(backend="loky", inner_max_num_threads=threads)):
        for res in Parallel(n_jobs=processes,
                            return_as="generator_unordered")(jobs):
            finished(res)
    return results
