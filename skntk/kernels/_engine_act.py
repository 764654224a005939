"""Fused numba engine for the NNGP/NTK recursion of every activation but ReLU.

Imported lazily by :mod:`skntk.kernels._act` on the first non-ReLU kernel call
(ReLU keeps its own engine, :mod:`skntk.kernels._engine`, from which the
angle and the explicit first-layer differences are shared). One tile
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

Precision: kinds 0-2 run in the precision of their constants
(:func:`act_consts`; float32 for float32 output, as the ReLU engine does: twice
the vector lanes), written with selects and the shared branch-free
arctangent (Cephes' atanf polynomial in float32) so that every per-layer loop
vectorises; the float64 recursion computes exactly what it did with float64
literals. The series (kind 3) runs in float64 only.
"""

import math
from collections import namedtuple

import numpy as np
from numba import njit, types
from numba.extending import overload

from ._engine import _HELPER, C64, _angle, _atan_frac, _explicit_om_op, consts
from ._quad_act import expect_pair

# As in the ReLU engine: the entry point without a C-callable wrapper, the
# per-pair helpers compiled once and inlined by LLVM (``_HELPER``), and the
# per-row functions compiled without any wrapper (called from compiled code
# only; LLVM decides whether to inline them).
_JIT = dict(cache=True, error_model="numpy", nogil=True, fastmath={"contract"},
            no_cfunc_wrapper=True)
_INNER = dict(error_model="numpy", fastmath={"contract"}, no_cpython_wrapper=True,
              no_cfunc_wrapper=True)

ABRELU, ERF, GELU, SERIES = 0, 1, 2, 3
PI = math.pi
INV2PI = 1.0 / (2.0 * math.pi)
_S = (1 / 3, -1 / 30, 1 / 840, -1 / 45360, 1 / 3991680, -1 / 518918400,
      1 / 93405312000)

# The constants of the closed forms in the precision of the recursion: the
# ReLU engine's ``Consts`` fields (so that its angle and arctangent take these
# too) and this engine's. Passed as an argument (one flat tuple: numba's
# parallel loops, which this engine once had, take no nested one) so that a
# float32 recursion stays in float32 lanes (a Python float literal is a
# float64 to numba). In float64 the values, and therefore the results, are
# those of the literals they replace.
ActConsts = namedtuple("ActConsts", C64._fields + (
    "four", "two_pi", "four_pi", "s3", "s5", "s7", "s9", "s11", "s13", "s15"))


def act_consts(dtype):
    """The closed forms' constants as scalars of ``dtype``."""
    t = np.dtype(dtype).type
    return ActConsts(*consts(dtype), *(t(v) for v in (4.0, 2.0 / PI, 4.0 / PI) + _S))


A64 = act_consts(np.float64)
A32 = act_consts(np.float32)


@njit(**_HELPER)
def _sigma(theta, s, c, A):
    """sin(theta) - theta cos(theta) to full relative precision (~theta^3 / 3)."""
    t2 = theta * theta
    series = theta * t2 * (A.s3 + t2 * (A.s5 + t2 * (A.s7 + t2 * (
        A.s9 + t2 * (A.s11 + t2 * (A.s13 + t2 * A.s15))))))
    return series if theta < A.half else s - theta * c  # a select: vectorises


@njit(**_HELPER)
def _abrelu(om, op, ri, rj, p2n2, pmn2, ppn2, pn, A):
    """E, Ed and D = 1 - E / sqrt(E(x, x) E(y, y)) (to relative precision) of
    ``p max(x, 0) + n min(x, 0)``; ``p2n2 = p^2 + n^2``, ``pmn2 = (p - n)^2``,
    ``ppn2 = (p + n)^2``, ``pn = p n``.

    E / (ri rj) = F(theta) = Ed cos + (p - n)^2 sin / (2 pi),
    Ed = ((p^2 + n^2)(pi - theta) + 2 p n theta) / (2 pi), and
    F(0) - F(theta) = (p^2 + n^2) om / 2 - (p - n)^2 sigma(theta) / (2 pi)
    = (p + n)^2 / 2 - p n op - (p - n)^2 sigma(pi - theta) / (2 pi).
    """
    C = A
    theta, pt, s, c = _angle(om, op, C)
    ed = (p2n2 * pt + C.two * pn * theta) * C.inv2pi
    e = ri * rj * (ed * c + pmn2 * s * C.inv2pi)
    small = om <= C.one
    # sigma of theta below pi / 2, of pi - theta above (selects, no branch)
    sg = _sigma(theta if small else pt, s, c if small else -c, A)
    g = (C.half * p2n2 * om if small else C.half * ppn2 - pn * op) - pmn2 * C.inv2pi * sg
    return e, ed, min(max(g / (C.half * p2n2), C.zero), C.two)


