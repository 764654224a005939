"""hypothesis property tests: identities every ReLU NNGP/NTK must satisfy,
over generated inputs that include zero, duplicated, parallel, nearly parallel
(N(100, 1)), tiny (1e-150) and huge (1e150) rows."""

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from scipy.stats import special_ortho_group

from skntk import relu_kernel, relu_kernel_diag

ROW_KINDS = ("gauss", "zero", "dup", "parallel", "near_parallel", "tiny", "huge")


@st.composite
def inputs(draw, max_rows=8, kinds=ROW_KINDS, with_y=False):
    """An (n, d) float64 array whose rows are drawn from awkward kinds."""
    d = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)

    def block():
        n = draw(st.integers(1, max_rows))
        rows = []
        for kind in draw(st.lists(st.sampled_from(kinds), min_size=n, max_size=n)):
            if kind == "zero":
                rows.append(np.zeros(d))
            elif kind in ("dup", "parallel") and rows:
                src = rows[rng.integers(len(rows))]
                # (a huge row scaled up further would overflow the kernel itself)
                top = 1e3 if np.max(np.abs(src)) < 1e100 else 1.0
                rows.append(src.copy() if kind == "dup" else rng.uniform(1e-3, top) * src)
            elif kind == "near_parallel":
                rows.append(100.0 + rng.standard_normal(d))
            elif kind == "tiny":
                rows.append(1e-150 * rng.standard_normal(d))
            elif kind == "huge":
                rows.append(1e150 * rng.standard_normal(d))
            else:
                rows.append(rng.standard_normal(d) * 10.0 ** rng.uniform(-2, 2))
        return np.array(rows)

    X = block()
    return (X, block()) if with_y else X


# b_std below ~1e-150 makes b_std**2, hence k(0, 0), underflow to 0 while
# k(x, 0) ~ b_std |x| does not; such b_std are only used where no identity
# is measured relative to the diagonal (test_symmetric_finite_and_psd).
hypers = st.fixed_dictionaries({
    "depth": st.integers(1, 4),
    "w_std": st.floats(0.2, 3.0),
    "b_std": st.one_of(st.just(0.0), st.floats(1e-6, 2.0)),
})
any_hypers = st.fixed_dictionaries({
    "depth": st.integers(1, 4),
    "w_std": st.floats(0.0, 3.0),
    "b_std": st.floats(0.0, 2.0),
})


def scale(X, Y, kw, kernel="ntk"):
    """sqrt(k(x, x) k(y, y)), the natural size of entry (x, y)."""
    return np.outer(np.sqrt(relu_kernel_diag(X, kernel=kernel, **kw)),
                    np.sqrt(relu_kernel_diag(Y, kernel=kernel, **kw)))


def close(A, B, rtol, size):
    """|A - B| <= rtol * size entrywise, up to a few subnormal units (a b_std
    of 1e-320 underflows when squared)."""
    tiny = 16 * np.finfo(A.dtype).smallest_subnormal
    return np.all(np.abs(A.astype(np.float64) - B) <= rtol * size + tiny)


@given(inputs(), any_hypers)
@example(np.array([[0.0151], [6.4e-151]]),  # subnormal diagonal, once a failure
         {"depth": 3, "w_std": 0.015625, "b_std": 0.0})
def test_symmetric_finite_and_psd(X, kw):
    for kernel in ("ntk", "nngp"):
        K = relu_kernel(X, kernel=kernel, **kw)
        assert np.all(np.isfinite(K))
        np.testing.assert_array_equal(K, K.T)
        # PSD up to rounding, on the matrix normalised by its diagonal (rows of
        # norm 1e150 and 1e-150 side by side would otherwise drown the test)
        diag = relu_kernel_diag(X, kernel=kernel, **kw)
        # A diagonal entry below float64's normal range is a subnormal: stored
        # to an absolute, not relative, precision (test_subnormal_diagonal), so
        # normalising by it would magnify a correctly rounded value. Such rows
        # are checked by Cauchy-Schwarz up to that absolute precision instead.
        sub = np.finfo(np.float64).smallest_subnormal
        normal = diag >= np.finfo(np.float64).tiny
        root = np.sqrt(diag + sub)
        bound = np.outer(root, root) * (1 + 1e-12) + sub
        assert np.all(np.abs(K) <= bound)
        dg = np.sqrt(diag[normal])
        Kn = K[np.ix_(normal, normal)] / np.outer(dg, dg)
        if Kn.size:
            assert np.linalg.eigvalsh(Kn).min() >= -1e-10 * np.trace(Kn)


