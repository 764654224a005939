"""Fused, multithreaded elementwise engine for the ReLU NNGP/NTK recursion
(and the inputs' row norms, which every kernel call starts from).

This module is imported lazily (it compiles numba functions on first use), and
only by :mod:`skntk.kernels._relu`, which owns validation, blocking and the public API.
Everything here works on one tile of the cosine matrix at a time.

Numerics
--------
Each pair of inputs carries ``om = 1 - cos(theta)`` and ``op = 1 + cos(theta)``,
both to full *relative* precision, instead of the cosine alone. The angle is
``2 * atan(sqrt(om * op) / op)`` (or its mirror ``pi - ...`` past pi / 2), so it
is exact to rounding near 0 and near pi, where ``arccos`` of a cosine (or
neural-tangents' ``arctan2(sqrt(q11 q22 - q12**2), q12)``) loses half the digits.
Between layers ``om`` is propagated in closed form as a sum of non-negative
terms (see :func:`_step`), so no cancellation happens anywhere. At the first
layer ``om`` comes from a GEMM; where the cosine is within ``tau`` of +-1 it is
recomputed from explicit differences of the (augmented, unit) input rows
(summed in float64, then rounded to the recursion's precision) before the
layers run: a pass over the row that is skipped when the row has no such pair.

The arctangent is Cephes' rational approximation in float64 (1 ulp on [0, 1])
and Cephes' atanf polynomial in float32, written with selects only and one
division per lane; the layer-to-layer update uses no division, so the
per-layer loops vectorise (numba's ``math.atan2`` would be a scalar libm call
and several times slower). The recursion runs in the precision of its
constants (float32 for float32 output: twice the vector lanes), and LLVM may
fuse multiply-adds (``fastmath={"contract"}``: one rounding instead of two).
"""

import math
import os
from collections import namedtuple

import numba
import numpy as np
from numba import njit, types
from numba.extending import overload

# No function here is compiled with parallel=True: large tiles run the serial
# functions on ranges of rows on Python threads (``_threads.py``), whose count
# is numba's (numba.get_num_threads, which starts numba's threading layer).
# Its default OpenMP layer would be loaded for nothing but that count: the
# built-in workqueue layer is enough. A user's NUMBA_THREADING_LAYER is
# respected.
if "NUMBA_THREADING_LAYER" not in os.environ:
    numba.config.THREADING_LAYER = "workqueue"

PI = math.pi
INV2PI = 1.0 / (2.0 * math.pi)

# Cephes atan.c, double precision: atan(x) = x + x z P(z) / Q(z), z = x^2,
# for |x| <= 0.66, and pi/4 + atan((x - 1) / (x + 1)) above.
_P = (-8.750608600031904122785e-1, -1.615753718733365076637e1,
      -7.500855792314704667340e1, -1.228866684490136173410e2,
      -6.485021904942025371773e1)
_Q = (2.485846490142306297962e1, 1.650270098316988542046e2,
      4.328810604912902668951e2, 4.853903996359136964868e2,
      1.945506571482613964425e2)
_PIO4_LO = math.pi / 4 + 0.5 * 6.123233995736765886130e-17

# Cephes atanf.c, single precision: atan(x) = x + x z R(z) for |x| <= tan(pi/8),
# a polynomial (no second division) accurate to float32 rounding.
_R = (8.05374449538e-2, -1.38776856032e-1, 1.99777106478e-1, -3.33329491539e-1)
_TAN_PI8 = 0.4142135623730950488

# Every constant of the recursion, in the precision it runs in. Passing them
# as an argument (instead of Python float literals, which numba types as
# float64) keeps a float32 recursion in float32, twice as many lanes per
# vector instruction; the same code compiles once per precision.
Consts = namedtuple("Consts", "zero half one two pi inv_pi inv2pi thresh pio4 "
                              "p0 p1 p2 p3 p4 q0 q1 q2 q3 q4 tan_pi8 r0 r1 r2 r3")


def consts(dtype):
    """The recursion's constants as scalars of ``dtype``."""
    t = np.dtype(dtype).type
    return Consts(*(t(v) for v in (0.0, 0.5, 1.0, 2.0, PI, 1.0 / PI, INV2PI, 0.66,
                                   _PIO4_LO) + _P + _Q + (_TAN_PI8,) + _R))


C64 = consts(np.float64)
C32 = consts(np.float32)

