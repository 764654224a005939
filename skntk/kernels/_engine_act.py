"""Fused numba engine for the NNGP/NTK recursion of every activation but ReLU.

Imported lazily by :mod:`skntk.kernels._act` on the first non-ReLU kernel call
(ReLU keeps its own engine, :mod:`skntk.kernels._engine`, from which the
angle, the explicit first-layer differences and the lock are shared). One tile
of Gram products becomes kernel values in place, like the ReLU engine.

Each layer maps the pre-activation covariance ``(q_x, q_y, c)`` of a pair to
``E = E[phi(u) phi(v)]`` and ``Ed = E[phi'(u) phi'(v)]``; then
``S' = w^2 E + b^2`` and ``T' = S' + w^2 Ed T``. The pair carries
``om = 1 - cos`` and ``op = 1 + cos`` (cos = c / sqrt(q_x q_y)), exact at
duplicated and (anti)parallel rows from the first layer on (explicit row
differences near +-1, as in the ReLU engine).

Kinds (``kind``):

0. the ReLU family ``phi(x) = p max(x, 0) + n min(x, 0)`` (leaky ReLU: ``n``
   = slope; abs: ``n = -1``; identity: ``n = 1``), arc-cosine formulas of
   Cho & Saul with slopes (neural-tangents' ``ABRelu``). ``1 - cos`` of the
   next layer is carried in closed form to full relative precision, as sums
   of non-negative terms (see :func:`_abrelu`), because the kernel has a
   square-root singularity in the angle at 0.
1. erf: Williams' (1997) arcsine formula.
2. gelu ``x Phi(x)``: the closed form of neural-tangents' ``Gelu``, written
   with ``atan2`` of non-negative quantities.
3. series: ``E = sum_k a_k(x) a_k(y) cos^k`` with per-row normalised Hermite
   coefficients ``a_k`` of ``phi(sqrt(q) z)`` (and ``b_k`` of ``phi'``), the
   dual-activation (Mehler) expansion, used for tanh, logistic and callables.

Kinds 1-3 are smooth in ``cos``; their next-layer ``1 - cos`` comes from the
kernel values (absolute precision), exactly 0 for duplicated rows.
"""

import math

import numpy as np
from numba import njit, prange

from ._engine import C64, _angle, _atan_frac, _explicit_om_op

_JIT = dict(cache=True, error_model="numpy", nogil=True, fastmath={"contract"})

ABRELU, ERF, GELU, SERIES = 0, 1, 2, 3
PI = math.pi
INV2PI = 1.0 / (2.0 * math.pi)
_S3, _S5, _S7, _S9, _S11, _S13, _S15 = (1 / 3, -1 / 30, 1 / 840, -1 / 45360,
                                        1 / 3991680, -1 / 518918400, 1 / 93405312000)


@njit(inline="always", **_JIT)
def _sigma(theta, s, c):
    """sin(theta) - theta cos(theta) to full relative precision (~theta^3 / 3)."""
    t2 = theta * theta
    series = theta * t2 * (_S3 + t2 * (_S5 + t2 * (_S7 + t2 * (
        _S9 + t2 * (_S11 + t2 * (_S13 + t2 * _S15))))))
    return series if theta < 0.5 else s - theta * c  # a select: vectorises


@njit(inline="always", **_JIT)
def _abrelu(om, op, ri, rj, p2n2, pmn2, ppn2, pn):
    """E, Ed and D = 1 - E / sqrt(E(x, x) E(y, y)) (to relative precision) of
    ``p max(x, 0) + n min(x, 0)``; ``p2n2 = p^2 + n^2``, ``pmn2 = (p - n)^2``,
    ``ppn2 = (p + n)^2``, ``pn = p n``.

    E / (ri rj) = F(theta) = Ed cos + (p - n)^2 sin / (2 pi),
    Ed = ((p^2 + n^2)(pi - theta) + 2 p n theta) / (2 pi), and
    F(0) - F(theta) = (p^2 + n^2) om / 2 - (p - n)^2 sigma(theta) / (2 pi)
    = (p + n)^2 / 2 - p n op - (p - n)^2 sigma(pi - theta) / (2 pi).
    """
    theta, pt, s, c = _angle(om, op, C64)
    ed = (p2n2 * pt + 2.0 * pn * theta) * INV2PI
    e = ri * rj * (ed * c + pmn2 * s * INV2PI)
    small = om <= 1.0
    # sigma of theta below pi / 2, of pi - theta above (selects, no branch)
    sg = _sigma(theta if small else pt, s, c if small else -c)
    g = (0.5 * p2n2 * om if small else 0.5 * ppn2 - pn * op) - pmn2 * INV2PI * sg
    return e, ed, min(max(g / (0.5 * p2n2), 0.0), 2.0)


