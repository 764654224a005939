"""The stability diagnostic of the network estimators: ``max_learning_rate``.

The largest stable plain-SGD step of a network on one batch, 2 over the
largest eigenvalue of the loss curvature in function space written through the
network's empirical NTK, and :class:`LearningRateWarning`, which ``fit`` issues
when ``learning_rate_init`` exceeds it. Two ways to the same number:

- :func:`max_learning_rate` (the public method): the whole empirical NTK of
  the batch (:func:`skntk.nets._torch.empirical_ntk`) and LAPACK's largest
  eigenvalue, exact, float64.
- :func:`estimate_max_learning_rate` (``fit``'s ``max_learning_rate_``): a few
  Lanczos iterations on the curvature operator ``v -> B' J J' B v``, each one
  Jacobian-transpose product (a backward pass) and one Jacobian product (a
  double backward pass), on the training dtype, never forming the NTK. Pure
  autograd, so it holds for any differentiable activation. Its cost is a few
  training steps, not the O((n k)^2 P) of the NTK.
"""

import math

import numpy as np
import scipy.linalg
import torch

from ._torch import empirical_ntk

__all__ = ["EXACT_NTK_ROWS", "LearningRateWarning", "estimate_max_learning_rate",
           "max_learning_rate"]

# at most this many rows x outputs enter the batch NTK of the diagnostic
MAX_NTK_ROWS = 1024
# fit computes max_learning_rate_ exactly (the whole NTK) up to this many rows x
# outputs, where k backward passes and a small eigenvalue problem cost less than
# the 2 x LANCZOS_ITER passes of the estimate (the seed's batch of 32 rows, one
# output: a sixth of its one-epoch fit, against twice that with Lanczos)
EXACT_NTK_ROWS = 256


class LearningRateWarning(UserWarning):
    """``learning_rate_init`` exceeds the largest stable step of plain SGD."""


def _max_lr_from_ntk(theta, out, loss):
    """2 / largest eigenvalue of the Gauss-Newton curvature of the loss of one
    batch, J' H J, written through the empirical NTK Theta = J J'.

    - loss="mse" (torch's mean over the n * k entries, no 1/2): H = 2 I / (n k),
      so the limit is n k / lambda_max(Theta); with neural-tangents' loss
      0.5 * mean this is its ``predict.max_learning_rate``, 2 n k / lambda_max.
    - loss="cross_entropy": H = blockdiag(diag(p_i) - p_i p_i') / n (softmax),
      or sigmoid'(z_i) / n for one logit, at the current outputs.
    """
    n, k = out.shape
    if loss == "mse":
        curvature = theta * (2.0 / (n * k))
    else:
        if k == 1:
            s = torch.sigmoid(out[:, 0])
            b = torch.sqrt(s * (1 - s))
            curvature = theta * torch.outer(b, b) / n
        else:
            p = torch.softmax(out, dim=1)
            sp = torch.sqrt(p)
            # B_i with B_i B_i' = diag(p_i) - p_i p_i'; J' H J has the nonzero
            # eigenvalues of B' Theta B
            B = torch.diag_embed(sp) - p[:, :, None] * sp[:, None, :]
            T = theta.reshape(n, k, n, k)
            curvature = torch.einsum("ica,icjd,jdb->iajb", B, T, B).reshape(
                n * k, n * k) / n
    # only the largest eigenvalue is needed: LAPACK's dsyevr on that index
    # (a full torch eigvalsh is ~25x slower on a busy 2-core machine)
    c = curvature.detach().cpu().numpy().astype(np.float64)
    m = c.shape[0]
    lam = float(scipy.linalg.eigvalsh(c, subset_by_index=[m - 1, m - 1])[0])
    return 2.0 / lam if lam > 0 else math.inf


# the Lanczos estimate of fit: at most this many iterations, stopped early once
# the largest Ritz value moves by less than this (relative)
LANCZOS_ITER = 8
LANCZOS_RTOL = 1e-3


