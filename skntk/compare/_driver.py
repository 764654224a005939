"""``skntk compare``'s cross-validation driver: every model on every fold.

Each (model, fold) is one :func:`_run_fold`, in this process or in ``--n-jobs``
worker processes; :class:`_Progress` is the bar on stderr.
"""

import sys
import warnings

from ..utils.devices import limit_torch_threads
from ._models import TORCH_MODELS


def _run_fold(model, k, estimator, X, y, train, test, torch_threads=None):
    """One model on one fold, through cross_validate; also its held-out predictions."""
    from sklearn.model_selection import cross_validate

    if model in TORCH_MODELS:
        limit_torch_threads(torch_threads)

    # cross_validate times fit and score; the predictions for the agreement
    # come from one more predict of the fitted estimator it returns.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = cross_validate(estimator, X, y, cv=[(train, test)], scoring="accuracy",
                             return_estimator=True, error_score="raise")
        pred = res["estimator"][0].predict(X[test])
    messages = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    return {"model": model, "fold": k, "accuracy": float(res["test_score"][0]),
            "fit_time": float(res["fit_time"][0]),
            "predict_time": float(res["score_time"][0]),
            "n_train": int(len(train)), "n_test": int(len(test)),
            "predictions": pred, "warnings": messages}


class _Progress:
    """A tqdm bar on stderr, or nothing with --quiet (plain lines without tqdm)."""

    def __init__(self, total, quiet):
        self.bar = None
        self.quiet = quiet
        self.total, self.done = total, 0
        if quiet:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is a dependency
            return
        self.bar = tqdm(total=total, file=sys.stderr, unit="step", leave=False,
                        dynamic_ncols=True,
                        bar_format="{desc} {bar} {n_fmt}/{total_fmt} "
                                   "[{elapsed}<{remaining}]")

    def describe(self, text):
        if self.bar is not None:
            self.bar.set_description_str(text)
        elif not self.quiet:
            print(f"[{self.done}/{self.total}] {text}", file=sys.stderr, flush=True)

    def update(self, n=1):
        self.done += n
        if self.bar is not None:
            self.bar.update(n)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _cross_validate_all(models, estimators, X, y, folds, n_jobs, progress,
                        torch_threads, done=None, on_result=None):
    """Every (model, fold) not in ``done``; ``on_result`` sees each as it finishes."""
    from joblib import Parallel, delayed

    results = dict(done or {})
    tasks = [(m, k) for m in models for k in range(len(folds))
             if (m, k) not in results]

    def finished(res):
        if on_result is not None:
            on_result(res)  # checkpoint first: an interrupt after it keeps the fold
        results[res["model"], res["fold"]] = res
        progress.update()

    if n_jobs == 1 or not tasks:
        for m, k in tasks:
            progress.describe(f"{m}: fold {k + 1}/{len(folds)}")
            finished(_run_fold(m, k, estimators[m], X, y, *folds[k], torch_threads))
        return results
    progress.describe(f"{len(tasks)} model-folds, n_jobs={n_jobs}")
    jobs = (delayed(_run_fold)(m, k, estimators[m], X, y, *folds[k], torch_threads)
            for m, k in tasks)
    for res in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs):
        finished(res)
    return results
