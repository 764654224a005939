"""The infinite ensemble of infinitely wide networks trained by gradient flow.

Lee et al. (2019), "Wide neural networks of any depth evolve as linear models
under gradient descent", eqs. (15)-(16): a network of infinite width is at
initialisation a draw f_0 ~ GP(0, K) of its NNGP K, and trained by gradient
flow on the loss ``0.5 * sum((f - y)**2) / N`` (N = ``y.size``) it moves as
its linearisation, with its NTK Theta:

    f_t(x) = f_0(x) + T_t(x) (y - f_0(X)),
    T_t(x) = Theta(x, X) Theta^-1 (I - exp(-t Theta / N)).

Over the ensemble of initialisations, f_t(x) is Gaussian with mean
``T_t(x) y`` and covariance

    K(x, x') - T_t(x) K(X, x') - K(x, X) T_t(x')' + T_t(x) K(X, X) T_t(x')'.

Here: the map T_t from the eigendecomposition of Theta (any t) or from its
Cholesky factor (t = infinity), and the covariance or its diagonal. Sample
weights w enter as the loss ``0.5 * sum(w (f - y)**2) / N``: Theta is then
replaced by ``W^1/2 Theta W^1/2`` in the eigendecomposition and
``T = Theta(x, X) W^1/2 Q g(Lambda) Q' W^1/2``. Plain arrays in and out.
"""

import numpy as np

from ..utils.warn import warn
from .cholesky import cho_solve_upper
from .spectral import spectral_filter

__all__ = ["ensemble_covariance", "ensemble_variance", "floor_variance",
           "flow_map_cholesky", "flow_map_eigh"]


def flow_map_eigh(theta_cross, lam, Q, alpha, t, n_outputs_total, sqrt_w=None):
    """T_t = Theta(x, X) W^1/2 Q g_t(Lambda) Q' W^1/2, shape (m, n).

    ``lam, Q``: eigenpairs of ``W^1/2 Theta W^1/2`` (Theta without alpha);
    g_t is :func:`~skntk.linalg.spectral_filter` of (alpha, t): the
    gradient-flow filter ``(1 - exp(-t (lambda + alpha) / N)) / (lambda +
    alpha)``, or the (pseudo-)inverse for ``t=None`` (infinite time).
    """
    B = theta_cross if sqrt_w is None else theta_cross * sqrt_w[None, :]
    g = spectral_filter(lam, alpha, t, n_outputs_total)
    T = ((B @ Q) * g[None, :]) @ Q.T
    return T if sqrt_w is None else T * sqrt_w[None, :]


def flow_map_cholesky(theta_cross, U, sqrt_w=None):
    """T_inf = Theta(x, X) W^1/2 (W^1/2 Theta W^1/2 + alpha I)^-1 W^1/2, from
    the Fortran-ordered upper factor U of the bracket (U'U)."""
    B = theta_cross if sqrt_w is None else theta_cross * sqrt_w[None, :]
    T = cho_solve_upper(U, np.array(B.T, order="F")).T
    return T if sqrt_w is None else T * sqrt_w[None, :]


def ensemble_covariance(T, k_test, k_cross, k_train):
    """K(x, x') - T K(X, x') - K(x, X) T' + T K(X, X) T', shape (m, m).

    ``k_test``: the NNGP among the m test rows, ``k_cross`` (m, n) between
    test and training rows, ``k_train`` (n, n) among the training rows.
    Symmetrised (the four terms round differently).
    """
    TK = T @ k_cross.T
    C = k_test - TK - TK.T + (T @ k_train) @ T.T
    return (C + C.T) / 2


def ensemble_variance(T, k_test_diag, k_cross, k_train):
    """The diagonal of :func:`ensemble_covariance`, without the (m, m) matrix,
    floored at 0: silently within rounding (1e-10 of the prior variance; e.g.
    at training rows after convergence), with a warning below that."""
    var = (k_test_diag - 2 * np.einsum("ij,ij->i", T, k_cross)
           + np.einsum("ij,ij->i", T @ k_train, T))
    return floor_variance(var, k_test_diag)


def floor_variance(var, prior_var):
    """Negative variances set to 0; a warning when one is below rounding."""
    neg = var < 0
    if np.any(var < -1e-10 * np.max(np.abs(prior_var), initial=0.0)):
        warn("Predicted variances smaller than 0 (rounding); setting them to 0.",
             UserWarning)
    var[neg] = 0.0
    return var
