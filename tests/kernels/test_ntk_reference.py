"""The kernel against independent references: neural-tangents, mpmath, the
course notebook's formula and closed forms at angle 0."""

import numpy as np
import pytest
from _reference import augmented_cosine, mp_relu_kernel, tp5_two_layer_ntk
from conftest import NT_WB

from skntk import relu_kernel, relu_kernel_diag

SETS = ("gauss", "edge", "d784")
DEPTHS = (1, 2, 3)


def _scale(dx, dy):
    """sqrt(k(x, x) k(y, y)): the natural size of entry (x, y)."""
    return np.sqrt(np.outer(dx, dy))


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("wb", list(NT_WB))
@pytest.mark.parametrize("name", SETS)
def test_matches_neural_tangents(nt_fixture, name, wb, depth):
    """Every entry within rtol 1e-12 of neural-tangents, except where its angle
    is (nearly) 0: there neural-tangents is off by up to ~3e-8 (fixture
    README), and we check against a 60-digit evaluation instead."""
    w, b = NT_WB[wb]
    X1, X2 = nt_fixture[f"{name}_X1"], nt_fixture[f"{name}_X2"]
    for block, A, B, ours in (
        ("train", X1, X1, relu_kernel(X1, kernel="both", depth=depth, w_std=w, b_std=b)),
        ("cross", X2, X1, relu_kernel(X2, X1, kernel="both", depth=depth, w_std=w,
                                      b_std=b)),
    ):
        near_parallel = np.abs(augmented_cosine(A, B, w, b)) > 1 - 1e-6
        mp_ref = mp_relu_kernel(A, B, depth, w, b) if near_parallel.any() else None
        for k, kind in enumerate(("nngp", "ntk")):
            ref = nt_fixture[f"{name}_L{depth}_{wb}_{kind}_{block}"]
            scale = _scale(relu_kernel_diag(A, kernel=kind, depth=depth, w_std=w,
                                            b_std=b),
                           relu_kernel_diag(B, kernel=kind, depth=depth, w_std=w,
                                            b_std=b))
            tol = 1e-12 * np.abs(ref) + 1e-15 * scale
            ok = np.abs(ours[k] - ref) <= tol
            assert ok[~near_parallel].all(), (kind, block, np.argwhere(~ok))
            if mp_ref is not None:
                m = near_parallel
                err = np.abs(ours[k][m] - mp_ref[k][m])
                assert np.all(err <= 1e-14 * np.abs(mp_ref[k][m]) + 1e-15 * scale[m])
                # and neural-tangents is indeed only good to its documented 3e-8
                assert np.all(np.abs(ref[m] - mp_ref[k][m])
                              <= 5e-8 * np.abs(mp_ref[k][m]) + 1e-15 * scale[m])


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("wb", list(NT_WB))
@pytest.mark.parametrize("name", SETS)
def test_diag_matches_references(nt_fixture, name, wb, depth):
    w, b = NT_WB[wb]
    for tag in ("1", "2"):
        X = nt_fixture[f"{name}_X{tag}"]
        nngp, ntk = relu_kernel_diag(X, kernel="both", depth=depth, w_std=w, b_std=b)
        ref_nngp = nt_fixture[f"{name}_L{depth}_{wb}_nngp_diag{tag}"]
        ref_ntk = nt_fixture[f"{name}_L{depth}_{wb}_ntk_diag{tag}"]
        np.testing.assert_allclose(nngp, ref_nngp, rtol=1e-12, atol=0)
        # neural-tangents' NTK diagonal carries its spurious angle of ~1e-8
        np.testing.assert_allclose(ntk, ref_ntk, rtol=5e-8, atol=0)
        mp_nngp, mp_ntk = (np.diag(k) for k in mp_relu_kernel(X, X, depth, w, b))
        np.testing.assert_allclose(nngp, mp_nngp, rtol=1e-14, atol=0)
        np.testing.assert_allclose(ntk, mp_ntk, rtol=1e-14, atol=0)


