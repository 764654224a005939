"""tanh and logistic (the Hermite series) against adaptive quadrature
(tests/fixtures/quad_activations.npz, made by make_quad_activations.py with
nested scipy quad, cross-checked with mpmath)."""

import warnings

import numpy as np
import pytest
from conftest import FIXTURES

from skntk import ntk_kernel, ntk_kernel_diag

WB = {"w1_b0": (1.0, 0.0), "wsqrt2_b0": (2 ** 0.5, 0.0), "w1_b0p1": (1.0, 0.1),
      "wsqrt2_b0p1": (2 ** 0.5, 0.1)}


@pytest.fixture(scope="module")
def quad_act():
    with np.load(FIXTURES / "quad_activations.npz") as data:
        return {k: data[k] for k in data.files}


def _scale(dx, dy):
    return np.sqrt(np.outer(dx, dy))


def _check_block(ours, ref, da, db):
    """Error relative to sqrt(k(x,x) k(y,y)), less the reference's absolute
    accuracy (1e-14: epsabs=1e-15 per expectation, which shows on tiny rows'
    values of ~1e-17)."""
    scale = _scale(da, db)
    return np.maximum(np.abs(ours - ref) - 1e-14, 0.0) / np.where(scale > 0, scale, 1.0)


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("act", ["tanh", "logistic"])
@pytest.mark.parametrize("name", ["gauss", "edge"])
def test_series_matches_quadrature(quad_act, name, act, depth):
    """tanh and logistic within 1e-9 of adaptive quadrature, relative to
    sqrt(k(x,x) k(y,y)), on ordinary and edge rows (zero, duplicated, tiny,
    (anti)parallel, rows of N(3, 1) whose first-layer variance reaches ~40
    where the series alone does not converge), without a warning."""
    X1, X2 = quad_act[f"{name}_X1"], quad_act[f"{name}_X2"]
    for wb, (w, b) in WB.items():
        kw = dict(activation=act, depth=depth, w_std=w, b_std=b, kernel="both")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            d1 = ntk_kernel_diag(X1, **kw)
            d2 = ntk_kernel_diag(X2, **kw)
            blocks = (("train", ntk_kernel(X1, **kw), d1),
                      ("cross", ntk_kernel(X2, X1, **kw), d2))
        for block, ours, da in blocks:
            for k, kind in enumerate(("nngp", "ntk")):
                ref = quad_act[f"{name}_{act}_L{depth}_{wb}_{kind}_{block}"]
                err = _check_block(ours[k], ref, da[k], d1[k])
                assert err.max() <= 1e-9, (wb, kind, block, err.max())


@pytest.fixture(scope="module")
def quad_large():
    with np.load(FIXTURES / "quad_large.npz") as data:
        return {k: data[k] for k in data.files}


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("act", ["tanh", "logistic"])
def test_large_variance_matches_quadrature(quad_large, act, depth):
    """Rows of first-layer variance 24, 100 and ~1e6 (antiparallel and
    nearly parallel pairs among them), where the Hermite series does not
    converge and its pairs go to skntk's quadrature: within 1e-9 of an
    independent nested scipy quadrature (tests/fixtures/make_quad_large.py),
    no warning, the diagonal included."""
    X = quad_large["X"]
    for wb, (w, b) in (("w1_b0", (1.0, 0.0)), ("wsqrt2_b0p1", (2 ** 0.5, 0.1))):
        kw = dict(activation=act, depth=depth, w_std=w, b_std=b, kernel="both")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ours = ntk_kernel(X, **kw)
            diag = ntk_kernel_diag(X, **kw)
        for k, kind in enumerate(("nngp", "ntk")):
            ref = quad_large[f"{act}_L{depth}_{wb}_{kind}"]
            np.testing.assert_allclose(diag[k], np.diag(ref), rtol=1e-9, atol=0)
            err = _check_block(ours[k], ref, np.diag(ref), np.diag(ref))
            assert err.max() <= 1e-9, (wb, kind, err.max())


def test_inputs_that_are_not_standardised_use_the_series_with_a_warning():
    """Quadrature (0.04-0.16 s a pair) only for a few pairs: on raw pixel
    values every row's series fails to converge, and quadrature for all of
    them would take minutes; the series is used with its bound in a warning."""
    from skntk.kernels import _act
    from skntk.kernels._series import QUAD_PAIRS

    rng = np.random.default_rng(1)
    X = rng.integers(0, 17, size=(60, 64)).astype(np.float64)  # digits-like
    spec = _act._spec("tanh", None)
    rows = _act._ActRows(X, np.dtype(np.float64), 2, 1.0, 0.0, spec)
    assert rows.series.quad_pairs(rows.series, len(X)) > QUAD_PAIRS
    with pytest.warns(UserWarning, match="did not converge.*Standardise the input"):
        assert _act._quad(spec, rows, rows, True) == 0
    with pytest.warns(UserWarning, match="tanh kernel series did not converge"):
        K = ntk_kernel(X, activation="tanh", depth=2)
    assert np.isfinite(K).all()
    # standardised rows plus one far row: a few pairs, by quadrature, silently
    Z = rng.standard_normal((8, 64))
    Z[0] *= 30.0
    rows = _act._ActRows(Z, np.dtype(np.float64), 2, 1.0, 0.0, spec)
    assert 0 < rows.series.quad_pairs(rows.series, len(Z)) <= QUAD_PAIRS
    assert _act._quad(spec, rows, rows, True) == 1
