"""Cholesky factorisation and solves in column blocks, for matrices whose
element count exceeds 2**31.

LAPACK's 32-bit (LP64) interface, as bundled with scipy's OpenBLAS, crashes
(segmentation fault) in ``potrf`` on n = 60,000 (n^2 > 2**31 elements), and
scipy's wrappers have overflowed there before (scipy#17436). Here every LAPACK
call gets a block of at most ``block`` columns, and the big products go through
numpy's matmul on strided views of the one n x n array: the factorisation is
in place (no second n x n array) and costs the same n^3 / 3 flops.
"""

import numpy as np
from scipy import linalg

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


def cholesky_upper_inplace(A, block=None):
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


def solve_upper(U, B, trans=False, block=None):
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
