"""Cholesky factorisation of K + alpha I and the solves with its factor.

- the factorisation and triangular solves, through LAPACK below 2**31 elements
  and in column blocks above (:func:`cholesky_upper_inplace`,
  :func:`solve_triangular_lower`, :func:`cho_solve_upper`);
- the one jitter schedule of a matrix that is not numerically positive
  definite (:func:`factor_with_jitter`), shared by the host and the device
  factorisations, and its warning;
- LAPACK's condition estimate of the factor (:func:`warn_if_ill_conditioned`)
  and the 1-norm it needs (:func:`sym_norm1_from_lower`).

Blocked path: LAPACK's 32-bit (LP64) interface, as bundled with scipy's
OpenBLAS, crashes (segmentation fault) in ``potrf`` on n = 60,000 (n^2 > 2**31
elements), and scipy's wrappers have overflowed there before (scipy#17436).
There every LAPACK call gets a block of at most ``block`` columns, and the big
products go through numpy's matmul on strided views of the one n x n array:
the factorisation is in place (no second n x n array) and costs the same
n^3 / 3 flops.
"""

import numpy as np
from scipy import linalg

from ..utils.chunks import chunk_rows
from ..utils.warn import warn

__all__ = ["JITTER", "cho_solve_upper", "cholesky_upper_inplace", "factor_with_jitter",
           "is_large", "solve_triangular_lower", "sym_norm1_from_lower",
           "warn_if_ill_conditioned", "warn_jitter"]

# Relative jitter (times the mean of the Gram's diagonal) tried, in order, when
# K + alpha * I is not numerically positive definite.
JITTER = (1e-12, 1e-10, 1e-8, 1e-6, 1e-4)

# Above this many elements the blocked path is used (LP64 index limit).
LARGE = 2**31 - 1
_BLOCK = 2048
# Updates of a block row go through this many columns at a time, so that the
# temporary products stay at block x _PANEL entries (64 MiB in float32)
# instead of block x n (469 MiB at n = 60,000): the same flops, in GEMMs
# still large enough to run at full speed.
_PANEL = 8192


def is_large(n):
    return n * n > LARGE


def _blocked_cholesky_upper_inplace(A, block=None):
    """Overwrite the upper triangle of the Fortran-ordered A with U, A = U'U.

    Left-looking: for each block row J, A[J, J:] -= U[:J, J]' U[:J, J:], then
    U[J, J] = chol(A[J, J]) and U[J, J+] = U[J, J]^-T A[J, J+]. Only A's upper
    triangle is read. Raises numpy.linalg.LinAlgError when A is not positive
    definite, as scipy's cholesky does.
    """
    n = A.shape[0]
    block = block or _BLOCK
    for j0 in range(0, n, block):
        j1 = min(n, j0 + block)
        if j0:
            top = A[:j0, j0:j1]  # U[:J, J], computed
            for c0, c1 in _panels(j0, n):
                with np.errstate(all="ignore"):  # the unfilled lower part of the block
                    A[j0:j1, c0:c1] -= top.T @ A[:j0, c0:c1]
        try:
            D = linalg.cholesky(np.triu(A[j0:j1, j0:j1]), lower=False,
                                check_finite=False)
        except linalg.LinAlgError as exc:
            raise linalg.LinAlgError(
                f"{exc} (in the diagonal block starting at row {j0})") from None
        A[j0:j1, j0:j1] = D
        for c0, c1 in _panels(j1, n):
            A[j0:j1, c0:c1] = linalg.solve_triangular(D, A[j0:j1, c0:c1], trans="T",
                                                      lower=False, check_finite=False)
    return A


def _panels(start, stop):
    """(c0, c1) column ranges of at most _PANEL columns covering [start, stop)."""
    return [(c0, min(stop, c0 + _PANEL)) for c0 in range(start, stop, _PANEL)]


def _blocked_solve_upper(U, B, trans=False, block=None):
    """U x = B (or U' x = B with ``trans``) for upper-triangular U, by blocks.

    B has shape (n,) or (n, k); a new array is returned.
    """
    n = U.shape[0]
    block = block or _BLOCK
    X = np.array(B, dtype=np.result_type(U, B), copy=True)
    starts = list(range(0, n, block))
    if trans:  # forward substitution: U' is lower triangular
        for j0 in starts:
            j1 = min(n, j0 + block)
            if j0:
                X[j0:j1] -= U[:j0, j0:j1].T @ X[:j0]
            X[j0:j1] = linalg.solve_triangular(U[j0:j1, j0:j1], X[j0:j1], trans="T",
                                               lower=False, check_finite=False)
    else:  # back substitution
        for j0 in reversed(starts):
            j1 = min(n, j0 + block)
            if j1 < n:
                X[j0:j1] -= U[j0:j1, j1:] @ X[j1:]
            X[j0:j1] = linalg.solve_triangular(U[j0:j1, j0:j1], X[j0:j1],
                                               lower=False, check_finite=False)
    return X