@pytest.mark.parametrize("kernel", ["ntk", "nngp"])
def test_subnormal_diagonal(kernel):
    """hypothesis found this: two parallel rows, the second so small that its
    kernel value underflows into float64's subnormals (7.3e-316, about nine
    significant digits). Every entry must still be the correctly rounded
    closed form: with b_std = 0 the kernel is homogeneous, and at angle 0
    S_{l+1} = w^2 S_l / 2 and T_{l+1} = S_{l+1} + w^2 T_l / 2 (DESIGN.md)."""
    x1, x2, w, depth = 0.0151, 6.4e-151, 0.015625, 3
    X = np.array([[x1], [x2]])
    K = relu_kernel(X, kernel=kernel, depth=depth, w_std=w, b_std=0.0)
    # per unit |x| |y|: S_1 = w^2, then each layer halves and scales by w^2
    s = t = w**2
    for _ in range(depth):
        s = w**2 * s / 2
        t = s + w**2 * t / 2
    unit = s if kernel == "nngp" else t
    np.testing.assert_allclose(K[0, 0], unit * x1 * x1, rtol=1e-15)
    np.testing.assert_allclose(K[1, 0], unit * x1 * x2, rtol=1e-15)
    assert K[0, 1] == K[1, 0]
    assert K[1, 1] < np.finfo(np.float64).tiny  # subnormal: absolute precision
    sub = np.finfo(np.float64).smallest_subnormal
    assert abs(K[1, 1] - unit * x2 * x2) <= sub
    np.testing.assert_array_equal(np.diag(K), relu_kernel_diag(
        X, kernel=kernel, depth=depth, w_std=w, b_std=0.0))


@given(inputs(), hypers)
def test_self_gram_equals_cross_gram_and_diag(X, kw):
    both = relu_kernel(X, kernel="both", **kw)
    cross = relu_kernel(X, X, kernel="both", **kw)
    diag = relu_kernel_diag(X, kernel="both", **kw)
    for k, kernel in enumerate(("nngp", "ntk")):
        s = scale(X, X, kw, kernel)
        assert close(both[k], cross[k], 1e-13, s)
        # the cross path computes the diagonal through the recursion, not the
        # closed form: the two must agree (to 1e-13 relative; a subnormal
        # value has absolute precision only: within one subnormal step, as
        # in test_subnormal_diagonal above)
        np.testing.assert_allclose(np.diag(cross[k]), diag[k], rtol=1e-13,
                                   atol=np.finfo(np.float64).smallest_subnormal)


@given(inputs(with_y=True, kinds=ROW_KINDS[:-1]), hypers, st.floats(1e-3, 1e3))
def test_positive_homogeneity_without_bias(XY, kw, c):
    """(Huge rows times c could overflow; test_extreme_scales covers them.)"""
    X, Y = XY
    assume(X.shape[1] == Y.shape[1])
    kw = dict(kw, b_std=0.0)
    for kernel in ("ntk", "nngp"):
        K = relu_kernel(X, Y, kernel=kernel, **kw)
        Kc = relu_kernel(c * X, Y, kernel=kernel, **kw)
        assert close(Kc, c * K, 1e-12, c * scale(X, Y, kw, kernel))


@given(inputs(with_y=True, kinds=("gauss", "zero", "dup", "parallel", "near_parallel")),
       hypers, st.integers(0, 2**32 - 1))
def test_rotation_invariance(XY, kw, seed):
    X, Y = XY
    d = X.shape[1]
    assume(Y.shape[1] == d and d >= 2)
    Q = special_ortho_group.rvs(d, random_state=seed)
    K = relu_kernel(X, Y, **kw)
    KQ = relu_kernel(X @ Q, Y @ Q, **kw)
    assert close(KQ, K, 1e-11, scale(X, Y, kw))


