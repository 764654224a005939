"""The kernel ridge estimators on Dask arrays: ``solver="nystrom"`` beyond one machine.

``fit`` with a ``dask.array`` X (chunked by rows) runs FALKON over the row
blocks on the workers (:func:`skntk.linalg.falkon_dask`): the centres, the m x m
preconditioner and one m x k sum per conjugate gradient iteration are all that
reach the client. The fitted model is the same as the in-memory one (numpy
``centers_`` and ``dual_coef_``): it predicts on numpy arrays as before, and
on a dask array returns a dask array (``map_blocks``, one task per row block).

dask is imported inside the functions only, and only once a dask array was
passed: :func:`is_dask_array` looks at ``sys.modules`` and never imports it.
Whether the kernel blocks are kept on the workers between iterations is the
Dask configuration value ``"skntk.nystrom-cache"``: ``"auto"`` (the default:
when they take at most half the cluster's worker memory), ``True`` or ``False``.
"""

import functools
import sys
import time

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets

from ..kernels import gram, ntk_kernel_diag
from ..linalg import check_memory, falkon_dask, take_rows
from ..utils.memory import format_bytes
from ..utils.warn import warn
from ._base import _NYSTROM_MAX_ITER, _Solution

__all__ = ["decision_dask", "fit_dask", "is_dask_array"]


def is_dask_array(obj):
    """Whether ``obj`` is a ``dask.array.Array`` (without importing dask)."""
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(obj, da.Array)


def _rows_only(X, name="X"):
    """X with one chunk along the columns and known row chunks."""
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-d dask array (n_samples, n_features), "
                         f"got {X.ndim} dimension(s).")
    if any(np.isnan(c) for c in X.chunks[0]) or np.isnan(X.shape[1]):
        raise ValueError(
            f"{name} is a dask array with unknown chunk sizes (NaN, e.g. from "
            "boolean indexing or a dask dataframe's .values): call "
            f"{name} = {name}.compute_chunk_sizes() (or use .to_dask_array("
            "lengths=True)) before fit.")
    if len(X.chunks[1]) > 1:
        warn(f"{name} is chunked along its {X.shape[1]} columns "
             f"({len(X.chunks[1])} column chunks): rechunking to whole rows "
             f"({name}.rechunk({{1: -1}})), which each kernel block needs. Chunk "
             "the array by rows only to avoid the rechunk.", UserWarning)
        X = X.rechunk({1: -1})
    return X


def _like_rows(a, X, name):
    """``a`` (numpy or dask, 1-d or 2-d) as a dask array with X's row chunks."""
    import dask.array as da

    if not is_dask_array(a):
        a = np.asarray(a)
        if a.shape[:1] != X.shape[:1]:
            raise ValueError(f"{name} has {a.shape[0] if a.ndim else 0} rows, X has "
                             f"{X.shape[0]}.")
        return da.from_array(a, chunks=(X.chunks[0],) + a.shape[1:])
    if any(np.isnan(c) for c in a.chunks[0]):
        raise ValueError(f"{name} is a dask array with unknown chunk sizes: call "
                         f"{name}.compute_chunk_sizes() before fit.")
    if a.shape[0] != X.shape[0]:
        raise ValueError(f"{name} has {a.shape[0]} rows, X has {X.shape[0]}.")
    # the row blocks of y must be X's: rechunk (cheap for targets and weights)
    return a.rechunk((X.chunks[0],) + tuple((s,) for s in a.shape[1:]))


def _cache_blocks(n, m, itemsize):
    import dask

    cache = dask.config.get("skntk.nystrom-cache", "auto")
    if cache in (True, False):
        return cache
    if cache != "auto":
        raise ValueError("The Dask config value 'skntk.nystrom-cache' must be "
                         f"'auto', True or False, got {cache!r}.")
    try:
        from distributed import get_client

        workers = get_client().scheduler_info(n_workers=-1)["workers"].values()
    except (ImportError, ValueError, TypeError):
        return False  # no cluster: recompute rather than hold n x m locally
    limit = sum(w.get("memory_limit") or 0 for w in workers)
    return 0 < n * m * itemsize <= limit / 2


