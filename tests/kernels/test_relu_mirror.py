"""The symmetric Gram's upper triangle, which the ReLU engine writes at the
mirror position of each lower pair (blocks of ``ROW_BLOCK`` rows by
``COL_BLOCK`` columns; serial and parallel tiles, one or several tiles per
Gram), equals the cross Gram of X with itself and is exactly symmetric;
``lower_only`` leaves the upper triangle alone. The mirror pass of the
activation engines (``_mirror.mirror_lower``, numpy blocks over threads)
against numpy's ``tril``."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skntk import relu_kernel
from skntk.kernels import _engine, _mirror
from skntk.kernels._relu import gram


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 3 * _mirror.BLOCK + 5), seed=st.integers(0, 2**32 - 1),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_mirror_lower_is_the_lower_triangle_reflected(n, seed, dtype):
    rng = np.random.default_rng(seed)
    K = rng.standard_normal((n, n)).astype(dtype)
    low = np.tril(K, -1)
    diag = np.diag(K).copy()
    _mirror.mirror_lower(K)
    # every block boundary, the ragged last block and the diagonal blocks:
    # upper = lower transposed, the lower triangle and the diagonal untouched
    np.testing.assert_array_equal(K, low + low.T + np.diag(diag))


@pytest.mark.parametrize("n", [_mirror.BLOCK * 5 + 17, 3000])
def test_mirror_lower_threaded(n):
    # large enough to be split over the thread pool (K.size > _SERIAL)
    assert n * n > _mirror._SERIAL
    K = np.random.default_rng(n).standard_normal((n, n))
    low = np.tril(K, -1)
    diag = np.diag(K).copy()
    _mirror.mirror_lower(K)
    np.testing.assert_array_equal(K, low + low.T + np.diag(diag))


# one serial tile, one parallel tile, several serial tiles, several parallel ones
@pytest.mark.parametrize("n, working_memory",
                         [(40, None), (300, None), (300, 0.05), (600, 1.0)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kernel", ["ntk", "nngp", "both"])
def test_symmetric_gram_is_the_cross_gram_mirrored(n, working_memory, dtype, kernel):
    rng = np.random.default_rng(n)
    X = rng.standard_normal((n, 7)).astype(dtype)
    X[3] = X[5]  # a duplicated row and a near-parallel one: the refinement pass
    X[8] = X[9] * (1 + 1e-6)
    kw = dict(kernel=kernel, depth=3, w_std=1.3, b_std=0.2,
              working_memory=working_memory)
    Ks = relu_kernel(X, **kw)
    Kc = relu_kernel(X, X.copy(), **kw)
    for K, Kx in zip(*(((k,) if kernel != "both" else k) for k in (Ks, Kc))):
        assert K.dtype == dtype
        np.testing.assert_array_equal(K, K.T)
        lower = np.tril_indices(n, -1)
        # the strict lower triangle is the cross Gram's (the same arithmetic)
        np.testing.assert_array_equal(K[lower], Kx[lower])
        np.testing.assert_allclose(K, Kx, rtol=1e-5 if dtype == np.float32 else 1e-12)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 2 * _engine.COL_BLOCK + 3 * _engine.ROW_BLOCK + 3),
       working_memory=st.sampled_from([None, 0.02, 0.3]), seed=st.integers(0, 2**32 - 1),
       dtype=st.sampled_from([np.float32, np.float64]),
       kernel=st.sampled_from(["ntk", "nngp", "both"]))
def test_blocked_mirror_at_every_block_boundary(n, working_memory, seed, dtype, kernel):
    """Row and column blocks cut anywhere (ragged last blocks, tiles that start
    inside a row block, parallel ranges): the symmetric Gram is exactly
    symmetric, its lower triangle is the cross Gram's and its upper one the
    cross Gram's too, within the GEMM's rounding (syrk against gemm)."""
    X = np.random.default_rng(seed).standard_normal((n, 5)).astype(dtype)
    kw = dict(kernel=kernel, depth=2, b_std=0.3, working_memory=working_memory)
    Ks, Kc = relu_kernel(X, **kw), relu_kernel(X, X.copy(), **kw)
    for K, Kx in zip(*(((k,) if kernel != "both" else k) for k in (Ks, Kc))):
        np.testing.assert_array_equal(K, K.T)
        np.testing.assert_allclose(K, Kx, rtol=2e-5 if dtype == np.float32 else 1e-12,
                                   atol=0)


@pytest.mark.parametrize("n", [40, 300])
def test_lower_only_leaves_the_upper_triangle(n):
    X = np.random.default_rng(1).standard_normal((n, 5))
    K = relu_kernel(X, depth=2)
    L = gram(X, depth=2, lower_only=True)
    lower = np.tril_indices(n)
    np.testing.assert_array_equal(L[lower], K[lower])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_many_duplicated_rows_are_refined_in_parallel(dtype):
    """Enough near-parallel pairs to spread their refinement over the thread
    pool: the same values as one pair at a time."""
    rng = np.random.default_rng(2)
    base = rng.standard_normal((6, 200))
    X = base[rng.integers(0, 6, 300)].astype(dtype)
    K = relu_kernel(X, depth=2, b_std=0.1)
    for i, j in [(0, 1), (5, 200), (299, 17)]:
        pair = relu_kernel(X[[i, j]], depth=2, b_std=0.1)
        np.testing.assert_array_equal(K[[i, j]][:, [i, j]], pair)
    np.testing.assert_array_equal(K, K.T)