# "contract" lets LLVM fuse a * b + c into one FMA (one rounding instead of
# two: never less accurate), which shortens the recursion's dependency chains.
# The entry points are called from Python only: no C-callable wrapper.
_JIT = dict(cache=True, error_model="numpy", nogil=True, fastmath={"contract"},
            no_cfunc_wrapper=True)
# The per-pair helpers are compiled once each, without any wrapper, and LLVM
# inlines them (``forceinline``: alwaysinline) into the loops that call them,
# so the loops still vectorise. numba's own IR inlining (inline="always")
# gives the same machine code but types and lowers each helper again at every
# call site: it cost a first kernel call 0.5-0.6 s more of compilation.
_HELPER = dict(error_model="numpy", fastmath={"contract"}, forceinline=True,
               no_cpython_wrapper=True, no_cfunc_wrapper=True)


def _atan_frac(num, den, C):
    """atan(num / den) for 0 <= num <= den, den > 0; branch-free (selects only)
    so that loops over it vectorise, with a single division for the argument
    reduction atan(x) = pi/4 + atan((num - den) / (num + den)). float64:
    Cephes' rational approximation (1 ulp); float32: Cephes' atanf
    polynomial, which needs no second division."""
    raise NotImplementedError("compiled by numba only")


@overload(_atan_frac, jit_options=_HELPER)
def _atan_frac_impl(num, den, C):
    if num == types.float32:
        def impl32(num, den, C):
            big = num > C.tan_pi8 * den
            # select the operands, not the quotients: one division per lane
            y = (num - den if big else num) / (num + den if big else den)
            z = y * y
            r = ((C.r0 * z + C.r1) * z + C.r2) * z + C.r3
            return (C.pio4 if big else C.zero) + (y + y * z * r)
        return impl32

    def impl64(num, den, C):
        big = num > C.thresh * den
        y = (num - den if big else num) / (num + den if big else den)
        z = y * y
        p = (((C.p0 * z + C.p1) * z + C.p2) * z + C.p3) * z + C.p4
        q = ((((z + C.q0) * z + C.q1) * z + C.q2) * z + C.q3) * z + C.q4
        return (C.pio4 if big else C.zero) + (y + y * (z * p / q))
    return impl64


@njit(**_HELPER)
def _angle(om, op, C):
    """theta, pi - theta, sin and cos from om = 1 - cos and op = 1 + cos.

    theta / 2 = atan(sin / (1 + cos)) below pi / 2 and (pi - theta) / 2 =
    atan(sin / (1 - cos)) above, so both theta (near 0) and pi - theta (near
    pi) keep their relative precision.
    """
    s = math.sqrt(om * op)
    neg = om > C.one
    t = C.two * _atan_frac(s, om if neg else op, C)
    theta = C.pi - t if neg else t
    pt = t if neg else C.pi - t
    c = op - C.one if neg else C.one - om
    return theta, pt, s, c


@njit(**_HELPER)
def _values(om, op, T, ri, rj, w2, b2, C):
    """S_{l+1}, T_{l+1} of one pair (and theta, sin, cos of layer l): the last
    layer needs only these, not the next layer's angle."""
    theta, pt, s, c = _angle(om, op, C)
    P = ri * rj
    S = w2 * P * (s + pt * c) * C.inv2pi + b2
    T = S + w2 * T * pt * C.inv2pi
    return S, T, theta, s, c


@njit(**_HELPER)
def _step(om, op, T, ri, rj, vi, vj, ui, uj, w2, b2, C):
    """One ReLU layer followed by a Dense layer, for one pair of inputs.

    ``ri``, ``rj`` are sqrt(S_l(x, x)), sqrt(S_l(y, y)) and ``(v, u)`` the unit
    2-vector (w r / sqrt(2), b) / sqrt(S_{l+1}(x, x)) of each row at the next
    layer. Returns S_{l+1}, T_{l+1} and (om, op) at layer l + 1. Every
    argument has the precision of the constants ``C``.
    """
    S, T, theta, s, c = _values(om, op, T, ri, rj, w2, b2, C)
    # cos at the next layer is vi vj J / pi + ui uj with J = sin + (pi - theta) cos,
    # so 1 - cos = |(vi, ui) - (vj, uj)|^2 / 2 + vi vj (pi - J) / pi: a sum of
    # non-negative terms, with pi - J = pi (1 - cos) - (sin - theta cos).
    g = C.pi * om - (s - theta * c)
    dv = vi - vj
    du = ui - uj
    # g is ~theta^2 but carries an absolute error ~eps theta: clamp at 0 so a
    # rounding-level negative value cannot reach the square root
    omn = min(max(C.half * (dv * dv + du * du) + vi * vj * g * C.inv_pi, C.zero), C.one)
    return S, T, omn, C.two - omn


