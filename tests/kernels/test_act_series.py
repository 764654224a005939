"""tanh and logistic (the Hermite series) against adaptive quadrature
(tests/fixtures/quad_activations.npz, made by make_quad_activations.py with
nested scipy quad, cross-checked with mpmath)."""

import inspect
import math
import warnings

import numpy as np
import pytest
from conftest import FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st

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
    from skntk.kernels._series import PY_QUAD, QUAD_PAIRS

    rng = np.random.default_rng(1)
    X = rng.integers(0, 17, size=(60, 64)).astype(np.float64)  # digits-like
    spec = _act._spec("tanh", None)
    rows = _act._ActRows(X, np.dtype(np.float64), 2, 1.0, 0.0, spec)
    assert rows.series.quad_pairs(rows.series, len(X)) > QUAD_PAIRS
    with pytest.warns(UserWarning, match="did not converge.*Standardise the input"):
        assert _act._quad(rows, rows, True) == 0
    with pytest.warns(UserWarning, match="tanh kernel series did not converge"):
        K = ntk_kernel(X, activation="tanh", depth=2)
    assert np.isfinite(K).all()
    # standardised rows plus one far row: a few pairs, by quadrature, silently
    Z = rng.standard_normal((8, 64))
    Z[0] *= 30.0
    rows = _act._ActRows(Z, np.dtype(np.float64), 2, 1.0, 0.0, spec)
    assert 0 < rows.series.quad_pairs(rows.series, len(Z)) <= QUAD_PAIRS
    assert _act._quad(rows, rows, True) == 1
    # and the same for a callable: its pairs by quadrature after the engine
    import torch

    spec = _act._spec(lambda x: torch.tanh(x), None)
    with pytest.warns(UserWarning, match="kernel series did not converge"):
        K = ntk_kernel(X, activation=spec.function, depth=2)
    assert np.isfinite(K).all()
    rows = _act._ActRows(Z, np.dtype(np.float64), 2, 1.0, 0.0, spec)
    assert _act._quad(rows, rows, True) == PY_QUAD
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        K = ntk_kernel(Z, activation=spec.function, depth=2)
    np.testing.assert_allclose(K, ntk_kernel(Z, activation="tanh", depth=2), rtol=1e-10)


def test_series_without_quadrature_pairs_uses_the_tile_without_quadrature():
    """A series call whose pairs all converge runs the specialisation with
    ``quad`` None (compiled without the quadrature fallback); one with pairs
    to integrate runs the one with the activation's code, and its values are
    the quadrature's (test_large_variance_matches_quadrature)."""
    from numba import types

    from skntk.kernels import _engine_act

    params = inspect.signature(_engine_act._tile_series.py_func).parameters
    at = list(params).index("quad")

    def quad_types():
        return {sig[at] for sig in _engine_act._tile_series.signatures}

    rng = np.random.default_rng(3)
    ntk_kernel(rng.standard_normal((6, 5)) / 3.0, activation="tanh", depth=2)
    assert types.none in quad_types()
    Z = rng.standard_normal((8, 64))
    Z[0] *= 30.0  # a few pairs by quadrature (as above)
    ntk_kernel(Z, activation="tanh", depth=2)
    assert types.int64 in quad_types()


# -- callables: the same pairs by quadrature in numpy (skntk/kernels/_quad_callable.py)

def _tanh_with_derivative():
    import torch

    from skntk.utils.activations import Activation

    return Activation(torch.tanh, lambda x: 1.0 - torch.tanh(x) ** 2, name="my_tanh")


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("act", ["tanh", "logistic"])
def test_callables_at_large_variance_match_quadrature(quad_large, act, depth):
    """A callable (tanh with its derivative given; torch.sigmoid derived by
    autograd) where its series does not converge (variance 24, 100, ~1e6):
    within 1e-9 of the independent nested scipy quadrature of
    tests/fixtures/make_quad_large.py, the diagonal included, no warning."""
    import torch

    f = _tanh_with_derivative() if act == "tanh" else torch.sigmoid
    X = quad_large["X"]
    wb, (w, b) = [("w1_b0", (1.0, 0.0)), ("wsqrt2_b0p1", (2 ** 0.5, 0.1))][depth % 2]
    kw = dict(activation=f, depth=depth, w_std=w, b_std=b, kernel="both")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = ntk_kernel(X, **kw)
        diag = ntk_kernel_diag(X, **kw)
        cross = ntk_kernel(X[:3], X, **kw)
    for k, kind in enumerate(("nngp", "ntk")):
        ref = quad_large[f"{act}_L{depth}_{wb}_{kind}"]
        np.testing.assert_allclose(diag[k], np.diag(ref), rtol=1e-9, atol=0)
        err = _check_block(ours[k], ref, np.diag(ref), np.diag(ref))
        assert err.max() <= 1e-9, (wb, kind, err.max())
        err = _check_block(cross[k], ref[:3], np.diag(ref)[:3], np.diag(ref))
        assert err.max() <= 1e-9, (wb, kind, "cross", err.max())


