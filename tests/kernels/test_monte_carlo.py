"""The analytic kernel against Monte Carlo estimates from wide, finite networks.

:func:`skntk.relu_kernel` evaluates a closed-form recursion. The reference here
shares nothing with it: we build the finite network itself in torch (float64),
in neural-tangents' NTK parameterization,

    h = (w_std / sqrt(fan_in)) * W @ x + b_std * b,   W, b entries iid N(0, 1),

``[Dense, ReLU] * depth`` followed by a Dense readout to one output, draw many
independent copies and average

* the empirical NTK  Theta(x, y) = sum over all parameters p of
  df(x)/dp * df(y)/dp, with the gradients from torch autograd, and
* the empirical NNGP  w_std^2 * mean_i phi(h_L(x))_i phi(h_L(y))_i + b_std^2,
  i.e. the readout layer's input (much less noisy than the covariance of f).

Both converge to the analytic kernels as the width and the number of nets grow.
One net of width 4096 is off by ~4-6% (relative Frobenius norm, more with
depth), so a handful of nets would make a 5% test a coin toss; the average of
``N_NETS`` = 32 is off by ~1% (at most 1.9% over eight seed sets tried), which
leaves the issue's 5% tolerance a margin of about four standard deviations.
"""

import functools
import math

import numpy as np
import pytest
import torch
from torch.func import jacrev, vmap

from skntk import relu_kernel

D_IN = 5
WIDTH = 4096  # every hidden layer; the NTK needs >= 2048, the NNGP >= 4096
N_NETS = 32
FULL_JACOBIAN_WIDTH = 2048
RTOL = 0.05  # the issue: "agrees with the analytic kernel within 5% relative error"
SEED = 0

DEPTHS = (1, 2, 3)
WB = ((1.0, 0.0), (math.sqrt(2.0), 0.1))
WB_IDS = ("w1_b0", "wsqrt2_b0.1")


def _inputs():
    """X (6 x 5): four Gaussian rows, a duplicate of row 0 and 2.5 * row 1;
    Y (4 x 5): three Gaussian rows and 0.5 * X[2] (angle 0 across the blocks)."""
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((6, D_IN))
    X[4] = X[0]
    X[5] = 2.5 * X[1]
    Y = rng.standard_normal((4, D_IN))
    Y[3] = 0.5 * X[2]
    return X, Y


def _draw_params(depth, width, gen):
    """[(W, b)] per Dense layer, entries iid N(0, 1), float64.

    Drawn in float32 and widened (3x faster than float64 draws): N(0, 1) up to a
    relative rounding of 6e-8, far below the Monte Carlo error."""
    dims = [D_IN] + [width] * depth + [1]
    return [
        (torch.randn(n_out, n_in, generator=gen).to(torch.float64),
         torch.randn(n_out, generator=gen).to(torch.float64))
        for n_in, n_out in zip(dims[:-1], dims[1:])
    ]


def _forward(params, Z, w_std, b_std):
    """f on the rows of Z, shape (n,), and (input, pre-activation) of every Dense."""
    layers = []
    a = Z
    for k, (W, b) in enumerate(params):
        h = (w_std / math.sqrt(W.shape[1])) * (a @ W.T) + b_std * b
        layers.append((a, h))
        if k < len(params) - 1:
            a = torch.relu(h)
    return h[:, 0], layers


def _ntk_full_jacobian(params, Z, w_std, b_std):
    """Empirical NTK by definition: the per-input gradient of f with respect to
    every parameter tensor (torch.func.jacrev, vmapped over the inputs), and
    Theta = sum over all parameter entries of df(x)/dp df(y)/dp."""
    flat = [p for layer in params for p in layer]

    def f_one(flat_params, z):
        pairs = list(zip(flat_params[0::2], flat_params[1::2]))
        return _forward(pairs, z[None], w_std, b_std)[0][0]

    jacobians = vmap(jacrev(f_one), in_dims=(None, 0))(flat, Z)  # (n, *p.shape) each
    n = len(Z)
    theta = np.zeros((n, n))
    for J in jacobians:
        J = J.reshape(n, -1).numpy()
        theta += J @ J.T
    return theta


def _ntk_and_nngp(params, Z, w_std, b_std):
    """(NTK, NNGP estimate) of one net on the rows of Z, from one forward pass and
    one autograd backward pass.

    For a Dense layer with input a and pre-activation h, df/dW = delta a^T
    w_std / sqrt(fan_in) and df/db = b_std delta, with delta = df/dh, so its share
    of Theta(x, y) is <delta(x), delta(y)> (w_std^2 <a(x), a(y)> / fan_in + b_std^2).
    delta for every row comes from one backward pass of f.sum() (rows do not
    interact). This equals the full Jacobian sum exactly (see
    test_per_layer_ntk_equals_full_jacobian) without materializing
    n x n_params gradients, so many wide nets fit in the time budget."""
    Z = Z.clone().requires_grad_(True)  # so that every h is part of the graph
    f, layers = _forward(params, Z, w_std, b_std)
    deltas = torch.autograd.grad(f.sum(), [h for _, h in layers])
    with torch.no_grad():
        ntk = sum((d @ d.T) * (w_std**2 / a.shape[1] * (a @ a.T) + b_std**2)
                  for (a, _), d in zip(layers, deltas))
        phi = layers[-1][0]  # the readout's input phi(h_L)
        nngp = w_std**2 / phi.shape[1] * (phi @ phi.T) + b_std**2
    return ntk.numpy(), nngp.numpy()