@njit(**_HELPER)
def _explicit_om_op(Xs, i, ai, bi, Ys, j, aj, bj):
    """om, op of the first layer from explicit differences of the unit rows."""
    dm = bi - bj
    dp = bi + bj
    sm = dm * dm
    sp = dp * dp
    for k in range(Xs.shape[1]):
        u = ai * np.float64(Xs[i, k])
        v = aj * np.float64(Ys[j, k])
        sm += (u - v) * (u - v)
        sp += (u + v) * (u + v)
    return 0.5 * sm, 0.5 * sp


@njit(cache=True, error_model="numpy", nogil=True, fastmath={"reassoc", "contract"},
      no_cfunc_wrapper=True)
def row_sq_norms(X, out):
    """out[i] = sum_k X[i, k]^2, in float64: each square of a float32 or
    float64 entry is exact or correctly rounded, and the sum is reassociated
    (``reassoc``: LLVM vectorises it as several partial sums, as accurate as
    the sequential sum and 10x faster than numpy's casting ``einsum`` at
    1000 x 784 float32). NaN and inf propagate."""
    for i in range(X.shape[0]):
        s = 0.0
        for k in range(X.shape[1]):
            v = np.float64(X[i, k])
            s += v * v
        out[i] = s


# A symmetric Gram's pairs are computed in blocks of ROW_BLOCK rows by
# COL_BLOCK columns, and each value is written twice, at (i, j) and (j, i): the
# ROW_BLOCK columns of the mirrored block (one 64-byte line of float32 per
# row) stay in L1 while the block's rows fill them, and the separate mirror
# pass over the whole matrix (memory bound: 3.7-4 ms at n = 2000 float32) is
# not needed. Measured at n = 1000 / 2000 float32, depth 3, 2 threads:
# engine and mirror 3.35 / 10.5 ms before, 2.5 / 9.2 ms after. COL_BLOCK is a
# multiple of every vector loop's step, so a pair takes the same path (vector
# body or scalar remainder) and has the same bits whatever the blocking.
ROW_BLOCK = 16
COL_BLOCK = 256


@njit(**_HELPER)
def _pairs(G, r, i, j0, j1, Xs, ax, bx, rx, vx, ux, Ys, ay, by, ry, vy, uy, w2, b2, tau,
           out_ntk, out_nngp, want_ntk, want_nngp, C, work, mirror):
    """Pairs ``(i, j)``, ``j0 <= j < j1``, of row ``r`` of a tile (``i`` in the
    output), written to the outputs' row ``i`` and, with ``mirror``, also to
    their column ``i``. See :func:`tile_rows`."""
    depth = rx.shape[0] - 1
    nb = j1 - j0
    om = work[0, :nb]
    op = work[1, :nb]
    T = work[2, :nb]
    S = work[3, :nb]
    Gr = G[r, j0:j1]
    ayb = ay[j0:j1]
    byb = by[j0:j1]
    ry0 = ry[0, j0:j1]
    axi = ax[i]
    bxi = bx[i]
    r0 = rx[0, i]
    lim = C.one - tau
    near = False  # pairs near +-1: usually none, and their pass is skipped
    for j in range(nb):  # (a boolean "or", not a count: the loop stays 8 lanes wide)
        raw = axi * ayb[j] * Gr[j] + bxi * byb[j]
        near |= abs(raw) > lim
        c = min(max(raw, -C.one), C.one)
        om[j] = C.one - c
        op[j] = C.one + c
        T[j] = r0 * ry0[j] * c
    # Pairs within tau of parallel or antiparallel: om, op from explicit
    # differences (in float64, rounded to the recursion's precision)
    for j in range(nb if near else 0):
        if abs(axi * ayb[j] * Gr[j] + bxi * byb[j]) > lim:
            om[j], op[j] = _explicit_om_op(Xs, i, axi, bxi, Ys, j0 + j, ayb[j], byb[j])
            T[j] = r0 * ry0[j] * (op[j] - C.one if om[j] > C.one else C.one - om[j])
    for layer in range(depth - 1):
        ri = rx[layer, i]
        vi = vx[layer + 1, i]
        ui = ux[layer + 1, i]
        ryl = ry[layer, j0:j1]
        vyl = vy[layer + 1, j0:j1]
        uyl = uy[layer + 1, j0:j1]
        for j in range(nb):  # (S of a hidden layer is not needed)
            _, T[j], om[j], op[j] = _step(om[j], op[j], T[j], ri, ryl[j], vi, vyl[j],
                                          ui, uyl[j], w2, b2, C)
    ri = rx[depth - 1, i]
    ryl = ry[depth - 1, j0:j1]
    for j in range(nb):  # the last layer: no next angle to propagate
        S[j], T[j], _, _, _ = _values(om[j], op[j], T[j], ri, ryl[j], w2, b2, C)
    if want_ntk:
        _store(out_ntk, i, j0, T, mirror)
    if want_nngp:
        _store(out_nngp, i, j0, S, mirror)


