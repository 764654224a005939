"""A wide tanh net trained by full-batch SGD against the tanh NTK's finite-time
gradient-flow prediction (``NTKRegressor(activation="tanh", training_time=t)``).

The ReLU version is ``test_wide_ntk_net_follows_finite_time_kernel`` in
test_torch_mlp.py. Both sides are skntk's, but independent implementations:
the net is a torch module trained by autograd (TorchMLPRegressor), the kernel
is the analytic tanh NTK (quadrature) solved in closed form (NTKRegressor).
The tolerance comes from the width: the net's empirical NTK is an average of
``m`` independent per-neuron kernels, so it deviates from its limit by
``sigma / sqrt(m)``, where ``sigma`` (the spread of one neuron's kernel) is
estimated here by Monte Carlo in plain numpy, without skntk.

torch runs on one intra-op thread in this module (tests/nets/conftest.py).
"""

import numpy as np
import pytest

from skntk import NTKRegressor, TorchMLPRegressor

N_TRAIN, N_TEST, D = 20, 100, 8
W_STD, B_STD = 1.5, 0.2
LR, STEPS = 0.3, 10
# torch's MSELoss is mean((f - y)^2), no factor 1/2; NTKRegressor's docstring:
# gradient flow on 0.5 * sum((f - y)^2) / N for t = lr * steps, so an SGD step
# on MSELoss with rate lr is a step of 2 * lr on the kernel's loss.
T = 2 * LR * STEPS


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_TRAIN + N_TEST, D))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2]
    return X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:]


def _net_change(width, seed, X, y, Z):
    """(f_t - f_0 of the net at Z, the residual y - f_0(X), the trained net).

    The net's initial function f_0 is a random NNGP draw that does not vanish
    with the width; linearised training moves it by kernel gradient flow on the
    residual y - f_0(X), which is what NTKRegressor (starting from f = 0)
    predicts when fitted to that residual. f_0 comes from the same
    initialisation (same random_state) moved by one step of rate 1e-12.
    """
    kw = dict(hidden_layer_sizes=(width,), activation="tanh",
              parameterization="ntk", w_std=W_STD, b_std=B_STD, loss="mse",
              optimizer="sgd", batch_size=len(X), shuffle=False,
              n_iter_no_change=np.inf, random_state=seed, dtype="float64")
    init = TorchMLPRegressor(learning_rate_init=1e-12, max_iter=1, **kw).fit(X, y)
    net = TorchMLPRegressor(learning_rate_init=LR, max_iter=STEPS, **kw).fit(X, y)
    return net.predict(Z) - init.predict(Z), y - init.predict(X), net


def _rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def _per_neuron_spread(X, n_neurons=20000, seed=1):
    """sigma = sqrt(E ||k_i - E k||_F^2) / ||E k + b_std^2||_F for the NTK
    contribution k_i of one hidden tanh neuron of f(x) = w_std / sqrt(m)
    sum_i v_i tanh(h_i(x)) + b_std b, h_i = w_std W_i.x / sqrt(d) + b_std b_i
    (NTK parameterisation, standard normal parameters):
    k_i(x, x') = w_std^2 [tanh(h_i) tanh(h_i') + v_i^2 tanh'(h_i) tanh'(h_i')
    (w_std^2 x.x' / d + b_std^2)]. Plain numpy Monte Carlo."""
    rng = np.random.default_rng(seed)
    d = X.shape[1]
    W = rng.standard_normal((d, n_neurons))
    b = rng.standard_normal(n_neurons)
    v2 = rng.standard_normal(n_neurons) ** 2
    H = W_STD * X @ W / np.sqrt(d) + B_STD * b           # (n, neurons)
    A, G = np.tanh(H), 1.0 - np.tanh(H) ** 2
    S = W_STD ** 2 * X @ X.T / d + B_STD ** 2
    # k_i = w_std^2 (a a' + v^2 (g g') * S), a, g the columns of A, G; its
    # squared Frobenius norm in closed form, without n x n x neurons arrays
    AG = A * G
    sq = W_STD ** 4 * (np.sum(A * A, 0) ** 2
                       + 2 * v2 * np.sum(AG * (S @ AG), 0)
                       + v2 ** 2 * np.sum(G ** 2 * ((S * S) @ G ** 2), 0))
    mean = W_STD ** 2 * (A @ A.T + (G * v2) @ G.T * S) / n_neurons
    spread = np.sqrt(np.mean(sq) - np.sum(mean ** 2))
    return spread / np.linalg.norm(mean + B_STD ** 2)


