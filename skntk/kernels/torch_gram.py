"""The ReLU NNGP/NTK Gram matrix in torch, on any device.

Used by the kernel ridge estimators' ``device`` option (a GPU, typically).
Everything that is not elementwise work on a block comes from
:mod:`skntk.kernels._relu`: hyperparameter checks, the per-row quantities (:class:`skntk.kernels._relu._Rows`:
exact power-of-two rescaling, norms, unit 2-vectors, the closed-form diagonal),
the tolerance for nearly parallel pairs and the rule for when float32 output
may run the recursion in float32. The recursion below is
:func:`skntk.kernels._engine._step` written with tensor operations (same formulas:
``om = 1 - cos`` and ``op = 1 + cos`` carried to full relative precision, the
angle from an arctangent, ``1 - cos`` propagated as a sum of non-negative
terms); ``tests/kernels/test_torch_kernel.py`` holds it to the numba engine.

This module imports torch; only the estimators import it, and only when
``device`` is set.
"""

import math

import numpy as np
import torch

from ..utils.chunks import chunk_rows
from ..utils.devices import torch_dtype
from ._relu import _TAU, _check_hyper, _recursion_dtype, _Rows

__all__ = ["gram_lower"]

_PI = math.pi
_INV2PI = 1.0 / (2.0 * math.pi)


def _step(om, op, T, ri, rj, vi, vj, ui, uj, w2, b2):
    """:func:`skntk.kernels._engine._step` on tensors: ``ri``, ``vi``, ``ui`` are
    columns (rows of the block), ``rj``, ``vj``, ``uj`` rows (its columns)."""
    s = torch.sqrt(om * op)
    neg = om > 1.0
    t = 2.0 * torch.atan2(s, torch.where(neg, om, op))
    theta = torch.where(neg, _PI - t, t)
    pt = torch.where(neg, t, _PI - t)
    c = torch.where(neg, op - 1.0, 1.0 - om)
    P = ri * rj
    S = w2 * P * (s + pt * c) * _INV2PI + b2
    T = S + w2 * T * pt * _INV2PI
    g = _PI * om - (s - theta * c)
    om = torch.clamp(0.5 * ((vi - vj) ** 2 + (ui - uj) ** 2) + vi * vj * g * (1.0 / _PI),
                     0.0, 1.0)
    return S, T, om, 2.0 - om


class _DeviceRows:
    """The per-row arrays of :class:`skntk.kernels._relu._Rows` as tensors on a device."""

    def __init__(self, rows, gemm_dtype, work_dtype, device):
        def put(a, dtype):  # a copy: rows.Xs may be the caller's (read-only) array
            return torch.tensor(np.ascontiguousarray(a), device=device).to(dtype)

        self.Xs = put(rows.Xs, gemm_dtype)
        self.X64 = None  # float64 copy for explicit differences, made on demand
        self._host = rows.Xs
        self._device = device
        self.alpha, self.beta = (put(a, work_dtype) for a in (rows.alpha, rows.beta))
        self.rho, self.v, self.u = (put(a, work_dtype) for a in (rows.rho, rows.v, rows.u))

    def x64(self):
        if self.X64 is None:
            self.X64 = torch.tensor(np.ascontiguousarray(self._host, np.float64),
                                    device=self._device)
        return self.X64


