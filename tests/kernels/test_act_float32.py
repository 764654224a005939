"""The closed forms' float32 recursion (float32 output) against the float64
recursion on the same float32 input: within float32 rounding, relative to
sqrt(k(x, x) k(y, y)), at ordinary and edge inputs; and the fallback to the
float64 recursion where magnitudes leave float32's comfortable range."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skntk import ntk_kernel, ntk_kernel_diag
from skntk.kernels._act import _ActRows, _recursion_dtype, _spec

CLOSED = [("identity", None), ("leaky_relu", 0.1), ("leaky_relu", -0.4), ("abs", None),
          ("erf", None), ("gelu", None)]
IDS = ["identity", "leaky0.1", "leaky-0.4", "abs", "erf", "gelu"]
KIND = {"identity": 0, "leaky_relu": 0, "abs": 0, "erf": 1, "gelu": 2}

# float32's rounding after a depth-3 recursion, relative to sqrt(k(x,x) k(y,y))
# (measured worst: 2e-6, abs at antiparallel rows)
TOL = 1e-5

# (entries near float32's subnormals send the recursion to float64: the
# fallback test below covers them)
entries = st.floats(-3, 3, allow_nan=False, width=32).filter(
    lambda v: v == 0 or abs(v) > 1e-6)
# edge rows built from the drawn ones: duplicated, antiparallel, scaled
# (tiny, large), nearly parallel (refined from explicit differences), zero
EDGES = st.lists(st.tuples(st.sampled_from(["dup", "neg", "scale", "near", "zero"]),
                           st.sampled_from([1e-6, 1e-3, 0.3, 3.0, 30.0])),
                 max_size=4)


def _with_edges(X, edges):
    rows = [X]
    for how, c in edges:
        x = X[0]
        rows.append({"dup": x, "neg": -x, "scale": c * x, "near": x * (1 + c * 1e-2),
                     "zero": 0.0 * x}[how][None])
    return np.vstack(rows).astype(np.float32)


def _close(K32, K64, d64):
    root = np.sqrt(np.maximum(d64, 0.0))
    scale = np.outer(root, root)
    err = np.abs(K32.astype(np.float64) - K64)
    # entries whose scale underflows float32 compare in absolute terms
    return np.all(err <= TOL * scale + 1e-36)


@pytest.mark.parametrize("act, slope", CLOSED, ids=IDS)
@settings(max_examples=25, deadline=None)
@given(X=arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(2, 5)),
                elements=entries),
       edges=EDGES, depth=st.integers(1, 3), w=st.sampled_from([1.0, 2 ** 0.5]),
       b=st.sampled_from([0.0, 0.1, 1.0]))
def test_float32_recursion_matches_float64(act, slope, X, edges, depth, w, b):
    X32 = _with_edges(X, edges)
    X64 = X32.astype(np.float64)
    kw = dict(activation=act, negative_slope=slope, depth=depth, w_std=w, b_std=b)
    rows = _ActRows(X32, np.dtype(np.float32), depth, w, b, _spec(act, slope))
    assert _recursion_dtype(np.dtype(np.float32), KIND[act], w * w, b * b, rows,
                            rows) == np.float32
    nn32, nt32 = ntk_kernel(X32, kernel="both", **kw)
    nn64, nt64 = ntk_kernel(X64, kernel="both", **kw)
    dn, dt = ntk_kernel_diag(X64, kernel="both", **kw)
    assert nn32.dtype == nt32.dtype == np.float32
    for K32, K64, d in ((nn32, nn64, dn), (nt32, nt64, dt)):
        assert np.all(np.isfinite(K32))
        np.testing.assert_array_equal(K32, K32.T)
        assert _close(K32, K64, d)
    # a cross block (no mirroring, no closed-form diagonal: every pair from
    # the recursion, duplicated rows included)
    k = max(1, len(X32) // 2)
    C32 = ntk_kernel(X32[:k], X32[::-1], **kw)
    C64 = ntk_kernel(X64[:k], X64[::-1], **kw)
    root = np.sqrt(dt)
    err = np.abs(C32.astype(np.float64) - C64)
    assert np.all(err <= TOL * np.outer(root[:k], root[::-1]) + 1e-36)


@pytest.mark.parametrize("act, slope", CLOSED, ids=IDS)
@pytest.mark.parametrize("c, w_std, b_std, engine32", [
    (1.0, 1.0, 0.1, True),
    (1e-20, 1.0, 0.0, False),  # norms near float32's subnormals
    (1e5, 1.0, 0.0, None),     # erf, gelu multiply four variances: float64
    (1.0, 1e-3, 1e16, False),  # b_std**2 = 1e32
])
def test_float32_output_whichever_recursion_runs(act, slope, c, w_std, b_std, engine32):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6))
    X[1] = X[0] * (1 + 1e-6)  # nearly parallel
    X[2] = -X[3]
    X32 = (c * X).astype(np.float32)
    kw = dict(activation=act, negative_slope=slope, depth=3, w_std=w_std, b_std=b_std)
    rows = _ActRows(X32, np.dtype(np.float32), 3, w_std, b_std, _spec(act, slope))
    work = _recursion_dtype(np.dtype(np.float32), KIND[act], w_std**2, b_std**2, rows,
                            rows)
    if engine32 is None:  # the ReLU family stays in float32 at 1e5
        engine32 = KIND[act] == 0
    assert (work == np.float32) == engine32
    d = ntk_kernel_diag(X32.astype(np.float64), **kw)
    for Y in (None, X32[::-1][:17]):
        K32 = ntk_kernel(X32, Y, **kw)
        K64 = ntk_kernel(X32.astype(np.float64),
                         None if Y is None else Y.astype(np.float64), **kw)
        assert K32.dtype == np.float32
        dy = d if Y is None else d[::-1][:17]
        err = np.abs(K32.astype(np.float64) - K64)
        assert np.all(err <= TOL * np.sqrt(np.outer(d, dy)) + 1e-36)


def test_series_recursion_stays_float64():
    rows = _ActRows(np.ones((2, 3), np.float32), np.dtype(np.float32), 2, 1.0, 0.0,
                    _spec("erf", None))
    assert _recursion_dtype(np.dtype(np.float32), 3, 1.0, 0.0, rows, rows) == np.float64
    assert _recursion_dtype(np.dtype(np.float64), 1, 1.0, 0.0, rows, rows) == np.float64