@njit(**_HELPER)
def _atan2(y, x, C):
    """atan2(y, x) with selects only (vectorises, unlike libm's atan2), from
    the ReLU engine's arctangent of a ratio in [0, 1] (Cephes' in float64,
    atanf's polynomial in float32)."""
    ay = abs(y)
    ax = abs(x)
    swap = ay > ax
    big = ay if swap else ax
    t = _atan_frac(ax if swap else ay, big if big > C.zero else C.one, C)
    t = C.half * C.pi - t if swap else t
    t = C.pi - t if x < C.zero else t
    return -t if y < C.zero else t


@njit(**_HELPER)
def _cos(om, op, C):
    return op - C.one if om > C.one else C.one - om


@njit(**_HELPER)
def _erf(om, op, ri, rj, A):
    C = A
    qi = ri * ri
    qj = rj * rj
    cs = ri * rj * _cos(om, op, C)
    # (1 + 2 qi)(1 + 2 qj) - 4 c^2 as a sum of non-negative terms
    sd = math.sqrt(C.one + C.two * qi + C.two * qj + A.four * qi * qj * om * op)
    return A.two_pi * _atan2(C.two * cs, sd, C), A.four_pi / sd


@njit(**_HELPER)
def _gelu(om, op, ri, rj, A):
    C = A
    qi = ri * ri
    qj = rj * rj
    cs = ri * rj * _cos(om, op, C)
    p = qi * qj
    q = (C.one + qi) * (C.one + qj)
    d2 = C.one + qi + qj + p * om * op  # (1 + qi)(1 + qj) - c^2
    d = math.sqrt(d2)
    a = _atan2(d, -cs, C)  # pi / 2 + arcsin(c / sqrt(q)), in [0, pi]
    e = (cs * a + (cs * cs + p * d2) / (q * d)) * C.inv2pi
    # (1 - p) / q + 1 = (2 + qi + qj) / q, without the cancellation
    ed = a * C.inv2pi + cs / d * C.inv2pi * (C.one / d2 + (C.two + qi + qj) / q)
    return e, ed


def tile_rows(G, i0, sym, r_lo, r_hi, Xs, ax, bx, rx, vx, ux, hx, gx, tx, Ys, ay, by, ry, vy,
              uy, hy, gy, ty, kind, slopes, nterms, tol, quad, w2, b2, tau, out_ntk, out_nngp,
              want_ntk, want_nngp, A, work):
    """Turn rows ``r_lo <= r < r_hi`` of a tile of Gram products into kernel
    values, in place in the outputs.

    ``G[r, j] = <Xs[i0 + r], Ys[j]>``; the first layer's unit rows are
    ``(ax Xs, bx)``; ``rx[l, i] = sqrt(S_{l+1}(x_i, x_i))``; ``(vx, ux)[l, i]``
    the unit 2-vectors ``(w sqrt(F(0)) r_{l-1}, b) / r_l`` of the ReLU family
    (row 0 unused); ``hx[l, k, i]``, ``gx[l, k, i]`` the series coefficients
    of phi and phi' at layer l (``nterms[l]`` of them). ``slopes`` holds
    ``(p^2 + n^2, (p - n)^2, (p + n)^2, p n)``. With ``sym`` only the strict
    lower triangle is written. The recursion runs in the precision of the
    constants ``A`` (:func:`act_consts`) and of the per-row arrays, ``slopes``,
    ``w2``, ``b2`` and ``tau``; the series kind runs in float64 only.
    ``work`` is a scratch array of the recursion's dtype, (8 for the series
    kind, else 4, >= the longest row's pairs), one per call: threads may run
    disjoint row ranges of one tile at once.

    Python, choosing one compiled function per kind family: a first call
    compiles only its own kind's layers (the series' machinery, with its
    quadrature fallback, took 6 of the 13 s that a first erf call compiled
    when one function held every kind).
    """
    head = (G, i0, sym, r_lo, r_hi, Xs, ax, bx, rx, Ys, ay, by, ry)
    tail = (w2, b2, tau, out_ntk, out_nngp, want_ntk, want_nngp, A, work)
    if kind == ABRELU:
        _tile_abrelu(*head, vx, ux, vy, uy, slopes, *tail)
    elif kind == SERIES:
        # quad 0 -> None: a specialisation without the quadrature fallback,
        # so a first series call compiles it only when some pair needs it
        _tile_series(*head, hx, gx, tx, hy, gy, ty, nterms, tol, quad or None, *tail)
    else:
        _tile_smooth(*head, kind, *tail)