def _validation_pass(est, X, y, sw, dtype, classes):
    """One pass over the data on the workers: finite, scale, weights, classes."""
    import dask
    import dask.array as da

    kw = est._kernel_kwargs()

    def diag_max(xb):
        d = ntk_kernel_diag(np.asarray(xb, dtype=np.float64), **kw, dtype=np.float64)
        return np.array([d.max() if d.size else 0.0])

    nblocks = len(X.chunks[0])
    tops = X.map_blocks(diag_max, drop_axis=1, chunks=((1,) * nblocks,),
                        meta=np.empty((0,), np.float64))
    y_fit = y if classes else y.astype(np.float64) * (1 if sw is None else sw[:, None])
    todo = dict(x_finite=da.isfinite(X).all(), top=tops.max(), nonzero=(X != 0).any())
    if classes:
        todo["classes"] = da.unique(y)
    else:
        todo["y_finite"] = da.isfinite(y_fit).all()
        with np.errstate(over="ignore"):
            todo["y_cast"] = da.isfinite(y_fit.astype(dtype)).all()
        todo["y_max"] = abs(y_fit).max()
    if sw is not None:
        todo["sw_ok"] = (da.isfinite(sw) & (sw >= 0)).all()
    return dict(zip(todo, dask.compute(*todo.values())))


def fit_dask(est, X, y, sample_weight, *, classifier):
    """Fit ``est`` (an NTKRegressor or NTKClassifier) on a dask X.

    Returns the dual weights (m, k) on the centres; the caller stores them.
    """
    est._start_fit()
    solver = est._resolved_solver()
    if solver != "nystrom" or est.device is not None:
        raise ValueError(
            "A dask array X needs solver='nystrom' (and device=None): the exact "
            "solvers factor the n x n Gram matrix in one process. Use "
            f"solver='nystrom', or X.compute() if it fits in memory (got "
            f"solver={est.solver!r}, device={est.device!r}).")
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise ValueError(f"X must hold real numbers, got dtype {X.dtype}.")
    X = _rows_only(X)
    n, d = X.shape
    if n < 2:
        raise ValueError(f"Found array with {n} sample(s) while a minimum of 2 is "
                         "required.")
    y = _like_rows(y, X, "y")
    if classifier and y.ndim != 1:
        raise ValueError(f"y must be 1-d class labels, got shape {y.shape}.")
    dtype = est._work_dtype()
    sw = None
    if sample_weight is not None:
        sw = _like_rows(sample_weight, X, "sample_weight").astype(np.float64)
        if sw.ndim != 1:
            raise ValueError("sample_weight must be 1-d.")
    t0 = time.perf_counter()
    stats = _validation_pass(est, X, y, sw, dtype, classifier)
    est._log(f"validation pass over {n} rows in {time.perf_counter() - t0:.1f} s")
    if not stats["x_finite"]:
        raise ValueError("Input X contains NaN or infinity.")
    if sw is not None and not stats["sw_ok"]:
        raise ValueError("sample_weight must be finite and non-negative.")
    est._check_kernel_scale(None, stats=(float(stats["top"]), bool(stats["nonzero"])))
    if classifier:
        classes = np.asarray(stats["classes"])
        check_classification_targets(classes)
        binarizer = LabelBinarizer(pos_label=1, neg_label=-1).fit(classes)
        est._label_binarizer, est.classes_ = binarizer, binarizer.classes_
        if len(est.classes_) < 2:
            raise ValueError(
                f"{type(est).__name__} needs samples of at least 2 classes in the "
                f"data, but the data contain only one class: {est.classes_[0]!r}.")
        Y = y.map_blocks(lambda b: binarizer.transform(b).astype(np.float64),
                         chunks=(y.chunks[0], (binarizer.transform(classes[:1]).shape[1],)),
                         new_axis=1, meta=np.empty((0, 0), np.float64))
    else:
        if not stats["y_finite"]:
            raise ValueError("Input y contains NaN or infinity.")
        if not stats["y_cast"]:
            raise ValueError(
                f"y has values up to {float(stats['y_max']):.3g}, which overflow "
                f"dtype={dtype.name!r} (max {np.finfo(dtype).max:.3g}); scale y or "
                "use dtype='float64'.")
        Y = y.astype(np.float64)
        Y = Y[:, None] if Y.ndim == 1 else Y
    est.n_features_in_ = d
    vars(est).pop("feature_names_in_", None)
    return _solve(est, X, Y, None if sw is None else _sqrt(sw), n, dtype)