def _curvature_factors(out, loss):
    """``(scale, B, Bt)``: the curvature of the batch loss in function space is
    ``scale * B' Theta B`` with ``B`` / ``Bt`` applying the block-diagonal
    factor of ``_max_lr_from_ntk``'s H (None: the identity) to (n, k) arrays."""
    n, k = out.shape
    if loss == "mse":
        return 2.0 / (n * k), None, None
    if k == 1:
        s = torch.sigmoid(out)
        b = torch.sqrt(s * (1 - s))
        return 1.0 / n, (lambda v: b * v), (lambda w: b * w)
    p = torch.softmax(out, dim=1)
    sp = torch.sqrt(p)

    # B_i = diag(sp_i) - p_i sp_i' row by row
    def B(v):
        return sp * v - p * (sp * v).sum(dim=1, keepdim=True)

    def Bt(w):
        return sp * w - sp * (p * w).sum(dim=1, keepdim=True)

    return 1.0 / n, B, Bt


def _lanczos_largest(matvec, shape, dtype, device, n_iter, rtol):
    """The largest Ritz value of ``n_iter`` (at most) Lanczos iterations with
    full reorthogonalisation on the symmetric positive semi-definite operator
    ``matvec`` of (n, k) arrays; a lower bound on its largest eigenvalue that
    converges fast when that eigenvalue stands apart (the rule for NTKs)."""
    gen = torch.Generator(device="cpu").manual_seed(0)  # fit's draws untouched
    q = torch.randn(shape, generator=gen, dtype=torch.float64).to(device, dtype)
    q = q / torch.linalg.vector_norm(q)
    basis, alphas, betas = [q], [], []
    theta = 0.0
    for _ in range(n_iter):
        w = matvec(basis[-1])
        alphas.append(float((w * basis[-1]).sum()))
        for b in basis:  # full reorthogonalisation: the basis is small
            w = w - (w * b).sum() * b
        T = torch.diag(torch.tensor(alphas, dtype=torch.float64))
        if betas:
            off = torch.tensor(betas, dtype=torch.float64)
            T += torch.diag(off, 1) + torch.diag(off, -1)
        new = float(torch.linalg.eigvalsh(T)[-1])
        beta = float(torch.linalg.vector_norm(w))
        done = abs(new - theta) <= rtol * abs(new) or beta <= 1e-7 * abs(new)
        theta = new
        if done or not math.isfinite(theta):
            break
        betas.append(beta)
        basis.append(w / beta)
    return theta


def estimate_max_learning_rate(module, X, loss, n_iter=LANCZOS_ITER,
                               rtol=LANCZOS_RTOL):
    """:func:`max_learning_rate` estimated without the empirical NTK: Lanczos
    on ``v -> scale * B' J J' B v`` with autograd's products (``J' w``: a
    backward pass of the outputs; ``J t``: the derivative of ``J' u`` in ``u``,
    a double backward pass), in the module's dtype. Slightly above the exact
    limit when the iterations stop before the top eigenvalue has converged
    (Ritz values approach it from below)."""
    params = [p for p in module.parameters() if p.requires_grad]
    with torch.enable_grad():
        out = module(X)
        u = torch.zeros_like(out, requires_grad=True)
        # J' u, linear in u; its derivative in u against t is J t
        jtu = torch.autograd.grad(out, params, u, create_graph=True)
        scale, B, Bt = _curvature_factors(out.detach(), loss)

        def matvec(v):
            w = v if B is None else B(v)
            jt = torch.autograd.grad(out, params, w, retain_graph=True)
            jv = torch.autograd.grad(jtu, u, jt, retain_graph=True)[0]
            return scale * (jv if Bt is None else Bt(jv))

        lam = _lanczos_largest(matvec, out.shape, out.dtype, out.device, n_iter, rtol)
    return 2.0 / lam if lam > 0 else math.inf


def max_learning_rate(module, X, loss):
    """The largest stable plain-SGD learning rate of ``module`` on the batch X
    (a float64 tensor), for the estimators' loss normalisation; see
    :meth:`TorchMLPRegressor.max_learning_rate`."""
    theta, out = empirical_ntk(module, X)
    return _max_lr_from_ntk(theta, out, loss)