@functools.lru_cache(maxsize=None)
def _monte_carlo(depth):
    """{(w_std, b_std): (NTK, NNGP)}: the empirical kernels on the rows of
    vstack(X, Y), averaged over N_NETS independent nets of width WIDTH.

    Each net's N(0, 1) parameters are evaluated under every (w_std, b_std) of WB:
    the scalings enter only the forward pass, so one draw serves all of them
    (drawing dominates the cost). Cached: the NTK and NNGP tests share it."""
    X, Y = _inputs()
    Z = torch.from_numpy(np.vstack([X, Y]))
    gen = torch.Generator()
    sums = {wb: [0.0, 0.0] for wb in WB}
    for i in range(N_NETS):
        gen.manual_seed(10_000 * SEED + 100 * i + depth)  # one seed per net
        params = _draw_params(depth, WIDTH, gen)
        for wb, acc in sums.items():
            for k, kernel in enumerate(_ntk_and_nngp(params, Z, *wb)):
                acc[k] = acc[k] + kernel / N_NETS
    return {wb: tuple(acc) for wb, acc in sums.items()}


def _rel_fro(empirical, analytic):
    return np.linalg.norm(empirical - analytic) / np.linalg.norm(analytic)


def _check_blocks(kind, empirical, depth, w_std, b_std):
    """Relative Frobenius error of the X-vs-X and X-vs-Y blocks against relu_kernel."""
    X, Y = _inputs()
    nx = len(X)
    kw = dict(kernel=kind, depth=depth, w_std=w_std, b_std=b_std)
    errors = {
        "gram": _rel_fro(empirical[:nx, :nx], relu_kernel(X, **kw)),
        "cross": _rel_fro(empirical[:nx, nx:], relu_kernel(X, Y, **kw)),
    }
    bad = {k: v for k, v in errors.items() if not v < RTOL}
    assert not bad, f"{kind}: relative Frobenius errors {errors}, tolerance {RTOL}"


@pytest.mark.parametrize("depth", DEPTHS)
def test_per_layer_ntk_equals_full_jacobian(depth):
    """The fast NTK of the Monte Carlo tests is the textbook empirical NTK: on a
    net of width 2048 it matches sum_p df(x)/dp df(y)/dp over the full autograd
    Jacobian (every weight and bias entry) to rounding error. b_std > 0, so the
    bias gradients count too."""
    w_std, b_std = WB[1]
    X, Y = _inputs()
    Z = torch.from_numpy(np.vstack([X, Y]))
    gen = torch.Generator().manual_seed(12_345 + depth)
    params = _draw_params(depth, FULL_JACOBIAN_WIDTH, gen)
    full = _ntk_full_jacobian(params, Z, w_std, b_std)
    fast, _ = _ntk_and_nngp(params, Z, w_std, b_std)
    np.testing.assert_allclose(fast, full, rtol=1e-10, atol=1e-12 * np.abs(full).max())


@pytest.mark.slow
@pytest.mark.parametrize("w_std, b_std", WB, ids=WB_IDS)
@pytest.mark.parametrize("depth", DEPTHS)
def test_ntk_matches_wide_network_monte_carlo(depth, w_std, b_std):
    """relu_kernel(kernel="ntk") is within 5% (relative Frobenius norm, Gram and
    cross block) of the empirical NTK averaged over independent finite ReLU nets
    of width 4096 built in torch -- a reference that never evaluates the
    arc-cosine recursion, so a wrong layer count, scaling or bias term shows."""
    ntk, _ = _monte_carlo(depth)[w_std, b_std]
    _check_blocks("ntk", ntk, depth, w_std, b_std)


@pytest.mark.slow
@pytest.mark.parametrize("w_std, b_std", WB, ids=WB_IDS)
@pytest.mark.parametrize("depth", DEPTHS)
def test_nngp_matches_wide_network_monte_carlo(depth, w_std, b_std):
    """relu_kernel(kernel="nngp") is within 5% (relative Frobenius norm, Gram and
    cross block) of w_std^2 * mean over the last hidden layer of
    phi(h_L(x)) phi(h_L(y)) + b_std^2, averaged over independent finite nets of
    width 4096: the covariance of the readout given the hidden layers, an
    estimator of the NNGP with far less noise than the covariance of f itself."""
    _, nngp = _monte_carlo(depth)[w_std, b_std]
    _check_blocks("nngp", nngp, depth, w_std, b_std)
