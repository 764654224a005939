"""The stability diagnostic of the network estimators: ``max_learning_rate``.

The largest stable plain-SGD step of a network on one batch, 2 over the
largest eigenvalue of the loss curvature in function space written through the
network's empirical NTK (:func:`skntk.nets._torch.empirical_ntk`), and
:class:`LearningRateWarning`, which ``fit`` issues when ``learning_rate_init``
exceeds it.
"""

import math

import numpy as np
import scipy.linalg
import torch

from ._torch import empirical_ntk

__all__ = ["LearningRateWarning", "max_learning_rate"]

# at most this many rows x outputs enter the batch NTK of the diagnostic
MAX_NTK_ROWS = 1024


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


def max_learning_rate(module, X, loss):
    """The largest stable plain-SGD learning rate of ``module`` on the batch X
    (a float64 tensor), for the estimators' loss normalisation; see
    :meth:`TorchMLPRegressor.max_learning_rate`."""
    theta, out = empirical_ntk(module, X)
    return _max_lr_from_ntk(theta, out, loss)