def _sin_kernel(X, depth, w, b):
    """The sin network's NNGP and NTK in closed form: for (u, v) centred
    Gaussian, E[sin u sin v] = exp(-(q_u + q_v) / 2) sinh(c) and
    E[cos u cos v] = exp(-(q_u + q_v) / 2) cosh(c) (from E[exp(i(u +- v))])."""
    S = w * w * (X @ X.T) / X.shape[1] + b * b
    T = S.copy()
    for _ in range(depth):
        q = np.diag(S)
        f = np.exp(-0.5 * (q[:, None] + q[None, :]))
        S, T = (w * w * f * np.sinh(S) + b * b,
                w * w * f * np.sinh(S) + b * b + w * w * f * np.cosh(S) * T)
    return S, T


@pytest.mark.parametrize("depth", [1, 3])
def test_sin_at_large_variance_matches_its_closed_form(quad_large, depth):
    """sin (a callable with its derivative, and plain torch.sin through
    autograd) on rows of variance 24 and 100, where the Hermite grid does not
    resolve sin(10 z) and the pairs go to quadrature: within 1e-9 of the
    closed form, no warning; at variance 1e6 (sin(1000 z), thousands of
    oscillations) the quadrature stops at its bound on the work with a
    warning, finite, instead of running for minutes."""
    import torch

    from skntk.utils.activations import Activation

    X = quad_large["X"][:4]
    for f in (Activation(torch.sin, torch.cos), torch.sin):
        for w, b in ((1.0, 0.0), (2 ** 0.5, 0.1)):
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                ours = ntk_kernel(X, activation=f, depth=depth, w_std=w, b_std=b,
                                  kernel="both")
            for k, ref in enumerate(_sin_kernel(X, depth, w, b)):
                err = _check_block(ours[k], ref, np.diag(ref), np.diag(ref))
                assert err.max() <= 1e-9, (f, w, b, k, err.max())
    with pytest.warns(UserWarning, match="quadrature of the sin kernel did not reach"):
        K = ntk_kernel(quad_large["X"][[2, 4]], activation=Activation(torch.sin, torch.cos))
    assert np.isfinite(K).all()


@settings(max_examples=25, deadline=None)
@given(rx=st.floats(0.0, 40.0), ry=st.floats(0.0, 40.0), c=st.floats(-1.0, 1.0))
def test_callable_quadrature_of_a_pair_is_the_closed_form_of_sin(rx, ry, c):
    """skntk/kernels/_quad_callable.py's pair expectations of sin (standard
    deviations up to 40: up to ~130 oscillations over the Gaussian) equal
    E[sin u sin v] = exp(-(rx^2 + ry^2) / 2) sinh(c rx ry) and E[cos u cos v]
    = exp(-(rx^2 + ry^2) / 2) cosh(c rx ry), within 1e-10 of their scale
    sqrt(E[sin^2 u] E[sin^2 v]) (resp. cos), for any correlation c."""
    from skntk.kernels._quad_callable import expect_pairs

    def both(x):
        return np.sin(x), np.cos(x)

    e, ed, worst = expect_pairs(both, np.array([rx]), np.array([ry]),
                                np.array([1.0 - c]), np.array([1.0 + c]))
    # exp(-(rx^2 + ry^2) / 2) (sinh, cosh)(c rx ry), without overflow
    g, cov = -0.5 * (rx * rx + ry * ry), c * rx * ry
    if abs(cov) < 300:
        ref = math.exp(g) * math.sinh(cov), math.exp(g) * math.cosh(cov)
    else:  # exp(g - |cov|) is below rounding
        ref = math.copysign(0.5 * math.exp(g + abs(cov)), cov), 0.5 * math.exp(g + abs(cov))
    # sqrt(E[sin^2]) = sqrt(-expm1(-2 r^2) / 2) (~ r for tiny r, whose square
    # underflows)
    sin_rms = [math.sqrt(-0.5 * math.expm1(-2.0 * r * r)) if r > 1e-100 else r
               for r in (rx, ry)]
    cos2 = [0.5 * (1.0 + math.exp(-2.0 * r * r)) for r in (rx, ry)]
    assert worst == 0.0
    scale = sin_rms[0] * sin_rms[1]
    assert abs(e[0] - ref[0]) <= 1e-10 * scale + 1e-300
    assert abs(ed[0] - ref[1]) <= 1e-10 * math.sqrt(cos2[0] * cos2[1])