def test_more_exact_than_neural_tangents_on_the_diagonal(nt_fixture):
    """Where the true angle is 0, our error is at rounding level while
    neural-tangents' is ~1e-8 (the point of the stable angle)."""
    X = nt_fixture["d784_X1"]
    ours = np.diag(relu_kernel(X, X, depth=3, w_std=2**0.5))
    nt = nt_fixture["d784_L3_wsqrt2_b0_ntk_train"].diagonal()
    exact = np.diag(mp_relu_kernel(X, X, 3, 2**0.5, 0.0)[1])
    our_err = np.max(np.abs(ours - exact) / exact)
    nt_err = np.max(np.abs(nt - exact) / exact)
    assert our_err < 1e-14
    assert nt_err > 1e-9


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("b_std", [0.0, 0.3])
def test_nearly_parallel_rows_match_mpmath(depth, b_std):
    """Rows drawn from N(100, 1): every cosine is close to 1, the regime where
    arccos of a clipped cosine loses half the digits."""
    rng = np.random.default_rng(3)
    X = 100.0 + rng.standard_normal((25, 6))
    Y = 100.0 + rng.standard_normal((7, 6))
    for A, B, ours in ((X, X, relu_kernel(X, kernel="both", depth=depth, b_std=b_std)),
                       (Y, X, relu_kernel(Y, X, kernel="both", depth=depth,
                                          b_std=b_std))):
        ref = mp_relu_kernel(A, B, depth, 1.0, b_std)
        for k in range(2):
            np.testing.assert_allclose(ours[k], ref[k], rtol=1e-13, atol=0)


def test_exactly_parallel_and_duplicate_rows_use_angle_zero():
    """Closed form at angle 0: S_{l+1} = w^2 sqrt(S_l(x,x) S_l(y,y)) / 2 + b^2,
    T_{l+1} = S_{l+1} + w^2 T_l / 2, for duplicates and positive multiples."""
    rng = np.random.default_rng(0)
    g = rng.standard_normal((3, 5))
    X = np.vstack([g, g[0], 1e-8 * g[1], 1e6 * g[2], 3.0 * g[0]])
    Y = np.vstack([g[0], g[1], g[2]])
    pairs = [(0, 0), (3, 0), (4, 1), (5, 2), (6, 0), (1, 1), (2, 2)]
    w = 1.3
    for depth in (1, 2, 3):
        nngp, ntk = relu_kernel(X, Y, kernel="both", depth=depth, w_std=w)
        for i, j in pairs:
            sxx = w**2 * X[i] @ X[i] / 5
            syy = w**2 * Y[j] @ Y[j] / 5
            s = t = np.sqrt(sxx * syy)
            for _ in range(depth):
                sxx, syy = w**2 * sxx / 2, w**2 * syy / 2
                s = np.sqrt(sxx * syy)
                t = s + w**2 * t / 2
            assert nngp[i, j] == pytest.approx(s, rel=1e-14)
            assert ntk[i, j] == pytest.approx(t, rel=1e-14)


def test_course_notebook_formula_is_d_times_ntk():
    """Seed 'TP5: Neural Tangent Kernel': its two-layer kernel equals d times
    our NTK at depth 1, w_std 1, b_std 0 (neural-tangents divides x.x' by d)."""
    rng = np.random.default_rng(7)
    X = rng.uniform(0, 1, size=(30, 784))  # pixel-like, cosines well inside (-1, 1)
    Y = rng.uniform(0, 1, size=(12, 784))
    ours = relu_kernel(Y, X, depth=1, w_std=1.0, b_std=0.0)
    np.testing.assert_allclose(784 * ours, tp5_two_layer_ntk(Y, X), rtol=1e-12)
    Z1, Z2 = rng.standard_normal((20, 10)), rng.standard_normal((15, 10))
    np.testing.assert_allclose(10 * relu_kernel(Z1, Z2), tp5_two_layer_ntk(Z1, Z2),
                               rtol=1e-12)
