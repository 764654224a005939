"""Wide TorchMLP networks of every activation converge to their analytic kernels.

The networks are skntk's own (the module ``TorchMLPRegressor(
parameterization="ntk")`` trains, built by ``skntk.nets._torch.build_mlp``):
first checked to compute neural-tangents' ``stax.serial(*[Dense(m, w_std,
b_std), act] * depth, Dense(1, w_std, b_std))`` from their N(0, 1)
parameters, then averaged over ``N_NETS`` independent draws of width 4096:

* the empirical NTK, sum over layers of <delta(x), delta(y)> (w_std^2
  <a(x), a(y)> / fan_in + b_std^2), delta = df/dh back-propagated here with
  the activations' textbook derivatives, and
* the empirical NNGP, w_std^2 mean_i phi(h_L(x))_i phi(h_L(y))_i + b_std^2.

The analytic reference shares nothing with skntk: the NNGP/NTK recursion of
Dense layers (K <- w^2 E[phi(u) phi(v)] + b^2, Theta <- K + w^2
E[phi'(u) phi'(v)] Theta) whose Gaussian expectations are evaluated by
quadrature in polar coordinates, (u, v) = r (sqrt(k11) cos t, a cos t + b sin t):
Gauss-Legendre in r on [0, 12] against r exp(-r^2 / 2) and in t on the arcs
between the angles where u or v is 0, so that the kinks of relu, leaky_relu,
abs and the jumps of their derivatives fall on the arcs' ends. It matches the
arc-cosine and Williams' erf closed forms to ~1e-14 (1e-9 where arccos loses
digits), and for ReLU the whole recursion matches skntk.relu_kernel at depth 2
(test_quadrature_matches_closed_forms), far below the 5% Monte Carlo
tolerance; plain 2-D Gauss-Hermite would not do: its error on ReLU's
E[phi'(u) phi'(v)] is still 3% at 200 x 200 nodes.

Measured (16 nets, three seed sets): the worst relative error over the
activations, kernels and blocks is 0.9-2.2% at depth 1 and 2.2-2.5% at depth 2.
"""

import functools
import math

import numpy as np
import pytest
import torch
from numpy.polynomial.legendre import leggauss
from scipy.special import erf, expit, ndtr

from skntk import relu_kernel
from skntk.nets._torch import MLP, build_mlp
from skntk.utils.activations import check_activation

D_IN = 4
WIDTH = 4096
N_NETS = 16
SEED = 0
RTOL = 0.05  # the issue: within 5% of the analytic kernel
W_STD, B_STD = 1.5, 0.1
SLOPE = 0.2  # leaky_relu's
DEPTHS = (1, 2)


def _np_gelu_d(x):
    return ndtr(x) + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


# (phi, phi') in numpy: the quadrature's
NUMPY = {
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: (x > 0) * 1.0),
    "tanh": (np.tanh, lambda x: 1.0 / np.cosh(x) ** 2),
    "logistic": (expit, lambda x: expit(x) * expit(-x)),
    "identity": (lambda x: x, np.ones_like),
    "erf": (erf, lambda x: 2.0 / math.sqrt(math.pi) * np.exp(-x * x)),
    "gelu": (lambda x: x * ndtr(x), _np_gelu_d),
    "leaky_relu": (lambda x: np.where(x > 0, x, SLOPE * x),
                   lambda x: np.where(x > 0, 1.0, SLOPE)),
    "abs": (np.abs, np.sign),
}
# (phi, phi') in torch: the Monte Carlo's
TORCH = {
    "relu": (torch.relu, lambda x: (x > 0).to(x.dtype)),
    "tanh": (torch.tanh, lambda x: 1.0 / torch.cosh(x) ** 2),
    "logistic": (torch.sigmoid, lambda x: torch.sigmoid(x) * torch.sigmoid(-x)),
    "identity": (lambda x: x, torch.ones_like),
    "erf": (torch.erf, lambda x: 2.0 / math.sqrt(math.pi) * torch.exp(-x * x)),
    "gelu": (lambda x: x * 0.5 * (1 + torch.erf(x / math.sqrt(2))),
             lambda x: 0.5 * (1 + torch.erf(x / math.sqrt(2)))
             + x * torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)),
    "leaky_relu": (lambda x: torch.where(x > 0, x, SLOPE * x),
                   lambda x: torch.where(x > 0, 1.0, SLOPE).to(x.dtype)),
    "abs": (torch.abs, torch.sign),
}
ACTIVATIONS = tuple(NUMPY)


