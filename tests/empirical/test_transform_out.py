"""transform at the bandwidth floor (issue 21): the ``out=`` path (float32
output from float64 input, memmaps), large blocks written by torch's
multithreaded multiply, and no read-back of finite output.

Expected values: torch.func's per-sample Jacobian (``vmap(jacrev)``) of the same
net, and numpy's own float32 cast of the input.
"""

import numpy as np
import pytest
import torch
from torch.func import jacrev, vmap

from skntk import EmpiricalNTKFeatures
from skntk.empirical import _features


def _jacobian(est, X):
    W, V, u = (torch.as_tensor(p) for p in (est.W_, est.V_, est.u_))
    s1, s2, s3 = (1 / np.sqrt(n) for n in (W.shape[1], V.shape[1], u.shape[0]))

    def f(params, x):
        W, V, u = params
        return s3 * (u @ torch.relu(s2 * (V @ torch.relu(s1 * (W @ x)))))

    grads = vmap(jacrev(f), in_dims=(None, 0))((W, V, u), torch.as_tensor(X))
    return torch.cat([g.reshape(X.shape[0], -1) for g in grads], dim=1).numpy()


@pytest.fixture(scope="module")
def wide():
    """Blocks of 5 x 300 x 784 > 2**20 entries: the torch write."""
    X = np.random.default_rng(0).standard_normal((5, 784))
    return EmpiricalNTKFeatures((300, 40), random_state=0).fit(X), X


def test_large_blocks_match_the_autograd_jacobian(wide):
    est, X = wide
    np.testing.assert_allclose(est.transform(X), _jacobian(est, X), rtol=1e-12,
                               atol=1e-14)


def test_out_float32_from_float64_input(wide):
    est, X = wide
    out = np.full((5, est.n_features_out_), np.nan, dtype=np.float32)
    res = est.transform(X, out=out)
    assert res is out
    np.testing.assert_array_equal(out, est.transform(X.astype(np.float32)))
    np.testing.assert_allclose(out, _jacobian(est, X), rtol=2e-5, atol=1e-6)


def test_out_memmap_is_written_in_place(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 5))
    est = EmpiricalNTKFeatures((6, 4), working_memory=0.001, random_state=0).fit(X)
    mm = np.lib.format.open_memmap(tmp_path / "phi.npy", mode="w+", dtype=np.float64,
                                   shape=(40, est.n_features_out_))
    est.transform(X, out=mm)
    mm.flush()
    np.testing.assert_array_equal(np.load(tmp_path / "phi.npy"), est.transform(X))


@pytest.mark.parametrize("bad, why", [
    (lambda p: np.empty((5, p)), "shape"),
    (lambda p: np.empty((4, p), dtype=np.int64), "dtype int64"),
    (lambda p: np.empty((p, 4)).T, "not C-contiguous"),
    (lambda p: np.broadcast_to(np.empty(p), (4, p)), "read-only"),
    (lambda p: [[0.0] * p] * 4, "list"),
])
def test_bad_out_is_a_value_error_naming_it(bad, why):
    X = np.random.default_rng(2).standard_normal((4, 3))
    est = EmpiricalNTKFeatures((5, 5), random_state=0).fit(X)
    with pytest.raises(ValueError, match=f"out must be.*{why}"):
        est.transform(X, out=bad(est.n_features_out_))


def test_finite_output_is_not_read_back(wide, monkeypatch):
    est, X = wide

    def scanned(*args, **kwargs):
        raise AssertionError("the output was scanned")

    monkeypatch.setattr(_features, "check_finite_output", scanned)
    est.transform(X)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_validation_shortcut_equals_scikit_learns_checks(dtype):
    """A finite float ndarray skips scikit-learn's validation in transform:
    the same features as through it (a list), and the same errors."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 4)).astype(dtype)
    est = EmpiricalNTKFeatures((5, 3), random_state=0).fit(X)
    Phi = est.transform(X)
    assert Phi.dtype == dtype
    expected = est.transform(X.tolist()).astype(dtype)  # a list: float64, checked
    np.testing.assert_array_equal(est.transform(X.astype(np.float64)),
                                  est.transform(X.tolist()))
    np.testing.assert_array_equal(Phi, est.transform(np.asfortranarray(X)))
    if dtype == np.float64:
        np.testing.assert_array_equal(Phi, expected)
    for bad in (np.inf, -np.inf, np.nan):
        Xb = X.copy()
        Xb[3, 2] = bad
        with pytest.raises(ValueError, match="infinity|NaN"):
            est.transform(Xb)
    with pytest.raises(ValueError, match="features"):
        est.transform(X[:, :3])


def test_narrow_output_in_cache_sized_batches(monkeypatch):
    """Narrow outputs over 8 MiB are written in batches of about 2 MiB (here
    205 rows of 1275 float64 features): the autograd Jacobian, the rows of a
    one-batch transform, and no read-back."""
    X = np.random.default_rng(3).standard_normal((1000, 25))
    est = EmpiricalNTKFeatures((25, 25), random_state=0).fit(X)
    assert 1000 * est.n_features_out_ * 8 > _features._ONE_BATCH_BYTES
    assert _features._BATCH_BYTES // (est.n_features_out_ * 8) < 1000
    Phi = est.transform(X)
    np.testing.assert_allclose(Phi, _jacobian(est, X), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(Phi[:50], est.transform(X[:50]), rtol=1e-14,
                               atol=1e-16)

    def scanned(*args, **kwargs):
        raise AssertionError("the output was scanned")

    monkeypatch.setattr(_features, "check_finite_output", scanned)
    est.transform(X)
    est.transform(X, out=np.empty((1000, est.n_features_out_), dtype=np.float32))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bounded_agrees_with_the_exact_bound(dtype):
    """_bounded's sum-of-squares shortcut answers as the exact max |a| max |b|
    test: at the edge of overflow, with NaN or inf, large and small factors."""
    from skntk.empirical._ops import _bounded

    fmax = float(np.finfo(dtype).max)
    rng = np.random.default_rng(0)
    half = np.sqrt(fmax)
    cases = []
    for shape in [(50, 25), (500, 25)]:  # below and above the dot's size limit
        a = rng.standard_normal(shape).astype(dtype)
        cases += [(a,), (a, a), (a * 0, a), (a.T, a)]
        for scale in (half / 4, half / 8, half, 2 * half):
            b = a / np.abs(a).max() * dtype(scale)
            cases += [(b, b), (b,), (b, a)]
        for bad in (np.nan, np.inf):
            c = a.copy()
            c[1, 1] = bad
            cases += [(c,), (a, c)]
    for factors in cases:
        exact = 1.0
        for f in factors:
            exact *= float(np.max(np.abs(f)))
        expected = np.isfinite(exact) and exact < fmax
        assert _bounded(*factors) == expected