# --------------------------------------------------------------------------- #
# LAPACK below 2**31 elements, the blocked path above
# --------------------------------------------------------------------------- #


def solve_triangular_lower(L, B):
    """L^-1 B for the lower factor L (a C-ordered array whose transpose is the
    Fortran-ordered upper factor)."""
    if is_large(L.shape[0]):  # L = U', U = L.T is Fortran-ordered
        return _blocked_solve_upper(L.T, B, trans=True)
    return linalg.solve_triangular(L, B, lower=True, check_finite=False)


def cho_solve_upper(U, Y):
    """(U'U)^-1 Y for the Fortran-ordered upper factor U."""
    if is_large(U.shape[0]):
        return _blocked_solve_upper(U, _blocked_solve_upper(U, Y, trans=True))
    return linalg.cho_solve((U, False), Y, check_finite=False)


def cholesky_upper_inplace(A):
    """U with A = U'U, in the memory of the Fortran-ordered A (upper triangle
    read; the strict lower one is zeroed). Raises
    :class:`scipy.linalg.LinAlgError` when A is not positive definite."""
    n = A.shape[0]
    if not is_large(n):
        return linalg.cholesky(A, lower=False, overwrite_a=True, check_finite=False)
    _blocked_cholesky_upper_inplace(A)
    for j0 in range(0, n, 2048):  # zero below the diagonal, column block by block
        j1 = min(n, j0 + 2048)
        for j in range(j0, j1):
            A[j + 1:, j] = 0
    return A


def sym_norm1_from_lower(K):
    """1-norm of the symmetric matrix whose lower triangle K holds, in row
    blocks of at most 1/16 of K (the upper triangle of K is not read)."""
    n = K.shape[0]
    # float64 rows of n entries; with the default budget at most K.nbytes / 16
    rows = chunk_rows(n, 8 * n, max_fraction=128 // K.itemsize)
    row_sums = np.zeros(n)
    col_sums = np.zeros(n)
    for i0 in range(0, n, rows):
        i1 = min(n, i0 + rows)
        block = np.abs(K[i0:i1, :i1], dtype=np.float64)
        block[:, i0:i1] = np.tril(block[:, i0:i1])
        row_sums[i0:i1] += block.sum(axis=1)
        col_sums[:i1] += block.sum(axis=0)
    return float(np.max(row_sums + col_sums - np.abs(np.diagonal(K))))


# --------------------------------------------------------------------------- #
# Jitter and conditioning: one schedule and one wording for host and device
# --------------------------------------------------------------------------- #


def warn_jitter(alpha, jitter):
    """The warning of a fit that had to add jitter (points at the user's fit)."""
    warn(
        f"The Gram matrix plus alpha * I (alpha={alpha!r}) is not numerically "
        f"positive definite (duplicate or nearly parallel samples?); added "
        f"jitter={jitter:.3g} to its diagonal. Increase alpha to at least "
        "that to silence this warning.", UserWarning)


def factor_with_jitter(try_factor, alpha, scale, jitters=JITTER):
    """Factor K + (alpha + jitter) I with the smallest jitter that works.

    Parameters
    ----------
    try_factor : callable
        ``try_factor(jitter)`` factors K + (alpha + jitter) I (on the host or
        a device) and returns the factor, or None when the matrix is not
        numerically positive definite.
    alpha : float
        The ridge, for the warning.
    scale : float
        Jitters are ``rel * scale`` for ``rel`` in ``jitters`` (the mean of
        the Gram's absolute diagonal), tried after jitter 0.
    jitters : tuple of float, default=JITTER

    Returns
    -------
    factor, jitter
        The first factor obtained and the jitter it needed (warned about
        unless the first attempt, jitter 0, worked), or ``(None, None)`` when
        no jitter works.
    """
    for attempt, jitter in enumerate((0.0, *(rel * scale for rel in jitters))):
        factor = try_factor(jitter)
        if factor is not None:
            if attempt:
                warn_jitter(alpha, jitter)
            return factor, jitter
    return None, None


def warn_if_ill_conditioned(U, anorm, alpha):
    """Warn when K + alpha I is numerically singular (LAPACK's pocon on its
    upper factor U, with ``anorm`` its 1-norm). Skipped above 2**31 elements
    (pocon's LP64 indexing)."""
    if is_large(U.shape[0]):
        return
    pocon = linalg.get_lapack_funcs("pocon", (U,))
    rcond, info = pocon(U, anorm, uplo="U")
    eps = np.finfo(U.dtype).eps
    # the relative error bound of the solve, eps / rcond, exceeds 1%
    if info == 0 and rcond < 100 * eps:
        warn(
            f"The Gram matrix plus alpha * I (alpha={alpha!r}) is nearly singular "
            f"(reciprocal condition number {rcond:.2g}, {U.dtype.name} eps "
            f"{eps:.2g}): the dual weights, and predictions away from the "
            "training points, may carry large rounding errors. Increase alpha.",
            UserWarning)