@given(inputs(max_rows=12), hypers, st.floats(1e-6, 1e-3))
def test_block_size_does_not_change_result(X, kw, wm):
    """working_memory of a few bytes means one row per tile."""
    K = relu_kernel(X, **kw)
    Kb = relu_kernel(X, working_memory=wm, **kw)
    assert close(Kb, K, 1e-14, scale(X, X, kw))
    Y = X[::-1]
    Kc = relu_kernel(X, Y, **kw)
    Kcb = relu_kernel(X, Y, working_memory=wm, **kw)
    assert close(Kcb, Kc, 1e-14, scale(X, Y, kw))


@given(inputs(with_y=True, kinds=("gauss", "zero", "dup", "parallel", "near_parallel")),
       hypers)
def test_float32_close_to_float64(XY, kw):
    X, Y = XY
    assume(X.shape[1] == Y.shape[1])
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)
    for kernel in ("ntk", "nngp"):
        K32 = relu_kernel(X32, Y32, kernel=kernel, **kw)
        assert K32.dtype == np.float32
        K64 = relu_kernel(X32.astype(np.float64), Y32.astype(np.float64),
                          kernel=kernel, **kw)
        assert close(K32, K64, 1e-4, scale(X32, Y32, kw, kernel))
        S32 = relu_kernel(X32, kernel=kernel, **kw)
        assert np.all(np.isfinite(S32))
        np.testing.assert_array_equal(S32, S32.T)


def test_extreme_scales_are_finite_and_exact_ratios():
    """Rows of norm 1e-150 and 1e150 (products overflow or underflow without
    rescaling) give finite values, and by homogeneity the same normalised
    kernel as unit-scale rows."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 4))
    K1 = relu_kernel(X, depth=3)
    for c in (1e-150, 1e150):
        Kc = relu_kernel(c * X, depth=3)
        assert np.all(np.isfinite(Kc))
        np.testing.assert_allclose(Kc / c**2, K1, rtol=1e-13)


def test_rows_whose_kernel_overflows_get_a_clear_error():
    X = np.array([[1.0, 2.0], [1e200, 0.0]])
    with pytest.raises(ValueError, match="overflow.*rescale"):
        relu_kernel(X)
    with pytest.raises(ValueError, match="overflow"):
        relu_kernel_diag(np.full((2, 2), 1e30, dtype=np.float32))


@pytest.mark.parametrize("c, w_std, b_std, engine32", [
    (1.0, 1.0, 0.1, True),     # the float32 recursion
    (1e-20, 1.0, 0.0, False),  # norms near float32's subnormals: float64 recursion
    (1e16, 1.0, 0.0, False),   # kernel values within 1e8 of float32's overflow
    (1.0, 1e-3, 1e16, False),  # b_std**2 = 1e32 leaves float32's comfortable range
])
def test_float32_output_matches_float64_whichever_recursion_runs(c, w_std, b_std, engine32):
    """float32 output runs the recursion in float32 unless magnitudes come
    within 1e8 of float32's limits; both give float64's values to float32
    accuracy, nearly parallel pairs included."""
    from skntk.kernels._relu import _recursion_dtype, _Rows

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6))
    X[1] = X[0] * (1 + 1e-6)  # nearly parallel: refined from explicit rows
    X32 = (c * X).astype(np.float32)
    kw = dict(depth=3, w_std=w_std, b_std=b_std)
    rows = _Rows(X32, np.dtype(np.float32), 3, w_std, b_std)
    work = _recursion_dtype(np.dtype(np.float32), w_std**2, b_std**2, rows, rows)
    assert (work == np.float32) == engine32
    for Y in (None, X32[::-1][:17]):
        K32 = relu_kernel(X32, Y, **kw)
        K64 = relu_kernel(X32.astype(np.float64),
                          None if Y is None else Y.astype(np.float64), **kw)
        assert K32.dtype == np.float32
        np.testing.assert_allclose(K32, K64, rtol=5e-6, atol=5e-6 * np.abs(K64).max())
