"""linalg.falkon_dask against the in-memory FALKON, on dask's local scheduler.

The cluster contracts (workers, no row block on the client, a killed worker)
are in tests/test_dask.py; here the map-reduce itself: for any row chunking,
weights or none, kernel blocks kept or recomputed, the solution is the one
:func:`skntk.linalg.falkon` finds on the whole n x m kernel block.
"""

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skntk.kernels import gram
from skntk.linalg import falkon, falkon_dask, take_rows

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

KERNEL = functools.partial(gram, depth=2, b_std=0.1, dtype=np.float64)


@settings(max_examples=15, deadline=None)
@given(n=st.integers(30, 120), cuts=st.lists(st.floats(0.0, 1.0), max_size=5),
       weighted=st.booleans(), cache=st.booleans(), k=st.integers(1, 3),
       seed=st.integers(0, 2**16))
def test_any_row_chunking_gives_the_in_memory_solution(n, cuts, weighted, cache, k,
                                                       seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    Y = rng.normal(size=(n, k))
    sw = np.sqrt(rng.uniform(0.5, 2.0, size=n)) if weighted else None
    m = 12
    idx = np.sort(rng.choice(n, m, replace=False))
    # row chunks from random cut points (at least one row each)
    bounds = sorted({0, n, *(int(c * n) for c in cuts)})
    chunks = tuple(b - a for a, b in zip(bounds, bounds[1:]) if b > a)
    Xd = da.from_array(X, chunks=(chunks, -1))
    with dask.config.set(scheduler="synchronous"):
        C = take_rows(Xd, idx)
        beta, it = falkon_dask(
            Xd, da.from_array(Y, chunks=(chunks, -1)), C, 10.0, KERNEL,
            sqrt_weights=None if sw is None else da.from_array(sw, chunks=(chunks,)),
            max_iter=30, tol=1e-6, cache=cache)
    np.testing.assert_array_equal(C, X[idx])
    K_nm = KERNEL(X, X[idx])
    Yw = Y
    if sw is not None:
        K_nm *= sw[:, None]
        Yw = Y * sw[:, None]
    expected, it_expected = falkon(K_nm, KERNEL(X[idx]), Yw, 10.0, max_iter=30, tol=1e-6)
    assert it == it_expected
    # the predictions on the training rows: well determined even where the
    # centres are nearly collinear (a few centres in 4 dimensions)
    scale = np.abs(K_nm @ expected).max()
    np.testing.assert_allclose(K_nm @ beta, K_nm @ expected, rtol=0, atol=1e-10 * scale)


def test_float32_blocks_and_targets():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 5)).astype(np.float32)
    Y = rng.normal(size=(90, 1))
    kernel = functools.partial(gram, depth=1, dtype=np.float32)
    idx = np.arange(0, 90, 9)
    with dask.config.set(scheduler="synchronous"):
        beta, _ = falkon_dask(da.from_array(X, chunks=(25, -1)),
                              da.from_array(Y, chunks=(25, -1)), X[idx], 1.0, kernel,
                              max_iter=30, tol=1e-4, dtype=np.float32)
    assert beta.dtype == np.float32
    expected, _ = falkon(kernel(X, X[idx]), kernel(X[idx]), Y.astype(np.float32), 1.0,
                         max_iter=30, tol=1e-4)
    K = kernel(X, X[idx]).astype(np.float64)
    np.testing.assert_allclose(K @ beta, K @ expected, rtol=0,
                               atol=1e-3 * np.abs(K @ expected).max())
