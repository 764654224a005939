"""FALKON on a Dask array: the Nyström solver for data that live on a cluster.

The same preconditioned conjugate gradients as :func:`skntk.linalg.falkon`
(:func:`~skntk.linalg.nystrom.falkon_pcg`), with the n x m kernel block K_nm
never formed in one place. X is a ``dask.array`` chunked by rows; each
conjugate gradient iteration is one map-reduce over its row blocks: the task
of block b computes (or reads from the workers' memory) K_b = k(X_b, C) and
returns the m x k matrix K_b' (K_b v), and these are summed by a tree
reduction. What reaches the client is O(m^2 + m d): the m centres, K_mm and
its two Cholesky factors, and one m x k sum per iteration.

The kernel is a picklable callable ``kernel(A, B=None)`` (e.g. a
``functools.partial`` of :func:`skntk.relu_kernel` built by the estimator):
this module knows no kernel. dask is imported inside the functions only, so
``import skntk.linalg`` does not need it.
"""

import numpy as np

from .nystrom import falkon_pcg

__all__ = ["falkon_dask", "take_rows"]


def take_rows(X, idx):
    """The rows ``idx`` (sorted indices) of the dask array X, as a numpy array.

    Each row block hands over only its selected rows; the m rows are all that
    reaches the client.
    """
    return np.asarray(X[np.asarray(idx)].compute())


def _kernel_block(xb, c, swb, *, kernel, kdtype):
    """k(X_b, C) in ``dtype``, rows scaled by the square roots of the weights."""
    # float64 rows, as the estimators' in-memory fit validates them; float32
    # rows for a float32 kernel as they are (the kernel rounds to float32 first)
    keep = kdtype == np.float32 and xb.dtype == np.float32
    K = kernel(xb if keep else np.asarray(xb, dtype=np.float64), c)
    if swb is not None:
        K *= np.asarray(swb).astype(kdtype)[:, None]
    return K


def _weighted_targets(yb, swb, dtype):
    y = np.asarray(yb, dtype=np.float64)
    if swb is not None:
        y = y * np.asarray(swb)[:, None]
    return y.astype(dtype)


def _normal_block(xb, c, swb, v, *, kernel, kdtype):
    """K_b' (K_b v) for one row block, recomputing K_b; shape (1, m, k)."""
    K = _kernel_block(xb, c, swb, kernel=kernel, kdtype=kdtype)
    return (K.T @ (K @ v))[None]


def _normal_cached(K, v):
    return (K.T @ (K @ v))[None]


def _rhs_block(xb, c, swb, yb, n, *, kernel, kdtype):
    """K_b' (y_b / n) for one row block; shape (1, m, k)."""
    K = _kernel_block(xb, c, swb, kernel=kernel, kdtype=kdtype)
    return (K.T @ (_weighted_targets(yb, swb, kdtype) / n))[None]


def _rhs_cached(K, swb, yb, n, *, kdtype):
    return (K.T @ (_weighted_targets(yb, swb, kdtype) / n))[None]


