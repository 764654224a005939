"""The symmetric Gram's upper triangle, written by the engine along with the
lower one (serial and parallel tiles, one or several tiles per Gram), equals
the cross Gram of X with itself and is exactly symmetric; ``lower_only``
leaves the upper triangle alone."""

import numpy as np
import pytest

from skntk import relu_kernel
from skntk.kernels._relu import gram


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