@njit(**_HELPER)
def _store(out, i, j0, values, mirror):
    """``out[i, j0:j0 + len(values)] = values``, and with ``mirror`` the same
    values down column ``i`` from row ``j0``."""
    o = out[i, j0:j0 + len(values)]
    for j in range(len(values)):
        o[j] = values[j]
    for j in range(len(values) if mirror else 0):
        out[j0 + j, i] = values[j]


# The one compiled function of the tiles, serial: large tiles run it on
# ranges of rows in parallel (``_threads.parallel_rows``).
@njit(**_JIT)
def tile_rows(G, i0, sym, r_lo, r_hi, Xs, ax, bx, rx, vx, ux, Ys, ay, by, ry, vy, uy,
              w2, b2, tau, out_ntk, out_nngp, want_ntk, want_nngp, mirror, C, work):
    """Turn rows ``r_lo <= r < r_hi`` of a tile of Gram products into NTK /
    NNGP values, in place in the outputs.

    G[r, j] = <Xs[i0 + r], Ys[j]>. The cosine of the augmented first-layer
    inputs is ax[i] ay[j] G + bx[i] by[j]; rx[l, i] = sqrt(S_{l+1}(x_i, x_i))
    and (vx, ux)[l, i] the unit 2-vectors of :func:`_step` (row 0 unused).
    With ``sym`` only j < i0 + r is computed (the strict lower triangle; the
    caller writes the diagonal in closed form), and with ``mirror`` too each
    value is also written at its mirror position (j, i0 + r), in the upper
    triangle, which the products of rows j never occupy when they are read:
    the engine reads row r of ``G`` only left of its diagonal. The
    recursion runs in the precision of ``C`` (and of the per-row arrays,
    ``w2``, ``b2`` and ``tau``). Pairs whose GEMM cosine is within ``tau``
    of +-1 start from explicit differences of their rows instead
    (:func:`_explicit_om_op`). ``work`` is a scratch array of the
    recursion's dtype, (4, >= min(COL_BLOCK, the longest row's pairs)), one
    per call: threads may run disjoint row ranges of one tile at once (their
    mirrored writes go to their own columns).
    """
    cols = G.shape[1]
    for a in range(r_lo, r_hi, ROW_BLOCK):
        b = min(r_hi, a + ROW_BLOCK)
        # the diagonal (angle 0) is the caller's, in closed form: left out here,
        # it would send every row of a symmetric tile through the explicit pass
        for j0 in range(0, i0 + b - 1 if sym else cols, COL_BLOCK):
            for r in range(a, b):
                i = i0 + r
                j1 = min(i if sym else cols, j0 + COL_BLOCK)
                if j1 > j0:
                    _pairs(G, r, i, j0, j1, Xs, ax, bx, rx, vx, ux, Ys, ay, by, ry, vy,
                           uy, w2, b2, tau, out_ntk, out_nngp, want_ntk, want_nngp, C,
                           work, mirror)


def in_range(a, lo, hi):
    """Whether every entry of a is 0 or has magnitude in [lo, hi] (NaN is
    not). numpy, not numba: the arrays are per-row (O(n depth)) and a
    compiled version cost a first float32 call 0.4 s of compilation."""
    a = np.abs(a)
    return bool(np.all((a == 0.0) | ((a >= lo) & (a <= hi))))


