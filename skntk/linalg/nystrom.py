"""Nyström kernel ridge solved by preconditioned conjugate gradients (FALKON).

Rudi, Carratino and Rosasco (2017), "FALKON: An Optimal Large Scale Kernel
Method", Algorithm 1. With m centres C and K_nm = k(X, C), the Nyström kernel
ridge weights solve

    (K_nm' K_nm + alpha K_mm) beta = K_nm' y,

which for C = X is exactly kernel ridge, (K + alpha I)^-1 y. The system is
preconditioned with B = T^-1 A^-1 / sqrt(n), T'T = K_mm, A'A = T T' / m + lambda
I, lambda = alpha / n, so conjugate gradients converge in a few tens of
iterations. Memory is O(n m) (K_nm is kept) plus O(m^2).
"""

import numpy as np
from scipy import linalg

__all__ = ["falkon", "falkon_pcg"]


def _solve_upper(T, B, trans=False):
    return linalg.solve_triangular(T, B, lower=False, trans="T" if trans else "N",
                                   check_finite=False)


def falkon(K_nm, K_mm, Y, alpha, *, max_iter, tol):
    """beta (m, k) for Nyström kernel ridge, and the CG iterations used.

    Parameters
    ----------
    K_nm : ndarray (n, m)
    K_mm : ndarray (m, m), overwritten
    Y : ndarray (n, k)
    alpha : float >= 0
        Ridge in kernel ridge units; lambda = alpha / n.
    max_iter : int
    tol : float
        Stop when every column's preconditioned residual norm fell below
        ``tol`` times its initial value.
    """
    n, m = K_nm.shape

    def normal(u):  # K_nm' K_nm u
        return K_nm.T @ (K_nm @ u)

    return falkon_pcg(normal, K_nm.T @ (Y / n), K_mm, n, alpha,
                      max_iter=max_iter, tol=tol)


def falkon_pcg(normal, rhs, K_mm, n, alpha, *, max_iter, tol):
    """FALKON's preconditioned conjugate gradients on any K_nm operator.

    The solver of :func:`falkon` with the n x m kernel block kept out of
    sight: ``normal(u)`` returns K_nm' K_nm u for u (m, k), and ``rhs`` is
    K_nm' Y / n, both in K_mm's dtype. Everything else here is O(m^2): the
    two Cholesky factors of the preconditioner and the iteration itself, so
    the kernel block may live anywhere (in memory for :func:`falkon`, in
    row blocks on a Dask cluster for :func:`skntk.linalg.falkon_dask`).

    Parameters
    ----------
    normal : callable (m, k) -> (m, k)
    rhs : ndarray (m, k)
    K_mm : ndarray (m, m), overwritten
    n : int
        Number of rows of K_nm.
    alpha, max_iter, tol
        As in :func:`falkon`.

    Returns
    -------
    beta : ndarray (m, k)
    n_iter : int
    """
    m = K_mm.shape[0]
    dtype = K_mm.dtype
    lam = alpha / n
    eps = np.finfo(dtype).eps
    # T'T = K_mm + eps m I (the jitter of the paper keeps T invertible)
    K_mm.flat[:: m + 1] += eps * m * max(1.0, float(np.mean(np.diag(K_mm))))
    T = linalg.cholesky(K_mm, lower=False, overwrite_a=True, check_finite=False)
    TTt = T @ T.T / m
    TTt.flat[:: m + 1] += lam
    A = linalg.cholesky(TTt, lower=False, overwrite_a=True, check_finite=False)

    def precond(u):  # T^-1 A^-1 u
        return _solve_upper(T, _solve_upper(A, u))

    def precond_t(u):  # A^-T T^-T u
        return _solve_upper(A, _solve_upper(T, u, trans=True), trans=True)

    def bhb(u):
        Au = _solve_upper(A, u)
        w = normal(_solve_upper(T, Au)) / n
        return _solve_upper(A, _solve_upper(T, w, trans=True) + lam * Au, trans=True)

    r = precond_t(rhs)
    # conjugate gradients on all columns at once (one step length per column)
    x = np.zeros_like(r)
    p = r.copy()
    rs = np.einsum("ij,ij->j", r, r)
    stop = tol**2 * np.maximum(rs, np.finfo(dtype).tiny)
    it = 0
    for it in range(1, max_iter + 1):
        Ap = bhb(p)
        pAp = np.einsum("ij,ij->j", p, Ap)
        step = np.divide(rs, pAp, out=np.zeros_like(rs), where=pAp > 0)
        x += step * p
        r -= step * Ap
        rs_new = np.einsum("ij,ij->j", r, r)
        if np.all(rs_new <= stop):
            break
        p = r + np.divide(rs_new, rs, out=np.zeros_like(rs), where=rs > 0) * p
        rs = rs_new
    return precond(x), it
