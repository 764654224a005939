"""The ridge estimators' activation parameter: the kernel is ntk_kernel's,
validation names the parameter, device= refuses what its torch twin lacks."""

import numpy as np
import pytest
from sklearn.kernel_ridge import KernelRidge

from skntk import (
    NTKClassifier,
    NTKClassifierCV,
    NTKRegressor,
    NTKRegressorCV,
    ntk_kernel,
)


@pytest.mark.parametrize("activation, slope", [("erf", None), ("leaky_relu", 0.2),
                                               ("tanh", None)])
def test_regressor_is_kernel_ridge_on_ntk_kernel(activation, slope):
    rng = np.random.default_rng(0)
    X, Xt = rng.standard_normal((30, 4)) * 0.5, rng.standard_normal((7, 4)) * 0.5
    y = np.sin(X[:, 0])
    kw = dict(activation=activation, negative_slope=slope, depth=2, b_std=0.1)
    ours = NTKRegressor(alpha=1e-2, **kw).fit(X, y).predict(Xt)
    K = ntk_kernel(X, **kw)
    ref = KernelRidge(alpha=1e-2, kernel="precomputed").fit(K, y).predict(
        ntk_kernel(Xt, X, **kw))
    np.testing.assert_allclose(ours, ref, rtol=1e-8, atol=1e-10)


def test_cv_and_classifier_accept_activations():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 3)) * 0.5
    y = (X[:, 0] > 0).astype(int)
    assert NTKClassifier(alpha=1e-3, activation="gelu").fit(X, y).score(X, y) > 0.9
    assert NTKClassifierCV(activation="identity").fit(X, y).score(X, y) > 0.9
    reg = NTKRegressorCV(activation="logistic", depth=2).fit(X, X[:, 0])
    assert reg.score(X, X[:, 0]) > 0.9


@pytest.mark.parametrize("est, match", [
    (NTKRegressor(activation="softplus"), "activation"),
    (NTKRegressor(activation="tanh", negative_slope=0.1), "negative_slope"),
    (NTKClassifierCV(activation="erf", negative_slope=0.1), "negative_slope"),
    (NTKRegressor(activation="leaky_relu", negative_slope="a"), "negative_slope"),
    (NTKRegressor(activation="tanh", device="cpu"), "needs device=None"),
])
def test_bad_activation_parameters_are_named(est, match):
    X = np.random.default_rng(2).standard_normal((10, 2))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)
