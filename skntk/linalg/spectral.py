"""The eigendecomposition of a Gram matrix and the spectral filters on it.

Dual coefficients are Q diag(g(lambda)) Q' y, with g the ridge or the
gradient-flow filter (:func:`spectral_filter`). Also here: the size guard of
LAPACK's 32-bit eigh workspace (:data:`EIGH_MAX_N`), the warning of a
singular K + alpha I, and the smallest eigenvalue of K from a Cholesky factor
of K + alpha I by Lanczos (:func:`min_eigenvalue_from_cholesky`).
"""

import math

import numpy as np
from scipy import linalg

from ..utils.warn import warn
from .cholesky import cho_solve_upper

__all__ = ["EIGH_MAX_N", "check_eigh_size", "eigh_lower", "min_eigenvalue_from_cholesky",
           "spectral_coef", "spectral_filter", "warn_if_singular"]

# LAPACK's 32-bit (LP64) workspace size of eigh (driver "evd", 1 + 6n + 2n^2
# elements) overflows from n = 32767 on.
EIGH_MAX_N = 32766


def spectral_filter(lam, alpha, t, n_outputs_total, clamp=True):
    """g(lambda) for ridge (t=None) or gradient flow up to time t.

    Gradient flow on the loss 0.5 * sum((f - y)^2) / N with N = y.size
    (neural-tangents' ``predict.gradient_descent_mse``) from f = 0 gives, on
    the training inputs, f_t = K g_t(K) y with
    g_t(lambda) = (1 - exp(-t (lambda + alpha) / N)) / (lambda + alpha).
    As t -> inf this is the ridge filter 1 / (lambda + alpha).

    Eigenvalues are floored at 0 (a kernel's Gram is positive semi-definite;
    below 0 is rounding), except with ``clamp=False``: the exact pseudo-inverse
    of an indefinite matrix, for a precomputed kernel that is not PSD.
    """
    if not clamp:
        lam = lam + alpha
        tiny = np.finfo(np.float64).eps * len(lam) * np.max(np.abs(lam))
        out = np.zeros_like(lam)
        ok = np.abs(lam) > tiny
        out[ok] = 1.0 / lam[ok]
        return out
    lam = np.maximum(lam, 0.0) + alpha
    if t is None or math.isinf(t):
        # the pseudo-inverse: directions with (numerically) zero eigenvalue
        # (duplicated rows, alpha = 0) get weight 0, not infinity
        tiny = np.finfo(lam.dtype).eps * len(lam) * max(float(lam.max()), 0.0)
        out = np.zeros_like(lam)
        ok = lam > tiny
        out[ok] = 1.0 / lam[ok]
        return out
    s = t / n_outputs_total
    out = np.empty_like(lam)
    pos = lam > 0
    out[pos] = -np.expm1(-s * lam[pos]) / lam[pos]
    out[~pos] = s  # the limit lambda -> 0
    return out


def check_eigh_size(n):
    """Refuse an eigendecomposition past LAPACK's 32-bit workspace."""
    if n > EIGH_MAX_N:
        raise ValueError(
            f"The eigendecomposition (solver='eigh', training_time, the CV "
            f"estimators) supports at most {EIGH_MAX_N} training samples here "
            f"(LAPACK's 32-bit workspace size overflows), got {n}. Use "
            "solver='cholesky' or solver='nystrom', or fewer samples.")


def eigh_lower(K):
    """Eigenvalues (ascending) and eigenvectors of the symmetric matrix whose
    lower triangle the C-ordered K holds; K is overwritten."""
    # K.T: a Fortran-ordered view of K, decomposed without a copy; its upper
    # triangle is K's lower one, the part the Gram routine fills
    check_eigh_size(K.shape[0])
    return linalg.eigh(K.T, lower=False, overwrite_a=True, check_finite=False,
                       driver="evd")


def warn_if_singular(lam, alpha):
    """Warn when K + alpha I, of eigenvalues lam + alpha, is singular."""
    tiny = np.finfo(lam.dtype).eps * max(abs(lam[-1]), 1e-300) * len(lam)
    if lam[0] + alpha <= tiny:
        warn(
            f"The Gram matrix plus alpha * I is singular (smallest eigenvalue "
            f"{lam[0] + alpha:.3g} with alpha={alpha!r}); eigenvalues below "
            f"{tiny:.3g} were floored at 0, so the solution is "
            "ill-determined. Increase alpha.", UserWarning)


def min_eigenvalue_from_cholesky(U, alpha, jitter=0.0):
    """Smallest eigenvalue of K from the upper factor U of K + (alpha + jitter) I
    (U'U, Fortran-ordered): a Lanczos iteration on (K + (alpha + jitter) I)^-1 applied
    through two triangular solves per step."""
    from scipy.sparse.linalg import LinearOperator, eigsh

    n = U.shape[0]

    def solve(v):
        return cho_solve_upper(U, v)

    op = LinearOperator((n, n), matvec=solve, dtype=U.dtype)
    v0 = np.ones(n)
    mu = eigsh(op, k=1, which="LA", v0=v0, return_eigenvectors=False, tol=1e-10)[0]
    return float(1.0 / mu - alpha - jitter)


def spectral_coef(lam, Q, Qty, alpha, t, n_outputs_total, clamp=True):
    """Q diag(g(lambda)) Q' y from the eigenpairs and ``Qty`` = Q' y, with g
    the :func:`spectral_filter` of (alpha, t), in Q's dtype."""
    g = spectral_filter(lam, alpha, t, n_outputs_total, clamp).astype(Q.dtype)
    return Q @ (g[:, None] * Qty)
