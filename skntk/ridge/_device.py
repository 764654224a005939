"""The estimators' ``device=`` fit: Gram matrix and Cholesky factor in torch.

The Gram comes from the kernels' torch twin
(:func:`skntk.kernels.torch_gram.gram_lower`), the factorisation from
``torch.linalg.cholesky_ex`` under the jitter schedule the host uses
(:func:`skntk.linalg.factor_with_jitter`); the factor and the dual weights
come back to the host, where predictions run. This is the only module of the
estimators that imports torch, and it is imported only when ``device`` is set.
"""

import time

import numpy as np
import torch

from ..kernels.torch_gram import gram_lower
from ..linalg import (
    JITTER,
    check_device_memory,
    check_memory,
    factor_with_jitter,
    warn_if_ill_conditioned,
)
from ..utils.devices import resolve_device
from ..utils.warn import warn

__all__ = ["cholesky_lower", "cuda_free_bytes", "fit_on_device", "sym_norm1_lower"]


def cuda_free_bytes(device):
    """Free memory in bytes on a CUDA device."""
    return torch.cuda.mem_get_info(device)[0]


def cholesky_lower(K, alpha, scale):
    """Lower Cholesky factor of K + (alpha + jitter) I with the smallest jitter
    of :func:`skntk.linalg.factor_with_jitter`'s schedule that works, and that
    jitter (``None, None`` if none does).

    Reads K's lower triangle; K is left as it was.
    """
    diag = K.diagonal().clone()

    def try_factor(jitter):
        K.diagonal().copy_(diag + (alpha + jitter))
        L, info = torch.linalg.cholesky_ex(K)
        return L if int(info) == 0 else None

    try:
        return factor_with_jitter(try_factor, alpha, scale)
    finally:
        K.diagonal().copy_(diag)


def sym_norm1_lower(K, alpha, block_rows=4096):
    """1-norm of the symmetric matrix K + alpha I whose lower triangle K holds
    (for LAPACK's condition estimate), in row blocks: column j sums the lower
    triangle's column j and the strict lower triangle's row j."""
    n = K.shape[0]
    total = torch.zeros(n, dtype=torch.float64, device=K.device)
    for r0 in range(0, n, block_rows):
        r1 = min(n, r0 + block_rows)
        blk = K[r0:r1, :r1].abs().tril(diagonal=r0).double()
        total[:r1] += blk.sum(0)
        total[r0:r1] += blk.sum(1) - blk.diagonal(offset=r0)
    diag = K.diagonal().double()
    total += (diag + alpha).abs() - diag.abs()
    return float(total.max()) if n else 0.0


def fit_on_device(est, X, y, sw, alpha):
    """The Gram matrix of X and its Cholesky factor with torch on
    ``est.device``; returns ``(L_, jitter, dual weights of y)``, or None when
    K + alpha I is not positive definite even with jitter: the caller then
    solves on the host."""
    est._check_square(X)
    dev = resolve_device(est.device, cpu_hint="device=None (skntk's CPU engine)")
    dtype = est._work_dtype()
    n = X.shape[0]
    check_memory(n * n * dtype.itemsize, f"The {n} x {n} {dtype.name} Cholesky "
                 "factor (copied back from the device)",
                 "Options: dtype='float32', solver='nystrom', fewer training "
                 "samples, or SKNTK_MAX_MEMORY if the estimate is wrong.")
    if dev.type == "cuda":
        check_device_memory(
            2 * n * n * dtype.itemsize, cuda_free_bytes(dev),
            f"The {n} x {n} {dtype.name} Gram matrix and its Cholesky factor", dev,
            "Options: dtype='float32', solver='nystrom', fewer training samples.")
    t0 = time.perf_counter()
    if est.kernel == "precomputed":
        K = torch.tensor(np.ascontiguousarray(X, dtype=dtype), device=dev)
    else:
        with est._gram_progress(n) as progress:
            kw = est._kernel_kwargs()  # ReLU only (checked by the caller)
            kw.pop("activation", None)
            kw.pop("negative_slope", None)
            K = gram_lower(X, **kw, dtype=dtype, device=dev,
                           progress=progress)
    if sw is not None:
        w = torch.tensor(sw, dtype=K.dtype, device=dev)
        K *= w[:, None]
        K *= w[None, :]
    est._log(f"Gram matrix {n} x {n} ({dtype.name}) on {dev} in "
             f"{time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    scale = float(K.diagonal().abs().mean()) or 1.0
    anorm = sym_norm1_lower(K, alpha)
    L, jitter = cholesky_lower(K, alpha, scale)
    del K
    if L is None:
        warn(
            f"The Gram matrix plus alpha * I (alpha={alpha!r}) is not positive "
            f"definite, even with jitter {JITTER[-1] * scale:.3g}: solving on the "
            "host instead, whose solver falls back to an exact "
            "eigendecomposition for indefinite matrices.", UserWarning)
        return None
    Y = torch.tensor(y, device=dev)
    coef = torch.cholesky_solve(Y, L).cpu().numpy()
    # C-ordered lower (torch factors are column-major): L_.T is the Fortran
    # upper factor that the host solves read without a copy
    L_host = L.contiguous().cpu().numpy()
    del L
    est._log(f"Cholesky factorisation and solve on {dev} in "
             f"{time.perf_counter() - t0:.1f} s")
    if not jitter:  # as on the host: LAPACK's estimate from the factor
        warn_if_ill_conditioned(L_host.T, anorm, alpha)
    return L_host, jitter, coef
