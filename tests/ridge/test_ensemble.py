"""The infinite ensemble of NTKRegressor (``predict(..., posterior="ensemble")``):
against 64 wide networks initialised independently and trained by plain-torch
gradient descent, within Monte-Carlo error; its identities (the NNGP prior at
t = 0, kernel regression and the GP posterior as t -> infinity, a symmetric
PSD covariance, weights as repeated rows); and its refusals."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from skntk import NTKRegressor, relu_kernel


def _train_wide_nets(X, y, Xs, *, n_nets, width, w_std, b_std, lr, steps, seed):
    """``n_nets`` one-hidden-layer ReLU nets in the NTK parameterisation
    (f = w/sqrt(width) v' relu(w/sqrt(d) W x + b b1) + b b2, all entries N(0, 1)),
    trained at once (stacked along a batch axis) by full-batch gradient descent
    on 0.5 * mean((f - y)**2) with hand-written gradients; their outputs on
    ``Xs`` after each number of steps in ``steps`` (increasing), (n_nets, m)."""
    dt = torch.float32
    g = torch.Generator().manual_seed(seed)
    n, d = X.shape
    # a column of ones carries the first layer's bias: x_aug = (s1 x, b)
    s1, s2 = w_std / np.sqrt(d), w_std / np.sqrt(width)

    def augment(A):
        A = torch.as_tensor(A, dtype=dt)
        return torch.cat([s1 * A, torch.full((len(A), 1), b_std, dtype=dt)], dim=1)

    Xa, Xsa, Y = augment(X), augment(Xs), torch.as_tensor(y, dtype=dt)
    U = torch.randn(n_nets, d + 1, width, generator=g, dtype=dt)  # (W; b1)'
    v = torch.randn(n_nets, width, 1, generator=g, dtype=dt)
    c = torch.randn(n_nets, 1, generator=g, dtype=dt)

    def forward(A):
        h = torch.matmul(A, U)  # (n_nets, rows, width)
        return h, torch.bmm(torch.relu(h), v)[..., 0] * s2 + b_std * c

    outputs, done = [], 0
    for total in steps:
        for _ in range(total - done):
            h, f = forward(Xa)
            r = (f - Y) / n  # d loss / d f
            a = torch.relu(h)
            grad_v = s2 * torch.bmm(a.transpose(1, 2), r[..., None])
            grad_c = b_std * r.sum(1, keepdim=True)
            dh = (s2 * r[..., None]) * v.transpose(1, 2) * (h > 0)
            grad_U = torch.matmul(Xa.T, dh)
            U -= lr * grad_U
            v -= lr * grad_v
            c -= lr * grad_c
        done = total
        outputs.append(forward(Xsa)[1].double().numpy())
    return outputs


@pytest.fixture
def one_torch_thread():
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


@pytest.mark.slow
def test_matches_64_trained_wide_nets(one_torch_thread):
    """Mean and standard deviation over 64 nets of width 2048 against the
    analytic ensemble, at an early time and near convergence.

    Tolerances from the sample size alone, Bonferroni over the 16 statistics
    (4 test points x 2 times x {mean, std}) at a family-wise level of 1e-3:
    the sample mean within z * sigma / sqrt(64) of the ensemble mean (sigma:
    the ensemble's std), and (64 - 1) s^2 / sigma^2 within the chi-square
    quantiles of 63 degrees of freedom. Gradient descent is gradient flow up
    to O(1 / steps) (lr * lambda_max / N = 0.5), and width 2048 leaves
    O(1 / sqrt(width)) of each net's deviation from its linearisation.
    """
    rng = np.random.default_rng(0)
    n, d, n_nets = 8, 3, 64
    w_std, b_std = 1.5, 0.5
    X, Xs = rng.standard_normal((n, d)), rng.standard_normal((4, d))
    y = np.sin(2 * X[:, 0]) + 0.5 * X[:, 1]
    lam = np.linalg.eigvalsh(relu_kernel(X, w_std=w_std, b_std=b_std))
    # gradient descent on 0.5 * mean: the flow's time is lr * steps (N = n)
    lr = 0.5 * n / lam[-1]
    # early: the fastest modes have decayed; late: all but the slowest, which
    # is at exp(-3)
    steps = [24, int(np.ceil(3 * n / lam[0] / lr))]
    outputs = _train_wide_nets(X, y, Xs, n_nets=n_nets, width=2048, w_std=w_std,
                               b_std=b_std, lr=lr, steps=steps, seed=1)
    level = 1e-3 / 16
    z = stats.norm.ppf(1 - level / 2)
    q_lo, q_hi = stats.chi2.ppf([level / 2, 1 - level / 2], n_nets - 1)
    for total, F in zip(steps, outputs):
        reg = NTKRegressor(alpha=0.0, w_std=w_std, b_std=b_std,
                           training_time=lr * total).fit(X, y)
        mean, std = reg.predict(Xs, return_std=True, posterior="ensemble")
        err = np.abs(F.mean(axis=0) - mean)
        assert np.all(err <= z * std / np.sqrt(n_nets)), (total, err, std)
        q = (n_nets - 1) * F.var(axis=0, ddof=1) / std ** 2
        assert np.all((q_lo <= q) & (q <= q_hi)), (total, q, (q_lo, q_hi))
    # the ensemble moved: the late spread is well below the prior's
    assert np.all(std < 0.6 * np.sqrt(relu_kernel(Xs, kernel="nngp", w_std=w_std,
                                                  b_std=b_std).diagonal()))


def _problem(seed, n=7, m=4, d=3):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, d)), rng.standard_normal(n),
            rng.standard_normal((m, d)))


hyper = dict(depth=st.integers(1, 3), w_std=st.floats(0.5, 2.0),
             b_std=st.floats(0.0, 1.0), seed=st.integers(0, 10**6))


@settings(max_examples=20, deadline=None)
@given(t=st.floats(0.0, 1e3), kernel=st.sampled_from(["ntk", "nngp"]), **hyper)
def test_covariance_is_symmetric_psd_and_matches_std(t, kernel, depth, w_std, b_std,
                                                     seed):
    X, y, Xs = _problem(seed)
    reg = NTKRegressor(alpha=0.0, kernel=kernel, depth=depth, w_std=w_std,
                       b_std=b_std, training_time=t).fit(X, y)
    mean, cov = reg.predict(Xs, return_cov=True, posterior="ensemble")
    mean2, std = reg.predict(Xs, return_std=True, posterior="ensemble")
    np.testing.assert_array_equal(mean, mean2)
    np.testing.assert_array_equal(cov, cov.T)
    scale = np.abs(np.diag(cov)).max() + 1e-300
    prior = relu_kernel(Xs, kernel="nngp", depth=depth, w_std=w_std, b_std=b_std)
    assert np.linalg.eigvalsh(cov).min() >= -1e-9 * prior.diagonal().max()
    np.testing.assert_allclose(std, np.sqrt(np.clip(np.diag(cov), 0, None)),
                               rtol=1e-6, atol=1e-7 * np.sqrt(scale))


@settings(max_examples=15, deadline=None)
@given(**hyper)
def test_time_zero_is_the_nngp_prior(depth, w_std, b_std, seed):
    X, y, Xs = _problem(seed)
    reg = NTKRegressor(alpha=0.0, depth=depth, w_std=w_std, b_std=b_std,
                       training_time=0.0).fit(X, y)
    mean, cov = reg.predict(Xs, return_cov=True, posterior="ensemble")
    prior = relu_kernel(Xs, kernel="nngp", depth=depth, w_std=w_std, b_std=b_std)
    np.testing.assert_allclose(mean, 0.0, atol=1e-12)
    np.testing.assert_allclose(cov, prior, rtol=1e-10, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(**hyper)
def test_infinite_time_is_kernel_regression(depth, w_std, b_std, seed):
    """Lee et al. (2019), eq. (16) at t = infinity, computed here with numpy:
    mean Theta_xX Theta^-1 y, covariance
    K_xx - Theta_xX Theta^-1 K_Xx - K_xX Theta^-1 Theta_Xx
    + Theta_xX Theta^-1 K Theta^-1 Theta_Xx; with the NNGP as the training
    kernel (readout only) the covariance is the GP posterior."""
    X, y, Xs = _problem(seed)
    kw = dict(depth=depth, w_std=w_std, b_std=b_std)
    K, Th = relu_kernel(X, kernel="both", **kw)
    Kx, Thx = relu_kernel(Xs, X, kernel="both", **kw)
    Kss = relu_kernel(Xs, kernel="nngp", **kw)
    T = np.linalg.solve(Th, Thx.T).T
    expected = Kss - T @ Kx.T - Kx @ T.T + T @ K @ T.T
    cond = np.linalg.cond(Th)
    for solver in ("cholesky", "eigh"):
        reg = NTKRegressor(alpha=0.0, solver=solver, **kw).fit(X, y)
        mean, cov = reg.predict(Xs, return_cov=True, posterior="ensemble")
        np.testing.assert_allclose(mean, T @ y, rtol=1e-6 * cond, atol=1e-8 * cond)
        np.testing.assert_allclose(cov, expected, atol=1e-9 * cond * Kss.max())
    gp = Kss - Kx @ np.linalg.solve(K, Kx.T)
    reg = NTKRegressor(alpha=0.0, kernel="nngp", **kw).fit(X, y)
    _, cov = reg.predict(Xs, return_cov=True, posterior="ensemble")
    np.testing.assert_allclose(cov, gp, atol=1e-9 * np.linalg.cond(K) * Kss.max())
    # and the "gp" posterior of the same fit agrees
    _, cov_gp = reg.predict(Xs, return_cov=True, posterior="gp")
    np.testing.assert_allclose(cov_gp, gp, atol=1e-9 * np.linalg.cond(K) * Kss.max())


def test_long_time_reaches_the_converged_ensemble():
    X, y, Xs = _problem(3)
    late = NTKRegressor(alpha=0.0, depth=2, training_time=1e9).fit(X, y)
    conv = NTKRegressor(alpha=0.0, depth=2, solver="eigh").fit(X, y)
    for kind in ("return_std", "return_cov"):
        a = late.predict(Xs, posterior="ensemble", **{kind: True})
        b = conv.predict(Xs, posterior="ensemble", **{kind: True})
        for u, v in zip(a, b):
            np.testing.assert_allclose(u, v, rtol=1e-6, atol=1e-9)


def test_integer_weights_are_repeated_rows():
    """The weighted loss 0.5 * sum(w (f - y)^2) / sum(w) is the loss of the
    repeated rows: the same flow, the same ensemble (at a finite time, where
    the repeated rows' singular kernel is harmless)."""
    X, y, Xs = _problem(5)
    w = np.array([1, 2, 1, 3, 1, 1, 2])
    rep = np.repeat(np.arange(len(X)), w)
    kw = dict(alpha=0.0, depth=2, b_std=0.3, training_time=7.0)
    a = NTKRegressor(**kw).fit(X, y, sample_weight=w)
    b = NTKRegressor(**kw).fit(X[rep], y[rep])
    for u, v in zip(a.predict(Xs, return_cov=True, posterior="ensemble"),
                    b.predict(Xs, return_cov=True, posterior="ensemble")):
        np.testing.assert_allclose(u, v, rtol=1e-8, atol=1e-10)


def test_refusals():
    X, y, Xs = _problem(0)
    K = relu_kernel(X)
    pre = NTKRegressor(kernel="precomputed", solver="eigh").fit(K, y)
    with pytest.raises(ValueError, match="posterior='ensemble' needs the network's "
                       "NNGP.*kernel='precomputed'"):
        pre.predict(relu_kernel(Xs, X), return_std=True, posterior="ensemble")
    reg = NTKRegressor(training_time=3.0).fit(X, y)
    with pytest.raises(ValueError, match="posterior='ensemble' gives the spread"):
        reg.predict(Xs, return_std=True)
    with pytest.raises(ValueError, match="posterior must be 'gp' or 'ensemble'"):
        reg.predict(Xs, return_std=True, posterior="nets")
    with pytest.raises(ValueError, match="posterior must be 'gp' or 'ensemble'"):
        reg.predict(Xs, posterior="nets")
    with pytest.raises(ValueError, match="At most one of return_std or return_cov"):
        reg.predict(Xs, return_std=True, return_cov=True, posterior="ensemble")
    nys = NTKRegressor(solver="nystrom", n_components=5, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="solver='nystrom'"):
        nys.predict(Xs, return_cov=True, posterior="ensemble")


@pytest.mark.parametrize("activation", ["tanh", "erf", "leaky_relu"])
def test_ensemble_of_any_activation_starts_at_its_nngp_prior(activation):
    """At training_time=0 the ensemble's std is the prior's, sqrt(K(x, x)) of
    the activation's NNGP (not ReLU's), and its mean is 0."""
    from skntk import ntk_kernel_diag

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((12, 3)), rng.standard_normal(12)
    Xt = rng.standard_normal((5, 3))
    reg = NTKRegressor(activation=activation, depth=2, b_std=0.1, training_time=0.0,
                       alpha=1e-8).fit(X, y)
    mean, std = reg.predict(Xt, return_std=True, posterior="ensemble")
    prior = ntk_kernel_diag(Xt, activation=activation, kernel="nngp", depth=2,
                            b_std=0.1)
    np.testing.assert_allclose(mean, 0.0, atol=1e-12)
    np.testing.assert_allclose(std, np.sqrt(prior), rtol=1e-9)