@pytest.mark.slow
def test_wide_tanh_net_follows_its_finite_time_kernel():
    """Width 2048: the change f_t - f_0 of the net's test predictions agrees
    with NTKRegressor(activation="tanh", training_time=2 lr steps) within
    3 sigma / sqrt(width) (relative L2). Measured (seeds 0-2): 2.6-3.0% at
    width 2048, 16-18% at width 64; sigma = 1.79, so the bound is 11.9%."""
    X, y, Z = _data()
    width = 2048
    change, residual, net = _net_change(width, 0, X, y, Z)
    narrow = [_net_change(64, seed, X, y, Z)[:2] for seed in range(3)]
    # one kernel fit for all four nets (one residual column each): the tanh
    # Gram takes a quadrature, seconds on two cores. NTKRegressor's loss is
    # divided by N = y.size, here 4 n, each net's by n: the same flow per
    # column takes 4 times the training time.
    residuals = np.column_stack([residual] + [r for _, r in narrow])
    k = residuals.shape[1]
    ridge = NTKRegressor(alpha=0.0, activation="tanh", depth=1, w_std=W_STD,
                         b_std=B_STD, training_time=k * T).fit(X, residuals)
    kernel_all = ridge.predict(Z)
    kernel = kernel_all[:, 0]
    rel = _rel(change, kernel)
    # The tolerance. The empirical NTK at initialisation is the mean of `width`
    # independent per-neuron kernels, so its relative Frobenius distance from
    # the analytic NTK is sigma / sqrt(width) in root mean square. The finite-
    # time prediction depends on the kernel smoothly with a Lipschitz factor of
    # order one (for small t it is linear in K: t K(Z, X) r / N), and the
    # kernel's drift during training is O(1 / sqrt(width)) as well (Lee et al.
    # 2019, "Wide neural networks of any depth evolve as linear models"); 3
    # covers both together with a two-to-three-sigma draw. Not tuned: sigma is
    # computed from the tanh neuron, independently of skntk.
    sigma = _per_neuron_spread(np.vstack([X, Z]))
    assert 0.3 < sigma < 3, sigma  # a per-neuron spread of order one
    tol = 3 * sigma / np.sqrt(width)
    assert rel < tol, (rel, tol)

    # the net really learned (the training loss fell at least fivefold), and
    # training was stable (lr below the net's own stability limit)
    assert net.loss_curve_[-1] < 0.2 * net.loss_curve_[0]
    assert LR < net.max_learning_rate_

    # the time convention is exact: the kernel at t / 2 (forgetting that
    # MSELoss has no 1/2) is further from the net than the width allows, and
    # it and the kernel at 2 t are several times further than the right time
    # (measured, seed 0: 32% and 17%, against 3% at t)
    at_half, at_double = (_rel(change, pred[:, 0])
                          for pred in ridge.staged_predict(Z, [k * T / 2, k * 2 * T]))
    assert at_half > tol, (at_half, tol)
    assert min(at_half, at_double) > 3 * rel, (at_half, at_double, rel)

    # and width is what makes the agreement: width-64 nets (3 seeds) are
    # further away; 1/sqrt(width) predicts sqrt(2048 / 64) = 5.7 times, we ask
    # for more than 2 (a single width-2048 draw against a 3-seed mean)
    rel64 = np.mean([_rel(c, kernel_all[:, 1 + i])
                     for i, (c, _) in enumerate(narrow)])
    assert rel64 > 2 * rel, (rel64, rel)