@njit(inline="always", **_JIT)
def _atan2(y, x):
    """atan2(y, x) with selects only (vectorises, unlike libm's atan2), from
    the ReLU engine's Cephes arctangent of a ratio in [0, 1]."""
    ay = abs(y)
    ax = abs(x)
    swap = ay > ax
    big = ay if swap else ax
    t = _atan_frac(ax if swap else ay, big if big > 0.0 else 1.0, C64)
    t = 0.5 * PI - t if swap else t
    t = PI - t if x < 0.0 else t
    return -t if y < 0.0 else t


@njit(inline="always", **_JIT)
def _cos(om, op):
    return op - 1.0 if om > 1.0 else 1.0 - om


@njit(inline="always", **_JIT)
def _erf(om, op, ri, rj):
    qi = ri * ri
    qj = rj * rj
    cs = ri * rj * _cos(om, op)
    # (1 + 2 qi)(1 + 2 qj) - 4 c^2 as a sum of non-negative terms
    sd = math.sqrt(1.0 + 2.0 * qi + 2.0 * qj + 4.0 * qi * qj * om * op)
    return (2.0 / PI) * _atan2(2.0 * cs, sd), (4.0 / PI) / sd


@njit(inline="always", **_JIT)
def _gelu(om, op, ri, rj):
    qi = ri * ri
    qj = rj * rj
    cs = ri * rj * _cos(om, op)
    p = qi * qj
    q = (1.0 + qi) * (1.0 + qj)
    d2 = 1.0 + qi + qj + p * om * op  # (1 + qi)(1 + qj) - c^2
    d = math.sqrt(d2)
    a = _atan2(d, -cs)  # pi / 2 + arcsin(c / sqrt(q)), in [0, pi]
    e = (cs * a + (cs * cs + p * d2) / (q * d)) * INV2PI
    # (1 - p) / q + 1 = (2 + qi + qj) / q, without the cancellation
    ed = a * INV2PI + cs / d * INV2PI * (1.0 / d2 + (2.0 + qi + qj) / q)
    return e, ed