def test_a_polynomial_callable_at_large_variance_matches_its_closed_form():
    """x^3 (autograd derivative) on rows of first-layer variance up to ~1e6,
    where its series needs quadrature: the NNGP and NTK at depth 1 within
    1e-12 of Isserlis' closed forms E[u^3 v^3] = 9 qu qv c + 6 c^3 and
    E[3u^2 3v^2] = 9 (qu qv + 2 c^2), no warning."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 4))
    X[0] *= 20.0
    X[1] *= 1e3
    S = X @ X.T / X.shape[1]
    qq = np.outer(np.diag(S), np.diag(S))
    ref_nngp = 9.0 * qq * S + 6.0 * S ** 3
    ref_ntk = ref_nngp + 9.0 * (qq + 2.0 * S ** 2) * S
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nngp, ntk = ntk_kernel(X, activation=lambda x: x ** 3, kernel="both")
    for ours, ref in ((nngp, ref_nngp), (ntk, ref_ntk)):
        d = np.diag(ref)
        assert (np.abs(ours - ref) / np.sqrt(np.outer(d, d))).max() <= 1e-12


@pytest.mark.parametrize("depth", [1, 2])
def test_kinked_callables_match_the_arc_cosine_closed_forms(depth):
    """relu and leaky relu as callables (torch.clamp, F.leaky_relu; autograd
    derivatives, steps): their Hermite series never converges (phi' jumps)
    and its trapezoid sums are off by ~1e-2, so on a few rows every pair and
    the diagonal go to quadrature. Rows of first-layer variance ~1e3 (a
    nearly parallel and an antiparallel pair among them) and an ordinary
    row: within 1e-9 of skntk's closed-form arc-cosine kernels (checked
    against neural-tangents in test_act_reference.py), no warning."""
    import torch

    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 4))
    X[0] *= 100.0
    X[1] = 1.001 * X[0] + 0.01
    X[2] = -X[0]
    for f, name, slope in ((lambda x: torch.clamp(x, min=0.0), "relu", None),
                           (lambda x: torch.nn.functional.leaky_relu(x, 0.1),
                            "leaky_relu", 0.1)):
        kw = dict(depth=depth, w_std=2 ** 0.5, b_std=0.1, kernel="both")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            ours = ntk_kernel(X, activation=f, **kw)
            diag = ntk_kernel_diag(X, activation=f, **kw)
        ref = ntk_kernel(X, activation=name, negative_slope=slope, **kw)
        for k in range(2):
            d = np.diag(ref[k])
            np.testing.assert_allclose(diag[k], d, rtol=1e-9)
            assert _check_block(ours[k], ref[k], d, d).max() <= 1e-9, (name, k)


def test_the_series_warning_suggests_the_named_activation_for_a_kink_only():
    """On more rows than quadrature takes, a kinked callable's series warns
    (its bound covering the error) and points at the named activation; a
    smooth callable on unstandardised rows gets the usual advice only."""
    import torch

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 4))
    with pytest.warns(UserWarning, match="has a kink") as record:
        K = ntk_kernel(X, activation=lambda x: torch.clamp(x, min=0.0), depth=2)
    ref = ntk_kernel(X, activation="relu", depth=2)
    bound = float(str(record[0].message).split("off by up to ")[1].split(" ")[0])
    d = np.diag(ref)
    assert (np.abs(K - ref) / np.sqrt(np.outer(d, d))).max() <= bound
    X = rng.integers(0, 17, size=(60, 64)).astype(np.float64)  # raw digits-like
    with pytest.warns(UserWarning, match="Standardise the input") as record:
        ntk_kernel(X, activation=lambda x: torch.tanh(x), depth=2)
    assert not any("kink" in str(w.message) for w in record)