# The compiled entry points, serial: large tiles run them on ranges of rows in
# parallel (``_threads.parallel_rows``). Each row: the first layer
# (:func:`_first_layer`), its kind's layers, then its outputs (:func:`_write`).
@njit(**_JIT)
def _tile_abrelu(G, i0, sym, r_lo, r_hi, Xs, ax, bx, rx, Ys, ay, by, ry, vx, ux, vy, uy,
                 slopes, w2, b2, tau, out_ntk, out_nngp, want_ntk, want_nngp, A, work):
    for r in range(r_lo, r_hi):
        i, m, om, op, T, S = _first_layer(r, G, i0, sym, Xs, ax, bx, rx, Ys, ay, by, ry,
                                          tau, work, A)
        _abrelu_layers(i, m, om, op, T, S, rx, vx, ux, ry, vy, uy, slopes, w2, b2, A)
        _write(i, m, T, S, out_ntk, out_nngp, want_ntk, want_nngp)


@njit(**_JIT)
def _tile_smooth(G, i0, sym, r_lo, r_hi, Xs, ax, bx, rx, Ys, ay, by, ry, kind,
                 w2, b2, tau, out_ntk, out_nngp, want_ntk, want_nngp, A, work):
    for r in range(r_lo, r_hi):
        i, m, om, op, T, S = _first_layer(r, G, i0, sym, Xs, ax, bx, rx, Ys, ay, by, ry,
                                          tau, work, A)
        _smooth_layers(i, m, om, op, T, S, rx, ry, kind, w2, b2, A)
        _write(i, m, T, S, out_ntk, out_nngp, want_ntk, want_nngp)


@njit(**_JIT)
def _tile_series(G, i0, sym, r_lo, r_hi, Xs, ax, bx, rx, Ys, ay, by, ry, hx, gx, tx, hy,
                 gy, ty, nterms, tol, quad, w2, b2, tau, out_ntk, out_nngp, want_ntk,
                 want_nngp, A, work):
    for r in range(r_lo, r_hi):
        i, m, om, op, T, S = _first_layer(r, G, i0, sym, Xs, ax, bx, rx, Ys, ay, by, ry,
                                          tau, work, A)
        _series_layers(i, m, om, op, T, S, work, rx, ry, hx, gx, hy, gy, tx, ty, nterms,
                       tol, quad, w2, b2)
        _write(i, m, T, S, out_ntk, out_nngp, want_ntk, want_nngp)


@njit(**_HELPER)
def _first_layer(r, G, i0, sym, Xs, ax, bx, rx, Ys, ay, by, ry, tau, work, A):
    """Row ``i0 + r``'s first layer: (i, m, om, op, T, S), the last four views
    of ``work`` over the row's m pairs (the strict lower triangle with
    ``sym``), with om, op and T = S_1 set and S left for the layers."""
    C = A
    i = i0 + r
    m = i if sym else G.shape[1]
    om = work[0, :m]
    op = work[1, :m]
    T = work[2, :m]
    S = work[3, :m]
    r0 = rx[0, i]
    axi = ax[i]
    bxi = bx[i]
    lim = C.one - tau
    near = False  # (a boolean "or", not a count: the loop stays 8 lanes wide)
    for j in range(m):  # vectorised; the rare nearly (anti)parallel pairs below
        raw = axi * ay[j] * G[r, j] + bxi * by[j]
        near |= abs(raw) > lim
        c = min(max(raw, -C.one), C.one)
        o = C.one - c
        p = C.one + c
        om[j] = o
        op[j] = p
        T[j] = r0 * ry[0, j] * _cos(o, p, C)
    for j in range(m if near else 0):
        if abs(axi * ay[j] * G[r, j] + bxi * by[j]) > lim:
            om[j], op[j] = _explicit_om_op(Xs, i, axi, bxi, Ys, j, ay[j], by[j])
            T[j] = r0 * ry[0, j] * _cos(om[j], op[j], C)
    return i, m, om, op, T, S