@njit(**_HELPER)
def _first_layer(G, r, j, Xs, i, axi, bxi, Ys, ayj, byj, tau):
    """om, op of the first layer: from the GEMM, or explicitly near +-1."""
    c = axi * ayj * G[r, j] + bxi * byj
    if abs(c) > 1.0 - tau:
        return _explicit_om_op(Xs, i, axi, bxi, Ys, j, ayj, byj)
    c = min(max(c, -1.0), 1.0)
    return 1.0 - c, 1.0 + c


@njit(**_JIT)
def gram_with_gradient(G, Xs, ax, bx, rx, vx, ux, Ys, ay, by, ry, vy, uy, w2, b2, tau,
                       sym, K, dK, C, r_lo, r_hi):
    """NNGP and NTK with their derivatives w.r.t. log(w_std) and log(b_std).

    Scalar forward-mode differentiation alongside the same recursion (the
    values come from :func:`_step`); used by ``ReluNTK(eval_gradient=True)``,
    where n is modest. ``K[..., 0]`` is the NNGP, ``K[..., 1]`` the NTK, and
    ``dK[..., k, p]`` the derivative of kernel k w.r.t. log hyperparameter p
    (0: w_std, 1: b_std). With ``sym`` only the lower triangle is written.
    Rows ``r_lo <= i < r_hi`` (threads may run disjoint ranges at once).
    """
    n, m = G.shape
    depth = rx.shape[0] - 1
    dw2 = np.array([2.0 * w2, 0.0])  # d(w^2) / dlog w, d(w^2) / dlog b
    db2 = np.array([0.0, 2.0 * b2])
    for i in range(r_lo, r_hi):
        dS = np.empty(2)
        dT = np.empty(2)
        dai = np.empty(2)
        daj = np.empty(2)
        for j in range(i + 1 if sym else m):
            om, op = _first_layer(G, i, j, Xs, i, ax[i], bx[i], Ys, ay[j], by[j], tau)
            a_i = rx[0, i] * rx[0, i]
            a_j = ry[0, j] * ry[0, j]
            S = rx[0, i] * ry[0, j] * (op - 1.0 if om > 1.0 else 1.0 - om)
            T = S
            for p in range(2):  # first Dense layer: S1 = w^2 <x, y> / d + b^2
                dS[p] = dw2[p] * (S - b2) / w2 if w2 > 0.0 else 0.0
                dS[p] += db2[p]
                dai[p] = (dw2[p] * (a_i - b2) / w2 if w2 > 0.0 else 0.0) + db2[p]
                daj[p] = (dw2[p] * (a_j - b2) / w2 if w2 > 0.0 else 0.0) + db2[p]
                dT[p] = dS[p]
            for layer in range(depth):
                theta, pt, s, c = _angle(om, op, C)
                P = rx[layer, i] * ry[layer, j]
                Edot = pt * INV2PI
                E = P * (s + pt * c) * INV2PI
                for p in range(2):
                    lg = (dai[p] / a_i if a_i > 0.0 else 0.0) + (
                        daj[p] / a_j if a_j > 0.0 else 0.0)
                    dE = Edot * dS[p] + 0.5 * INV2PI * s * P * lg
                    Ps = P * s
                    dtheta = -(dS[p] - 0.5 * S * lg) / Ps if Ps > 0.0 else 0.0
                    nS = dw2[p] * E + w2 * dE + db2[p]
                    dT[p] = (nS + dw2[p] * T * Edot + w2 * dT[p] * Edot
                             - w2 * T * dtheta * INV2PI)
                    dS[p] = nS
                    dai[p] = 0.5 * dw2[p] * a_i + 0.5 * w2 * dai[p] + db2[p]
                    daj[p] = 0.5 * dw2[p] * a_j + 0.5 * w2 * daj[p] + db2[p]
                S, T, om, op = _step(om, op, T, rx[layer, i], ry[layer, j],
                                     vx[layer + 1, i], vy[layer + 1, j],
                                     ux[layer + 1, i], uy[layer + 1, j], w2, b2, C)
                a_i = rx[layer + 1, i] * rx[layer + 1, i]
                a_j = ry[layer + 1, j] * ry[layer + 1, j]
            K[i, j, 0] = S
            K[i, j, 1] = T
            for p in range(2):
                dK[i, j, 0, p] = dS[p]
                dK[i, j, 1, p] = dT[p]
