"""The torch path of the kernel ridge estimators (``device=``): the blocked
Gram in torch equals the numba engine's on awkward inputs, and the estimators
give the same fits on a torch device as on skntk's CPU engine. CI has no GPU:
the torch code runs on device="cpu" here, and the CUDA test runs where CUDA is."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from test_ntk_properties import hypers, inputs

from skntk import NTKClassifier, NTKRegressor, relu_kernel
from skntk.kernels.torch_gram import gram_lower

CPU = torch.device("cpu")


def _lower_close(K, Kt, rtol):
    il = np.tril_indices(len(K))
    root = np.sqrt(np.abs(np.diag(K)))  # |k(x, y)| <= sqrt(k(x, x) k(y, y))
    scale = (root[:, None] * root[None, :])[il]
    assert np.all(np.isfinite(Kt[il]))
    assert np.all(np.abs(Kt[il] - K[il]) <= rtol * scale + 1e-300)


@settings(max_examples=100)
@given(inputs(max_rows=10), hypers, st.sampled_from(["ntk", "nngp"]),
       st.integers(1, 4))
def test_torch_gram_equals_the_numba_engine(X, kw, kernel, block_rows):
    """Zero, duplicated, parallel, nearly parallel, tiny and huge rows, any
    block size: the torch recursion gives the engine's values to rounding."""
    K = relu_kernel(X, kernel=kernel, **kw)
    Kt = gram_lower(X, kernel=kernel, **kw, dtype=np.float64, device=CPU,
                    block_rows=block_rows).numpy()
    _lower_close(K, Kt, 1e-12)


@pytest.mark.parametrize("kernel", ["ntk", "nngp"])
def test_torch_gram_float32_and_cross_block(kernel):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 7))
    X[1] = X[0] * (1 + 1e-7)  # nearly parallel, refined from explicit rows
    Y = rng.standard_normal((23, 7))
    kw = dict(kernel=kernel, depth=3, w_std=1.3, b_std=0.2)
    K32 = relu_kernel(X.astype(np.float32), **kw)
    Kt32 = gram_lower(X, **kw, dtype=np.float32, device=CPU).numpy()
    assert Kt32.dtype == np.float32
    _lower_close(K32.astype(np.float64), Kt32.astype(np.float64), 1e-5)
    Kxy = relu_kernel(X, Y, **kw)
    Kt = gram_lower(X, Y, **kw, dtype=np.float64, device=CPU, block_rows=9).numpy()
    assert_allclose(Kt, Kxy, rtol=1e-12, atol=1e-14 * np.abs(Kxy).max())


def _data(n=80, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, np.c_[np.sin(X[:, 0]), X[:, 1] ** 2]


@pytest.mark.parametrize("kw", [
    dict(depth=2, alpha=1e-3),
    dict(kernel="nngp", depth=3, b_std=0.5, alpha=1e-2),
    dict(depth=1, alpha=1e-2, dtype="float32"),
])
def test_regressor_on_a_torch_device_equals_the_cpu_engine(kw):
    X, Y = _data()
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(X))
    Xt = _data(20, seed=2)[0]
    rtol = 1e-4 if kw.get("dtype") == "float32" else 1e-9
    for y in (Y, Y[:, 0]):
        ref = NTKRegressor(**kw).fit(X, y, sample_weight=sw)
        dev = NTKRegressor(**kw, device="cpu").fit(X, y, sample_weight=sw)
        assert dev.L_.flags.c_contiguous and dev.dual_coef_.shape == ref.dual_coef_.shape
        mean, std = dev.predict(Xt, return_std=True)
        mean_ref, std_ref = ref.predict(Xt, return_std=True)
        assert_allclose(mean, mean_ref, rtol=rtol, atol=rtol * np.abs(mean_ref).max())
        assert_allclose(std, std_ref, rtol=rtol, atol=rtol * np.abs(std_ref).max())
        assert_allclose(dev.generalization_bound(), ref.generalization_bound(), rtol=rtol)