@njit(**_HELPER)
def _write(i, m, T, S, out_ntk, out_nngp, want_ntk, want_nngp):
    if want_ntk:
        for j in range(m):
            out_ntk[i, j] = T[j]
    if want_nngp:
        for j in range(m):
            out_nngp[i, j] = S[j]


@njit(**_HELPER)
def _smooth_layers(i, m, om, op, T, S, rx, ry, kind, w2, b2, A):
    """The layers of erf and gelu (kinds 1, 2): closed forms, 1 - cos of the
    next layer from the kernel values."""
    C = A
    depth = rx.shape[0] - 1
    for layer in range(depth):
        ri = rx[layer, i]
        rj = ry[layer]
        if kind == ERF:
            for j in range(m):
                e, ed = _erf(om[j], op[j], ri, rj[j], A)
                s = w2 * e + b2
                S[j] = s
                T[j] = s + w2 * ed * T[j]
        else:
            for j in range(m):
                e, ed = _gelu(om[j], op[j], ri, rj[j], A)
                s = w2 * e + b2
                S[j] = s
                T[j] = s + w2 * ed * T[j]
        if layer < depth - 1:
            _next_cos(i, m, layer, om, op, S, rx, ry, C)


@njit(**_HELPER)
def _abrelu_layers(i, m, om, op, T, S, rx, vx, ux, ry, vy, uy, slopes, w2, b2, A):
    """The ReLU family's layers: 1 - cos of the next layer in closed form."""
    C = A
    depth = rx.shape[0] - 1
    p2n2, pmn2, ppn2, pn = slopes[0], slopes[1], slopes[2], slopes[3]
    for layer in range(depth - 1):
        ri = rx[layer, i]
        rj = ry[layer]
        vi = vx[layer + 1, i]
        ui = ux[layer + 1, i]
        vj = vy[layer + 1]
        uj = uy[layer + 1]
        for j in range(m):
            e, ed, d = _abrelu(om[j], op[j], ri, rj[j], p2n2, pmn2, ppn2, pn, A)
            s = w2 * e + b2
            T[j] = s + w2 * ed * T[j]
            dv = vi - vj[j]
            du = ui - uj[j]
            o = min(max(C.half * (dv * dv + du * du) + vi * vj[j] * d, C.zero), C.two)
            om[j] = o
            op[j] = C.two - o
    ri = rx[depth - 1, i]
    rj = ry[depth - 1]
    for j in range(m):  # the last layer: no next angle to propagate
        e, ed, _ = _abrelu(om[j], op[j], ri, rj[j], p2n2, pmn2, ppn2, pn, A)
        s = w2 * e + b2
        S[j] = s
        T[j] = s + w2 * ed * T[j]


@njit(**_HELPER)
def _next_cos(i, m, layer, om, op, S, rx, ry, C):
    """om, op of layer + 1 from S (smooth kinds: absolute precision); duplicated
    rows stay exactly parallel."""
    ri = rx[layer, i]
    rj = ry[layer]
    rni = rx[layer + 1, i]
    rnj = ry[layer + 1]
    for j in range(m):
        den = rni * rnj[j]
        c = min(max(S[j] / den, -C.one), C.one) if den > C.zero else C.zero
        keep = om[j] == C.zero and ri == rj[j]
        om[j] = om[j] if keep else C.one - c
        op[j] = op[j] if keep else C.one + c


_CHUNK = 8  # terms between the checks of the pairs' tail bounds


def _has_quad(quad):
    """Whether ``quad`` names a quadrature (an int code); ``None``: never."""
    raise NotImplementedError("compiled by numba only")


def _quad_pair(quad, ri, rj, om, op, a, b):
    """(E, Ed) of a pair by quadrature (:func:`expect_pair`); with ``quad``
    None, (a, b) unchanged and the quadrature is not compiled at all."""
    raise NotImplementedError("compiled by numba only")


@overload(_has_quad, jit_options=_HELPER)
def _has_quad_impl(quad):
    if isinstance(quad, types.NoneType):
        return lambda quad: False
    return lambda quad: quad != 0