def _block(rx, ry, r0, r1, c1, depth, w2, b2, tau, kind):
    """Kernel values of rows r0:r1 of X against rows 0:c1 of Y (work dtype)."""
    G = (rx.Xs[r0:r1] @ ry.Xs[:c1].T).to(rx.rho.dtype)
    ax, bx = rx.alpha[r0:r1, None], rx.beta[r0:r1, None]
    ay, by = ry.alpha[None, :c1], ry.beta[None, :c1]
    c = torch.clamp(ax * ay * G + bx * by, -1.0, 1.0)
    om, op = 1.0 - c, 1.0 + c
    # within tau of parallel or antiparallel: 1 -+ cos from explicit differences
    # of the augmented unit rows, in float64
    near = (c.abs() > 1.0 - tau).nonzero()
    if len(near):
        i, j = near[:, 0], near[:, 1]
        X64, Y64 = rx.x64(), ry.x64()
        for k0 in range(0, len(i), 4096):
            ii, jj = i[k0:k0 + 4096], j[k0:k0 + 4096]
            u = rx.alpha[r0 + ii, None].double() * X64[r0 + ii]
            v = ry.alpha[jj, None].double() * Y64[jj]
            bu, bv = rx.beta[r0 + ii].double(), ry.beta[jj].double()
            om[ii, jj] = (0.5 * (((u - v) ** 2).sum(1) + (bu - bv) ** 2)).to(om.dtype)
            op[ii, jj] = (0.5 * (((u + v) ** 2).sum(1) + (bu + bv) ** 2)).to(op.dtype)
    # the first Dense layer: T_1 = S_1 = rho_i rho_j cos
    cos = torch.where(om > 1.0, op - 1.0, 1.0 - om)
    T = rx.rho[0, r0:r1, None] * ry.rho[0, None, :c1] * cos
    S = T
    for layer in range(depth):
        S, T, om, op = _step(om, op, T, rx.rho[layer, r0:r1, None], ry.rho[layer, None, :c1],
                             rx.v[layer + 1, r0:r1, None], ry.v[layer + 1, None, :c1],
                             rx.u[layer + 1, r0:r1, None], ry.u[layer + 1, None, :c1],
                             w2, b2)
    return T if kind == "ntk" else S


def gram_lower(X, Y=None, *, kernel="ntk", depth=1, w_std=1.0, b_std=0.0, dtype,
               device, block_rows=None, progress=None):
    """Kernel matrix as a tensor on ``device``, computed in row blocks.

    ``X`` (and ``Y``) are validated finite float arrays on the host. With
    ``Y=None`` only the lower triangle and the (closed-form) diagonal are
    filled, which is all the estimators' device Cholesky reads. ``progress(done,
    total)`` is called after each block.
    """
    _check_hyper(depth, w_std, b_std, kernel)
    if kernel not in ("ntk", "nngp"):
        raise ValueError(f"kernel must be 'ntk' or 'nngp', got {kernel!r}.")
    dtype = np.dtype(dtype)
    sym = Y is None
    rows_x = _Rows(X, dtype, depth, w_std, b_std)
    rows_y = rows_x if sym else _Rows(Y, dtype, depth, w_std, b_std, "Y")
    w2, b2 = float(w_std) ** 2, float(b_std) ** 2
    work = _recursion_dtype(dtype, w2, b2, rows_x, rows_y)
    tdtype = torch_dtype(dtype)
    rx = _DeviceRows(rows_x, tdtype, torch_dtype(work), device)
    ry = rx if sym else _DeviceRows(rows_y, tdtype, torch_dtype(work), device)
    n, m = len(X), len(rows_y.Xs)
    # zeros, not empty: the factorisation reads only the lower triangle, but
    # an uninitialised upper one could hold NaN for any code that looks at it
    out = (torch.zeros if sym else torch.empty)((n, m), dtype=tdtype, device=device)
    if block_rows is None:  # about 16 work-dtype temporaries of the block
        block_rows = chunk_rows(n, 16 * max(1, m) * work.itemsize,
                                working_memory=256 if device.type == "cuda" else 64)
    total = n * (n + 1) // 2 if sym else n * m
    for r0 in range(0, n, block_rows):
        r1 = min(n, r0 + block_rows)
        c1 = r1 if sym else m
        out[r0:r1, :c1] = _block(rx, ry, r0, r1, c1, depth, w2, b2, _TAU[dtype], kernel)
        if progress is not None:
            progress(r1 * (r1 + 1) // 2 if sym else r1 * m, total)
    if sym:
        out.diagonal().copy_(torch.tensor(rows_x.diag[kernel == "ntk"], device=device))
    return out