def _inputs():
    """X: three Gaussian rows, a duplicate and a negative multiple; Y: three
    rows correlated with X's (so that no block of the kernel is nearly 0,
    which would make its relative error meaningless). Ordinary inputs:
    pre-activation variances of order 1."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((5, D_IN))
    X[3] = X[0]
    X[4] = -1.5 * X[1]
    return X, 0.8 * X[:3] + 0.6 * rng.standard_normal((3, D_IN))


# --------------------------------------------------------------- the reference
R_MAX = 12.0  # exp(-72) beyond: nothing left of the Gaussian


@functools.lru_cache(maxsize=None)
def _rules(n_r=96, n_t=48):
    xr, wr = leggauss(n_r)
    r = 0.5 * R_MAX * (xr + 1.0)
    return r, 0.5 * R_MAX * wr * r * np.exp(-0.5 * r * r), leggauss(n_t)


def _expectations(K, phi, dphi):
    """E[phi(u) phi(v)] and E[phi'(u) phi'(v)] for (u, v) ~ N(0, K[[i, j]][:, [i, j]])
    over every pair of rows, by the polar quadrature of the module docstring."""
    r, wr, (xt, wt) = _rules()
    n = K.shape[0]
    E, dE = np.empty((n, n)), np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            s = math.sqrt(K[i, i])
            a = K[i, j] / s
            b = math.sqrt(max(K[j, j] - a * a, 0.0))
            t0 = math.atan2(-a, b) % math.pi  # where v = 0
            cuts = np.unique([0.0, math.pi / 2, 3 * math.pi / 2, t0, t0 + math.pi,
                              2 * math.pi])
            t = np.concatenate([lo + 0.5 * (hi - lo) * (xt + 1)
                                for lo, hi in zip(cuts[:-1], cuts[1:])])
            w_t = np.concatenate([0.5 * (hi - lo) * wt
                                  for lo, hi in zip(cuts[:-1], cuts[1:])])
            U = np.outer(r, s * np.cos(t))
            V = np.outer(r, a * np.cos(t) + b * np.sin(t))
            W = np.outer(wr, w_t / (2 * math.pi))
            E[i, j] = E[j, i] = np.sum(W * phi(U) * phi(V))
            dE[i, j] = dE[j, i] = np.sum(W * dphi(U) * dphi(V))
    return E, dE


def analytic_kernels(Z, name, depth, w_std=W_STD, b_std=B_STD):
    """(NNGP, NTK) of stax.serial(*[Dense(., w_std, b_std), phi] * depth,
    Dense(1, w_std, b_std)) on the rows of Z."""
    phi, dphi = NUMPY[name]
    K = w_std**2 * (Z @ Z.T) / Z.shape[1] + b_std**2
    theta = K.copy()
    for _ in range(depth):
        E, dE = _expectations(K, phi, dphi)
        K = w_std**2 * E + b_std**2
        theta = K + w_std**2 * dE * theta
    return K, theta


def test_quadrature_matches_closed_forms():
    """The reference's quadrature against the arc-cosine (ReLU) and Williams'
    arcsine (erf) closed forms, on the test's inputs at the input layer."""
    X, Y = _inputs()
    Z = np.vstack([X, Y])
    K = W_STD**2 * (Z @ Z.T) / D_IN + B_STD**2
    d = np.sqrt(np.diag(K))
    c = np.clip(K / np.outer(d, d), -1.0, 1.0)
    angle = np.arccos(c)
    E, dE = _expectations(K, *NUMPY["relu"])
    np.testing.assert_allclose(
        E, np.outer(d, d) * (np.sin(angle) + (np.pi - angle) * c) / (2 * np.pi),
        rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dE, (np.pi - angle) / (2 * np.pi), rtol=0, atol=1e-7)
    q = 1.0 + 2.0 * np.diag(K)
    E, dE = _expectations(K, *NUMPY["erf"])
    np.testing.assert_allclose(
        E, 2 / np.pi * np.arcsin(np.clip(2 * K / np.sqrt(np.outer(q, q)), -1, 1)),
        rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dE, 4 / np.pi / np.sqrt(np.outer(q, q) - 4 * K**2),
                               rtol=1e-12)
    for kind, kernel in zip(("nngp", "ntk"), analytic_kernels(Z, "relu", 2)):
        np.testing.assert_allclose(kernel, relu_kernel(
            Z, kernel=kind, depth=2, w_std=W_STD, b_std=B_STD), rtol=1e-7)