@overload(_quad_pair, jit_options=_HELPER)
def _quad_pair_impl(quad, ri, rj, om, op, a, b):
    if isinstance(quad, types.NoneType):
        return lambda quad, ri, rj, om, op, a, b: (a, b)
    return lambda quad, ri, rj, om, op, a, b: expect_pair(quad, ri, rj, om, op)


@njit(**_INNER)
def _series_layers(i, m, om, op, T, S, work, rx, ry, hx, gx, hy, gy, tx, ty, nterms,
                   tol, quad, w2, b2):
    """The dual-activation series' layers (float64 only), truncated per pair.

    After k terms the remainder of ``E`` is at most
    ``|cos|^k sqrt(t_x(k) t_y(k))`` (Cauchy-Schwarz), likewise for ``Ed``;
    ``tx[l, k, i]`` is the larger of the two rows' normalised tails' square
    roots, so a pair is done once ``|cos|^k tx ty <= tol`` (relative to
    ``sqrt(E(x, x) E(y, y))``). All pairs of the row run together (vectorised)
    in chunks of terms until at most 1/8 of them are left; those finish on
    their own. A pair whose bound is not met after all ``nterms`` terms (rows
    whose series does not converge, or whose grid does not resolve them) is
    computed by quadrature (:func:`skntk.kernels._quad_act.expect_pair`) when
    ``quad`` names the activation (1 tanh, 2 logistic; ``None`` or 0: never).
    """
    depth = rx.shape[0] - 1
    ea = work[4, :m]
    eb = work[5, :m]
    cs = work[6, :m]
    pw = work[7, :m]
    for layer in range(depth):
        ri = rx[layer, i]
        K = nterms[layer]
        for j in range(m):
            ea[j] = 0.0
            eb[j] = 0.0
            pw[j] = 1.0  # cos^k
            cs[j] = op[j] - 1.0 if om[j] > 1.0 else 1.0 - om[j]
        k = 0
        left = m
        while left * 8 > m and k < K:
            k1 = min(K, k + _CHUNK)
            for kk in range(k, k1):
                # coefficients that vanish (parity: odd tanh, even tanh')
                # are exact zeros, so their pass is skipped
                hi = hx[layer, kk, i]
                gi = gx[layer, kk, i]
                if hi != 0.0:
                    for j in range(m):
                        ea[j] += hi * hy[layer, kk, j] * pw[j]
                if gi != 0.0:
                    for j in range(m):
                        eb[j] += gi * gy[layer, kk, j] * pw[j]
                for j in range(m):
                    pw[j] *= cs[j]
            k = k1
            txk = tx[layer, k, i]
            left = 0
            for j in range(m):
                left += not abs(pw[j]) * txk * ty[layer, k, j] <= tol  # NaN: 0 inf
        for j in range(m if left else 0):
            p = pw[j]
            # rows whose grid does not resolve them have infinite tails
            bad = math.isinf(tx[layer, 0, i]) or math.isinf(ty[layer, 0, j])
            if not bad and abs(p) * tx[layer, k, i] * ty[layer, k, j] <= tol:
                continue
            a = ea[j]
            b = eb[j]
            c = cs[j]
            kk = k
            while kk < K:
                a += hx[layer, kk, i] * hy[layer, kk, j] * p
                b += gx[layer, kk, i] * gy[layer, kk, j] * p
                p *= c
                kk += 1
                if kk % 4 == 0 and abs(p) * tx[layer, kk, i] * ty[layer, kk, j] <= tol:
                    break
            if _has_quad(quad) and (bad or (kk == K and not abs(p) * tx[layer, K, i]
                                            * ty[layer, K, j] <= tol)):
                a, b = _quad_pair(quad, ri, ry[layer, j], om[j], op[j], a, b)
            ea[j] = a
            eb[j] = b
        rni = rx[layer + 1, i]
        for j in range(m):
            S[j] = w2 * ea[j] + b2
            T[j] = S[j] + w2 * eb[j] * T[j]
            if layer == depth - 1:
                continue
            if om[j] == 0.0 and ri == ry[layer, j]:
                continue  # duplicated rows stay exactly parallel
            den = rni * ry[layer + 1, j]
            c = min(max(S[j] / den, -1.0), 1.0) if den > 0.0 else 0.0
            om[j] = 1.0 - c
            op[j] = 1.0 + c