def falkon_dask(X, Y, centers, alpha, kernel, *, sqrt_weights=None, max_iter, tol,
                dtype=np.float64, cache=False, split_every=None, callback=None):
    """Nyström kernel ridge weights (m, k) by FALKON over a row-chunked dask X.

    Parameters
    ----------
    X : dask.array.Array of shape (n, d)
        Chunked by rows only (one chunk along the columns), known chunk sizes.
    Y : dask.array.Array of shape (n, k)
        Targets with the same row chunks as X (unweighted, any float dtype).
    centers : ndarray of shape (m, d)
        The Nyström centres, on the client.
    alpha : float >= 0
        Ridge in kernel ridge units, as in :func:`skntk.linalg.falkon`.
    kernel : callable
        ``kernel(A, B=None)``: the kernel matrix in ``dtype`` (symmetric
        Gram of A when B is None). Must be picklable to reach the workers.
    sqrt_weights : dask.array.Array of shape (n,), default=None
        Square roots of the sample weights, with X's row chunks.
    max_iter, tol
        As in :func:`skntk.linalg.falkon`.
    dtype : numpy dtype
        Of the kernel blocks and the solve.
    cache : bool, default=False
        Keep the kernel blocks k(X_b, C) in the workers' memory (``persist``;
        n m itemsize bytes across the cluster) instead of recomputing them in
        every iteration.
    split_every : int, default=None
        Fan-in of the tree reduction (dask's default when None).
    callback : callable, default=None
        Called as ``callback(n_iter)`` after each iteration's reduction.

    Returns
    -------
    beta : ndarray of shape (m, k)
    n_iter : int

    Examples
    --------
    >>> import functools
    >>> import numpy as np
    >>> import dask.array as da
    >>> from skntk.kernels import gram
    >>> from skntk.linalg import falkon, falkon_dask
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> Y = X[:, :1] ** 2
    >>> kernel = functools.partial(gram, depth=1, dtype=np.float64)
    >>> C = X[:20]  # the centres
    >>> beta, n_iter = falkon_dask(da.from_array(X, chunks=(50, 3)),
    ...                            da.from_array(Y, chunks=(50, 1)), C, 10.0, kernel,
    ...                            max_iter=50, tol=1e-6)
    >>> expected, _ = falkon(kernel(X, C), kernel(C), Y, 10.0, max_iter=50, tol=1e-6)
    >>> float(np.abs(beta - expected).max() / np.abs(expected).max()) < 1e-10
    True
    """
    import dask.array as da

    dtype = np.dtype(dtype)
    n = X.shape[0]
    centers = np.ascontiguousarray(centers, dtype=dtype)
    # the small operands travel once, as one-chunk arrays of the graph
    C = da.from_array(centers, chunks=centers.shape, name=False)
    sw_args = (None, None) if sqrt_weights is None else (sqrt_weights, "b")
    common = dict(kernel=kernel, kdtype=dtype)
    out_chunks = {"b": lambda _: 1}
    # meta given: dask would otherwise call the kernel on empty arrays, here
    meta2, meta3 = np.empty((0, 0), dtype), np.empty((0, 0, 0), dtype)

    K = None
    if cache:
        K = da.blockwise(_kernel_block, "bj", X, "bd", C, "jd", *sw_args,
                         meta=meta2, concatenate=True, **common).persist()
        rhs = da.blockwise(_rhs_cached, "bjl", K, "bj", *sw_args, Y, "bl", n, None,
                           meta=meta3, adjust_chunks=out_chunks, concatenate=True,
                           kdtype=dtype)
    else:
        rhs = da.blockwise(_rhs_block, "bjl", X, "bd", C, "jd", *sw_args, Y, "bl",
                           n, None, meta=meta3, adjust_chunks=out_chunks,
                           concatenate=True, **common)
    rhs = np.asarray(rhs.sum(axis=0, split_every=split_every).compute(), dtype=dtype)

    count = [0]

    def normal(u):
        v = da.from_array(np.ascontiguousarray(u, dtype=dtype), chunks=u.shape,
                          name=False)
        if K is not None:
            blocks = da.blockwise(_normal_cached, "bjl", K, "bj", v, "jl",
                                  meta=meta3, adjust_chunks=out_chunks)
        else:
            blocks = da.blockwise(_normal_block, "bjl", X, "bd", C, "jd", *sw_args,
                                  v, "jl", meta=meta3, adjust_chunks=out_chunks,
                                  concatenate=True, **common)
        out = np.asarray(blocks.sum(axis=0, split_every=split_every).compute(),
                         dtype=dtype)
        count[0] += 1
        if callback is not None:
            callback(count[0])
        return out

    K_mm = np.array(kernel(centers), dtype=dtype, order="C")  # on the client
    try:
        return falkon_pcg(normal, rhs, K_mm, n, alpha, max_iter=max_iter, tol=tol)
    finally:
        del K  # release the persisted blocks on the workers