def _solve(est, X, Y, sqrt_sw, n, dtype):
    m = est.n_components
    if m > n:
        warn(f"n_components={m} > n_samples={n}: using all {n} training samples "
             "as centres (n_components_), which is exact kernel ridge at a higher "
             "cost than solver='cholesky'.", UserWarning)
        m = n
    est.n_components_ = m
    check_memory((3 * m * m + m * X.shape[1]) * dtype.itemsize,
                 f"solver='nystrom' with n_components={m} (on the client)",
                 "Options: a smaller n_components, or dtype='float32'.")
    # the centres of the in-memory fit with the same random_state
    rng = check_random_state(est.random_state)
    idx = np.sort(rng.choice(n, size=m, replace=False))
    centers = np.ascontiguousarray(take_rows(X, idx), dtype=dtype)
    kernel = functools.partial(gram, **est._kernel_kwargs(), dtype=dtype)
    cache = _cache_blocks(n, m, dtype.itemsize)
    est._log(f"FALKON on {n} rows in {len(X.chunks[0])} blocks, {m} centres; kernel "
             f"blocks {format_bytes(n * m * dtype.itemsize)} "
             f"{'kept on the workers' if cache else 'recomputed each iteration'}")
    t0 = time.perf_counter()

    def progress(it):
        est._log(f"iteration {it}: {time.perf_counter() - t0:.1f} s")

    beta, n_iter = falkon_dask(X, Y, centers, float(est.alpha), kernel,
                               sqrt_weights=sqrt_sw, max_iter=_NYSTROM_MAX_ITER,
                               tol=est.tol, dtype=dtype, cache=cache,
                               callback=progress if est.verbose else None)
    est._log(f"conjugate gradients: {n_iter} iterations in "
             f"{time.perf_counter() - t0:.1f} s")
    if n_iter == _NYSTROM_MAX_ITER:
        warn(f"Conjugate gradients did not reach tol={est.tol} in {n_iter} "
             "iterations; increase alpha or tol.", ConvergenceWarning)
    est.X_fit_ = est.centers_ = centers
    est.support_ = idx
    est.n_iter_ = n_iter
    est.L_ = est.eigenvalues_ = est.eigenvectors_ = None
    est.jitter_ = 0.0
    est._solution = _Solution(kind="nystrom", alpha=float(est.alpha), n_train=m)
    return beta


def _apply(est, method, xb):
    return getattr(est, method)(xb)


def decision_dask(est, X, method, n_outputs, dtype=np.float64):
    """``est.<method>`` on each row block of the dask array X: a dask array of
    shape (n,) when ``n_outputs`` is None, else (n, n_outputs)."""
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-d dask array, got {X.ndim} dimension(s).")
    if len(X.chunks[1]) > 1:  # unknown row chunks are fine here
        X = X.rechunk({1: -1})
    if X.shape[1] != est.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features, but {type(est).__name__} is "
                         f"expecting {est.n_features_in_} features as input.")
    fn = functools.partial(_apply, est, method)
    if n_outputs is None:  # meta given: no call on an empty array here
        return X.map_blocks(fn, drop_axis=1, meta=np.empty((0,), dtype))
    return X.map_blocks(fn, chunks=(X.chunks[0], (n_outputs,)),
                        meta=np.empty((0, 0), dtype))


def _sqrt(a):
    import dask.array as da

    return da.sqrt(a)  # np.sqrt on each block, as the in-memory fit's