def test_classifier_on_a_torch_device_equals_the_cpu_engine():
    X = _data(90)[0]
    y = np.array(["a", "b", "c"])[np.argmax(X[:, :3], axis=1)]
    ref = NTKClassifier(alpha=1e-2, depth=2).fit(X, y)
    dev = NTKClassifier(alpha=1e-2, depth=2, device="cpu").fit(X, y)
    Xt = _data(40, seed=3)[0]
    assert_array_equal(dev.predict(Xt), ref.predict(Xt))
    assert_allclose(dev.decision_function(Xt), ref.decision_function(Xt), rtol=1e-9,
                    atol=1e-12)


def test_duplicates_get_jitter_on_a_torch_device_not_nan():
    X, Y = _data(40)
    X = np.vstack([X, X[:5]])
    Y = np.vstack([Y, Y[:5]])
    with pytest.warns(UserWarning, match="jitter"):
        reg = NTKRegressor(alpha=0.0, depth=2, device="cpu").fit(X, Y)
    assert reg.jitter_ > 0
    assert np.all(np.isfinite(reg.predict(X)))


def test_ill_conditioning_warning_as_on_the_host():
    """LAPACK's condition estimate runs on the device's factor too (1-norm of
    K + alpha I from the device's lower triangle)."""
    X = _data(30)[0]
    X[1] = X[0] * (1 + 1e-9)  # nearly parallel rows: K nearly singular
    y = X[:, 0]
    for device in (None, "cpu"):
        with pytest.warns(UserWarning, match="nearly singular"):
            NTKRegressor(alpha=1e-14, depth=1, device=device).fit(X, y)


def test_the_users_arrays_are_untouched_and_read_only_input_works():
    X, Y = _data(30)
    X.flags.writeable = False
    Y.flags.writeable = False
    K = relu_kernel(X, depth=2)
    K.flags.writeable = False
    before = X.copy(), Y.copy(), K.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no torch warning about read-only memory
        NTKRegressor(depth=2, device="cpu").fit(X, Y)
        NTKRegressor(kernel="precomputed", device="cpu").fit(K, Y)
    for a, b in zip((X, Y, K), before):
        assert_array_equal(a, b)


@pytest.mark.parametrize("kw, match", [
    (dict(solver="eigh"), "solver='cholesky'"),
    (dict(solver="nystrom", n_components=5), "solver='cholesky'"),
    (dict(training_time=3.0), "training_time=None"),
    (dict(device="tpu-nonexistent"), "device|Expected one of"),
])
def test_device_errors_name_the_fix(kw, match):
    X, Y = _data(20)
    kw = {"device": "cpu", **kw}
    with pytest.raises((ValueError, RuntimeError), match=match):
        NTKRegressor(**kw).fit(X, Y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    X, Y = _data(20)
    with pytest.raises(ValueError, match="CUDA is not available.*device=None"):
        NTKRegressor(device="cuda").fit(X, Y)
    # "auto" falls back to the CPU
    assert_allclose(NTKRegressor(device="auto").fit(X, Y).predict(X),
                    NTKRegressor().fit(X, Y).predict(X), rtol=1e-9, atol=1e-12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cuda_fit_equals_the_cpu_engine(dtype):
    X, Y = _data(500, 20)
    ref = NTKRegressor(alpha=1e-2, depth=3, dtype=dtype).fit(X, Y)
    dev = NTKRegressor(alpha=1e-2, depth=3, dtype=dtype, device="cuda").fit(X, Y)
    rtol = 1e-3 if dtype == "float32" else 1e-9
    assert_allclose(dev.predict(X), ref.predict(X), rtol=rtol,
                    atol=rtol * np.abs(ref.predict(X)).max())


def test_verbose_on_a_device_draws_the_gram_bar_and_logs(capsys):
    X, Y = _data(60)
    NTKRegressor(verbose=1, device="cpu").fit(X, Y)
    err = capsys.readouterr().err
    assert "Gram matrix" in err and "entries" in err  # the tqdm bar
    assert "Gram matrix 60 x 60 (float64) on cpu" in err and "Cholesky" in err
    NTKRegressor(device="cpu").fit(X, Y)
    assert capsys.readouterr().err == ""
