"""Contracts of ntk_kernel for every activation: symmetry, PSD, the diagonal
function, cross blocks, edge inputs, homogeneity, bad input."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skntk import NTK, ntk_kernel, ntk_kernel_diag
from skntk.utils.activations import Activation

SIN = Activation(torch.sin, torch.cos, name="sin")
ACTIVATIONS = [("identity", None), ("leaky_relu", 0.1), ("leaky_relu", -0.4),
               ("abs", None), ("erf", None), ("gelu", None), ("tanh", None),
               ("logistic", None), (SIN, None)]
IDS = ["identity", "leaky0.1", "leaky-0.4", "abs", "erf", "gelu", "tanh", "logistic",
       "sin"]

# (entries below 1e-50 would make k(x, x) underflow while k(x, y) does not)
finite = st.floats(-3, 3, allow_nan=False, width=64).filter(
    lambda v: v == 0 or abs(v) > 1e-50)


@pytest.mark.parametrize("act, slope", ACTIVATIONS, ids=IDS)
@settings(max_examples=15)
@given(X=arrays(np.float64, st.tuples(st.integers(2, 7), st.just(3)), elements=finite),
       depth=st.integers(1, 3), w=st.sampled_from([1.0, 2 ** 0.5]),
       b=st.sampled_from([0.0, 0.1]))
def test_gram_contracts(act, slope, X, depth, w, b):
    series = act in ("tanh", "logistic") or act is SIN
    if series:  # first-layer variance <= 2.3: where the series meets 1e-10
        X = X / 3.0
    kw = dict(activation=act, negative_slope=slope, depth=depth, w_std=w, b_std=b)
    nngp, ntk = ntk_kernel(X, kernel="both", **kw)
    dn, dt = ntk_kernel_diag(X, kernel="both", **kw)
    for K, d in ((nngp, dn), (ntk, dt)):
        assert np.all(np.isfinite(K))
        np.testing.assert_array_equal(K, K.T)  # exactly symmetric
        np.testing.assert_array_equal(np.diag(K), d)  # the diagonal function
        scale = max(float(np.max(np.abs(d))), 1e-300)
        assert np.linalg.eigvalsh(K).min() >= -1e-10 * scale * len(X)
        # |k(x, y)| <= sqrt(k(x, x) k(y, y)) (Cauchy-Schwarz)
        root = np.sqrt(d)
        assert np.all(np.abs(K) <= np.outer(root, root) * (1 + 1e-9) + 1e-300)
    # cross blocks are the Gram's blocks
    k = len(X) // 2
    cross = ntk_kernel(X[:k], X, **kw)
    # (the cross block's diagonal entries come from the engine, the Gram's
    # from the diagonal function: the series' truncation shows there; and the
    # series is truncated per ordered pair, so k(x, y) and k(y, x) may differ
    # by two truncation errors, each documented as about 1e-10 relative to
    # sqrt(k(x, x) k(y, y)): hypothesis found 1.6e-10 relative to k(x, y))
    if series:
        bound = 2e-10 * np.sqrt(np.outer(dt[:k], dt)) + 1e-13 * float(np.max(np.abs(dt)))
        assert np.all(np.abs(cross - ntk[:k]) <= bound)
    else:
        np.testing.assert_allclose(cross, ntk[:k], rtol=1e-11,
                                   atol=1e-13 * float(np.max(np.abs(dt))))


@pytest.mark.parametrize("act, slope", ACTIVATIONS, ids=IDS)
def test_no_nan_on_edge_inputs(act, slope):
    rng = np.random.default_rng(2)
    g = rng.standard_normal((2, 4))
    # the last row's first-layer variance is ~1.4e4 (~1.4e2 for sin, whose
    # quadrature at 1.4e4, sin(120 z), is accurate but takes ~10 s a call;
    # sin at large variance against its closed form: test_act_series.py)
    far = 10.0 if act is SIN else 100.0
    X = np.vstack([np.zeros(4), g, g[0], -g[1], 3.0 * g[0], 1e-8 * g[1],
                   1e-300 * g[0], far + rng.standard_normal(4)])
    for b in (0.0, 0.1):
        kw = dict(activation=act, negative_slope=slope, depth=3, w_std=1.2, b_std=b)
        for dtype in (np.float64, np.float32):
            # (tanh, logistic and sin: the row of N(100, 1) by quadrature, no
            # warning)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                K = ntk_kernel(X.astype(dtype), kernel="both", **kw)
            for k in K:
                assert k.dtype == dtype and np.all(np.isfinite(k))
        # duplicated rows: equal rows and columns
        # (entries 1 and 3 of each row are k(x, x): the diagonal function on
        # one row, the engine on the other, equal to the series' accuracy)
        series = act in ("tanh", "logistic") or act is SIN
        K = ntk_kernel(X, **kw)
        np.testing.assert_allclose(K[1], K[3], rtol=1e-9 if series else 1e-12,
                                   atol=1e-300)


@pytest.mark.parametrize("act, slope", [("identity", None), ("leaky_relu", 0.2),
                                        ("abs", None)])
@settings(max_examples=20)
@given(X=arrays(np.float64, (4, 3), elements=finite),
       c=st.sampled_from([1e-8, 0.37, 3.0, 1e6]), depth=st.integers(1, 3))
def test_relu_family_is_homogeneous(act, slope, X, c, depth):
    """With b_std = 0: k(c x, c y) = c^2 k(x, y)."""
    kw = dict(activation=act, negative_slope=slope, depth=depth, w_std=1.3)
    K = ntk_kernel(X, **kw)
    np.testing.assert_allclose(ntk_kernel(c * X, **kw), c * c * K, rtol=1e-12,
                               atol=1e-14 * c * c * max(float(np.abs(K).max()), 1e-300))


def test_identity_is_the_linear_kernel():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 5))
    lin = X @ X.T / 5
    np.testing.assert_allclose(ntk_kernel(X, activation="identity", depth=3,
                                          kernel="nngp"), lin, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(ntk_kernel(X, activation="identity", depth=3),
                               4 * lin, rtol=1e-13, atol=1e-15)


def test_relu_routes_to_relu_kernel():
    from skntk import relu_kernel

    X = np.random.default_rng(1).standard_normal((5, 3))
    np.testing.assert_array_equal(ntk_kernel(X, depth=2, b_std=0.2),
                                  relu_kernel(X, depth=2, b_std=0.2))


def test_ntk_kernel_class_agrees_and_has_gradient():
    X = np.random.default_rng(3).standard_normal((6, 3))
    k = NTK("gelu", depth=2, w_std=1.1, b_std=0.2)
    K, G = k(X, eval_gradient=True)
    np.testing.assert_array_equal(K, ntk_kernel(X, activation="gelu", depth=2,
                                                w_std=1.1, b_std=0.2))
    # d K / d log(w): against a wider central difference
    h = 1e-3
    up = ntk_kernel(X, activation="gelu", depth=2, w_std=1.1 * np.exp(h), b_std=0.2)
    dn = ntk_kernel(X, activation="gelu", depth=2, w_std=1.1 * np.exp(-h), b_std=0.2)
    names = [p.name for p in k.hyperparameters]
    ref = (up - dn) / (2 * h)
    np.testing.assert_allclose(G[:, :, names.index("w_std")], ref, rtol=1e-5,
                               atol=1e-5 * np.abs(ref).max())


@pytest.mark.parametrize("kwargs, match", [
    (dict(activation="softplus"), "activation must be one of"),
    (dict(activation="tanh", negative_slope=0.1), "negative_slope"),
    (dict(activation="leaky_relu", negative_slope=float("nan")), "negative_slope"),
    (dict(activation=lambda x: torch.cumsum(x, 0)), "not elementwise"),
    (dict(activation=lambda x: torch.log(x)), "non-finite"),
    (dict(activation=lambda x: x[:3]), "same shape"),
    (dict(activation=3.0), "activation must be"),
])
def test_bad_activation_names_the_parameter(kwargs, match):
    X = np.ones((2, 2))
    with pytest.raises(ValueError, match=match):
        ntk_kernel(X, **kwargs)
    with pytest.raises(ValueError, match=match):
        ntk_kernel_diag(X, **kwargs)


def test_a_callable_that_is_nan_beyond_the_checked_range_names_the_activation():
    """The callable is probed on [-10, 10] only; NaN at larger pre-activations
    (a row of variance ~1e3) is a ValueError naming ``activation`` and the
    variance, not NaN kernel values or an overflow message."""
    def f(x):
        return torch.where(x.abs() > 50, torch.full_like(x, float("nan")), torch.tanh(x))

    X = np.random.default_rng(0).standard_normal((5, 4))
    X[0] *= 100.0
    for call in (ntk_kernel, ntk_kernel_diag):
        with pytest.raises(ValueError, match="activation returned NaN.*variance up to"):
            call(X, activation=f, depth=2)
    X[0] /= 100.0  # within the range where it is finite: fine
    assert np.isfinite(ntk_kernel(X, activation=f, depth=2)).all()