# ----------------------------------------------------------------- Monte Carlo
def _each(fs, H):
    """fs[a] applied to the a-th block of rows of H (one block per activation)."""
    return torch.cat([f(h) for f, h in zip(fs, H.chunk(len(fs)))])


def _empirical_kernels(layers, Z):
    """{activation: (NNGP, NTK)} of one net from its raw N(0, 1) parameters, by a
    forward and a closed-form backward pass with the textbook phi, phi'; the
    rows of every activation are stacked, so each layer is one GEMM. float32
    (rounding ~1e-6, far below the Monte Carlo error), twice as fast."""
    phis = [TORCH[name][0] for name in ACTIVATIONS]
    dphis = [TORCH[name][1] for name in ACTIVATIONS]
    n, A = Z.shape[0], len(ACTIVATIONS)
    params = [(L.weight.detach(), L.bias.detach()) for L in layers]
    a, inputs, pre = Z.float().repeat(A, 1), [], []
    for k, (W, b) in enumerate(params):
        inputs.append(a)
        h = (W_STD / math.sqrt(W.shape[1])) * (a @ W.T) + B_STD * b
        pre.append(h)
        if k < len(params) - 1:
            a = _each(phis, h)

    def gram(M):  # (A, n, n): each activation's rows against themselves
        M = M.reshape(A, n, -1)
        return M @ M.transpose(1, 2)

    delta = torch.ones_like(pre[-1])  # df/dh of the readout, one output
    ntk = 0.0
    for k in range(len(params) - 1, -1, -1):
        x = inputs[k]
        ntk = ntk + gram(delta) * (W_STD**2 * gram(x) / x.shape[1] + B_STD**2)
        if k:
            W = params[k][0]
            delta = (W_STD / math.sqrt(W.shape[1])) * (delta @ W) * _each(
                dphis, pre[k - 1])
    nngp = W_STD**2 * gram(inputs[-1]) / inputs[-1].shape[1] + B_STD**2
    return {name: (nngp[i].double().numpy(), ntk[i].double().numpy())
            for i, name in enumerate(ACTIVATIONS)}