@njit(parallel=True, **_JIT)
def tile(G, i0, sym, Xs, ax, bx, rx, vx, ux, hx, gx, Ys, ay, by, ry, vy, uy, hy, gy,
         kind, slopes, nterms, w2, b2, tau, out_ntk, out_nngp, want_ntk, want_nngp):
    """Turn a tile of Gram products into kernel values, in place in the outputs.

    ``G[r, j] = <Xs[i0 + r], Ys[j]>``; the first layer's unit rows are
    ``(ax Xs, bx)``; ``rx[l, i] = sqrt(S_{l+1}(x_i, x_i))``; ``(vx, ux)[l, i]``
    the unit 2-vectors ``(w sqrt(F(0)) r_{l-1}, b) / r_l`` of the ReLU family
    (row 0 unused); ``hx[l, k, i]``, ``gx[l, k, i]`` the series coefficients
    of phi and phi' at layer l (``nterms[l]`` of them). ``slopes`` holds
    ``(p^2 + n^2, (p - n)^2, (p + n)^2, p n)``. With ``sym`` only the strict
    lower triangle is written.
    """
    nrows, ncols = G.shape
    if not sym:
        for r in prange(nrows):
            work = np.empty((7, ncols))
            _row(r, G, i0, sym, Xs, ax, bx, rx, vx, ux, hx, gx, Ys, ay, by, ry, vy,
                 uy, hy, gy, kind, slopes, nterms, w2, b2, tau, out_ntk, out_nngp,
                 want_ntk, want_nngp, work)
        return
    for k in prange((nrows + 1) // 2):
        work = np.empty((7, ncols))
        _row(k, G, i0, sym, Xs, ax, bx, rx, vx, ux, hx, gx, Ys, ay, by, ry, vy, uy,
             hy, gy, kind, slopes, nterms, w2, b2, tau, out_ntk, out_nngp, want_ntk,
             want_nngp, work)
        if nrows - 1 - k != k:
            _row(nrows - 1 - k, G, i0, sym, Xs, ax, bx, rx, vx, ux, hx, gx, Ys, ay, by,
                 ry, vy, uy, hy, gy, kind, slopes, nterms, w2, b2, tau, out_ntk,
                 out_nngp, want_ntk, want_nngp, work)


# Serial twin (numba compiles a function with or without its thread pool);
# the body is the shared _row.
@njit(**_JIT)
def tile_serial(G, i0, sym, Xs, ax, bx, rx, vx, ux, hx, gx, Ys, ay, by, ry, vy, uy, hy,
                gy, kind, slopes, nterms, w2, b2, tau, out_ntk, out_nngp, want_ntk,
                want_nngp):
    """:func:`tile` on the calling thread, for small tiles."""
    work = np.empty((7, G.shape[1]))
    for r in range(G.shape[0]):
        _row(r, G, i0, sym, Xs, ax, bx, rx, vx, ux, hx, gx, Ys, ay, by, ry, vy, uy, hy,
             gy, kind, slopes, nterms, w2, b2, tau, out_ntk, out_nngp, want_ntk,
             want_nngp, work)


@njit(**_JIT)
def _row(r, G, i0, sym, Xs, ax, bx, rx, vx, ux, hx, gx, Ys, ay, by, ry, vy, uy, hy, gy,
         kind, slopes, nterms, w2, b2, tau, out_ntk, out_nngp, want_ntk, want_nngp,
         work):
    depth = rx.shape[0] - 1
    i = i0 + r
    m = i if sym else G.shape[1]
    om = work[0, :m]
    op = work[1, :m]
    T = work[2, :m]
    S = work[3, :m]
    ea = work[4, :m]
    eb = work[5, :m]
    r0 = rx[0, i]
    axi = ax[i]
    bxi = bx[i]
    lim = 1.0 - tau
    near = 0
    for j in range(m):  # vectorised; the rare nearly (anti)parallel pairs below
        raw = axi * ay[j] * G[r, j] + bxi * by[j]
        near += abs(raw) > lim
        c = min(max(raw, -1.0), 1.0)
        om[j] = 1.0 - c
        op[j] = 1.0 + c
    for j in range(m if near else 0):
        if abs(axi * ay[j] * G[r, j] + bxi * by[j]) > lim:
            om[j], op[j] = _explicit_om_op(Xs, i, axi, bxi, Ys, j, ay[j], by[j])
    for j in range(m):
        T[j] = r0 * ry[0, j] * _cos(om[j], op[j])
    p2n2, pmn2, ppn2, pn = slopes[0], slopes[1], slopes[2], slopes[3]
    for layer in range(depth):
        ri = rx[layer, i]
        last = layer == depth - 1
        if kind == ABRELU:
            vi = vx[layer + 1, i]
            ui = ux[layer + 1, i]
            for j in range(m):
                e, ed, d = _abrelu(om[j], op[j], ri, ry[layer, j], p2n2, pmn2, ppn2, pn)
                S[j] = w2 * e + b2
                T[j] = S[j] + w2 * ed * T[j]
                vj = vy[layer + 1, j]
                dv = vi - vj
                du = ui - uy[layer + 1, j]
                o = min(max(0.5 * (dv * dv + du * du) + vi * vj * d, 0.0), 2.0)
                om[j] = o
                op[j] = 2.0 - o
            continue
        if kind == ERF:
            for j in range(m):
                ea[j], eb[j] = _erf(om[j], op[j], ri, ry[layer, j])
        elif kind == GELU:
            for j in range(m):
                ea[j], eb[j] = _gelu(om[j], op[j], ri, ry[layer, j])
        else:
            cs = work[6, :m]
            for j in range(m):
                ea[j] = 0.0
                eb[j] = 0.0
                S[j] = 1.0  # cos^k
                cs[j] = _cos(om[j], op[j])
            for k in range(nterms[layer]):
                # coefficients that vanish (parity: odd tanh, even tanh')
                # are exact zeros, so their pass is skipped
                hi = hx[layer, k, i]
                gi = gx[layer, k, i]
                if hi != 0.0:
                    for j in range(m):
                        ea[j] += hi * hy[layer, k, j] * S[j]
                if gi != 0.0:
                    for j in range(m):
                        eb[j] += gi * gy[layer, k, j] * S[j]
                for j in range(m):
                    S[j] *= cs[j]
        rni = rx[layer + 1, i]
        for j in range(m):
            S[j] = w2 * ea[j] + b2
            T[j] = S[j] + w2 * eb[j] * T[j]
            if last:
                continue
            if om[j] == 0.0 and ri == ry[layer, j]:
                continue  # duplicated rows stay exactly parallel
            den = rni * ry[layer + 1, j]
            c = min(max(S[j] / den, -1.0), 1.0) if den > 0.0 else 0.0
            om[j] = 1.0 - c
            op[j] = 1.0 + c
    if want_ntk:
        for j in range(m):
            out_ntk[i, j] = T[j]
    if want_nngp:
        for j in range(m):
            out_nngp[i, j] = S[j]
