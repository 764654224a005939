"""ReluNTK as a scikit-learn Kernel: contracts, gradients, and use inside
GaussianProcessRegressor, SVC and KernelRidge."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skntk import ReluNTK, relu_kernel, relu_kernel_diag

KERNELS = [
    ReluNTK(),
    ReluNTK(depth=3, w_std=1.4, b_std=0.2),
    ReluNTK(depth=2, w_std=0.7, b_std=0.5, kernel="nngp"),
    ReluNTK(depth=2, w_std=1.2, b_std=0.3, b_std_bounds="fixed"),
]


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 4))
    X[3] = X[1]  # a duplicate
    X[5] = 2.5 * X[2]  # a parallel row
    return X, rng.standard_normal((5, 4))


@pytest.mark.parametrize("kernel", KERNELS, ids=repr)
def test_kernel_contracts(kernel, data):
    X, Y = data
    K = kernel(X)
    np.testing.assert_allclose(K, kernel(X, X), rtol=1e-13)
    np.testing.assert_allclose(kernel.diag(X), np.diag(kernel(X, X)), rtol=1e-13)
    assert kernel(X, Y).shape == (12, 5)
    assert not kernel.is_stationary()
    np.testing.assert_array_equal(K, relu_kernel(
        X, kernel=kernel.kernel, depth=kernel.depth, w_std=kernel.w_std,
        b_std=kernel.b_std))
    for other in (clone(kernel), pickle.loads(pickle.dumps(kernel))):
        assert other == kernel
        np.testing.assert_array_equal(other(X), K)
    assert "depth=" in repr(kernel)


@pytest.mark.parametrize("kernel", KERNELS, ids=repr)
def test_gradient_matches_finite_differences(kernel, data):
    """d K / d log(theta), against central differences of the kernel values."""
    X, _ = data
    K, dK = kernel(X, eval_gradient=True)
    np.testing.assert_allclose(K, kernel(X), rtol=1e-13, atol=1e-15)
    assert dK.shape == (12, 12, kernel.n_dims)
    h = 1e-6
    for p in range(kernel.n_dims):
        tp, tm = kernel.theta.copy(), kernel.theta.copy()
        tp[p] += h
        tm[p] -= h
        fd = (kernel.clone_with_theta(tp)(X) - kernel.clone_with_theta(tm)(X)) / (2 * h)
        np.testing.assert_allclose(dK[:, :, p], fd, rtol=1e-6, atol=1e-8 * np.abs(K).max())


def test_zero_b_std_is_fixed_and_gradient_refuses_y(data):
    X, Y = data
    k = ReluNTK()
    assert k.hyperparameter_b_std.fixed
    assert k.n_dims == 1
    assert ReluNTK(b_std=0.1).n_dims == 2
    with pytest.raises(ValueError, match="Y is None"):
        k(X, Y, eval_gradient=True)
    with pytest.raises(ValueError, match="kernel must be"):
        ReluNTK(kernel="rbf")(X)


def test_gaussian_process_optimises_hyperparameters():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 3))
    y = np.sin(2 * X[:, 0]) + 0.05 * rng.standard_normal(60)
    kernel = ReluNTK(depth=2, w_std=1.0, b_std=0.5)
    gpr = GaussianProcessRegressor(kernel, alpha=1e-2, random_state=0).fit(X, y)
    # the optimiser moved the hyperparameters and improved the evidence
    assert not np.allclose(gpr.kernel_.theta, kernel.theta)
    assert gpr.log_marginal_likelihood_value_ > gpr.log_marginal_likelihood(kernel.theta)
    # scikit-learn's own check of the likelihood gradient, which uses ours
    lml, grad = gpr.log_marginal_likelihood(gpr.kernel_.theta, eval_gradient=True)
    h = 1e-6
    for p in range(len(grad)):
        e = np.zeros_like(grad)
        e[p] = h
        fd = (gpr.log_marginal_likelihood(gpr.kernel_.theta + e)
              - gpr.log_marginal_likelihood(gpr.kernel_.theta - e)) / (2 * h)
        assert grad[p] == pytest.approx(fd, rel=1e-4, abs=1e-4)
    mean, std = gpr.predict(X[:5], return_std=True)
    assert np.all(std >= 0) and np.all(np.isfinite(mean))


def test_svc_with_kernel_object_equals_precomputed_gram():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((80, 5))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    Xt = rng.standard_normal((20, 5))
    k = ReluNTK(depth=2, b_std=0.1)
    a = SVC(kernel=k, C=3.0).fit(X, y)
    b = SVC(kernel="precomputed", C=3.0).fit(relu_kernel(X, depth=2, b_std=0.1), y)
    np.testing.assert_array_equal(a.predict(Xt),
                                  b.predict(relu_kernel(Xt, X, depth=2, b_std=0.1)))
    np.testing.assert_allclose(a.decision_function(Xt), b.decision_function(
        relu_kernel(Xt, X, depth=2, b_std=0.1)), rtol=1e-8)


def test_kernel_ridge_and_grid_search_in_a_pipeline():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((90, 4))
    y = X[:, 0] - 0.5 * X[:, 1] ** 2
    pipe = make_pipeline(StandardScaler(), KernelRidge(kernel=ReluNTK(), alpha=1e-2))
    grid = GridSearchCV(pipe, {"kernelridge__kernel__depth": [1, 2, 3],
                               "kernelridge__kernel__b_std": [0.0, 0.5]}, cv=3)
    grid.fit(X, y)
    assert grid.best_score_ > 0.8
    assert set(grid.cv_results_["param_kernelridge__kernel__depth"]) == {1, 2, 3}


def test_diag_function_matches_kernel_diag(data):
    X, _ = data
    np.testing.assert_allclose(ReluNTK(depth=3, b_std=0.2).diag(X),
                               relu_kernel_diag(X, depth=3, b_std=0.2), rtol=0)