@functools.lru_cache(maxsize=None)
def _monte_carlo(depth):
    """{activation: (NNGP, NTK)} averaged over N_NETS nets of width WIDTH; each
    draw of skntk's module serves every activation (they enter the forward
    pass only), after checking that the module computes the test's network."""
    X, Y = _inputs()
    Z = torch.from_numpy(np.vstack([X, Y]))
    sums = {name: [0.0, 0.0] for name in ACTIVATIONS}
    for i in range(N_NETS):
        gen = torch.Generator().manual_seed(SEED + 1000 * depth + i)
        module = build_mlp(D_IN, (WIDTH,) * depth, 1, activation=check_activation(
            "relu"), parameterization="ntk", init="normal", w_std=W_STD, b_std=B_STD,
            generator=gen, dtype=torch.float32)
        if i == 0:  # skntk's net with each activation is the test's
            for name in ACTIVATIONS:
                spec = check_activation(name, SLOPE if name == "leaky_relu" else None)
                with torch.no_grad():
                    f = MLP(module.layers, spec)(Z.float()).double()
                np.testing.assert_allclose(
                    f.numpy()[:, 0], _forward(module.layers, Z, name), rtol=1e-5,
                    atol=1e-5)
        for name, kernels in _empirical_kernels(module.layers, Z).items():
            for k, kernel in enumerate(kernels):
                sums[name][k] = sums[name][k] + kernel / N_NETS
    return {name: tuple(s) for name, s in sums.items()}


def _forward(layers, Z, name):
    phi = TORCH[name][0]
    a = Z
    for k, L in enumerate(layers):
        W, b = L.weight.detach().double(), L.bias.detach().double()
        a = (W_STD / math.sqrt(W.shape[1])) * (a @ W.T) + B_STD * b
        if k < len(layers) - 1:
            a = phi(a)
    return a.numpy()[:, 0]


def _errors(empirical, analytic, n_x):
    """Relative Frobenius errors of the X-X and X-Y blocks."""
    def rel(e, a):
        return np.linalg.norm(e - a) / np.linalg.norm(a)

    return (rel(empirical[:n_x, :n_x], analytic[:n_x, :n_x]),
            rel(empirical[:n_x, n_x:], analytic[:n_x, n_x:]))


@pytest.mark.slow
@pytest.mark.parametrize("depth", DEPTHS)
def test_wide_nets_converge_to_their_kernels_for_every_activation(depth):
    """For every activation, the empirical NNGP and NTK of skntk's nets of
    width 4096 (averaged over 16 draws) are within 5% (relative Frobenius
    norm, Gram block and cross block) of the analytic kernels."""
    X, Y = _inputs()
    Z = np.vstack([X, Y])
    mc = _monte_carlo(depth)
    errors = {}
    for name in ACTIVATIONS:
        nngp, ntk = analytic_kernels(Z, name, depth)
        errors[name, "nngp"] = _errors(mc[name][0], nngp, len(X))
        errors[name, "ntk"] = _errors(mc[name][1], ntk, len(X))
    bad = {k: v for k, v in errors.items() if not max(v) < RTOL}
    assert not bad, f"depth {depth}: relative errors above {RTOL}: {bad}"


@pytest.mark.slow
@pytest.mark.parametrize("depth", DEPTHS)
def test_ntk_kernel_matches_wide_nets_for_every_activation(depth):
    """skntk.ntk_kernel equals this file's independent quadrature to 1e-8 and
    is within 5% of the Monte Carlo kernels of skntk's wide nets, for every
    activation."""
    from skntk import ntk_kernel

    X, Y = _inputs()
    n_x = len(X)
    mc = _monte_carlo(depth)
    bad = {}
    for name in ACTIVATIONS:
        kw = dict(activation=name, depth=depth, w_std=W_STD, b_std=B_STD,
                  negative_slope=SLOPE if name == "leaky_relu" else None)
        reference = analytic_kernels(np.vstack([X, Y]), name, depth)
        for k, kind in enumerate(("nngp", "ntk")):
            gram = ntk_kernel(X, kernel=kind, **kw)
            cross = ntk_kernel(X, Y, kernel=kind, **kw)
            np.testing.assert_allclose(gram, reference[k][:n_x, :n_x], rtol=1e-8)
            np.testing.assert_allclose(cross, reference[k][:n_x, n_x:], rtol=1e-8)
            full = np.block([[gram, cross], [cross.T, reference[k][n_x:, n_x:]]])
            errors = _errors(mc[name][k], full, n_x)
            if not max(errors) < RTOL:
                bad[name, kind] = errors
    assert not bad, f"depth {depth}: relative errors above {RTOL}: {bad}"
