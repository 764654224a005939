"""Gaussian expectations of tanh and logistic by adaptive quadrature.

The fallback of the series kernels (:mod:`skntk.kernels._engine_act`) for the
pairs whose Hermite series does not reach its tolerance within its terms:
rows of large pre-activation variance, where ``phi(sqrt(q) z)`` is nearly a
step and ``phi'`` a narrow spike. For ``(u, v)`` centred Gaussian with
standard deviations ``rx >= ry`` (swapped otherwise) and correlation ``c``,

    E[f(u) g(v)] = int phi(z) f(rx z) G(ry c z, ry s) dz,
    G(a, sigma) = E[g(a + sigma Z)],  s = sqrt(1 - c^2),

both integrals by adaptive Gauss-Kronrod (7-15) on [-9, 9] (the Gaussian
weight beyond is < 1e-18), with breakpoints graded (1, 4, 16 widths) around
the transition of the integrand (at z = 0 outside, at a + sigma z = 0 inside),
so that the spike or step of width 1 / rx is resolved whatever rx. Each
interval is accepted when Kronrod and Gauss differ by at most ``_REL`` times
the integral of the integrand's absolute value there, so the result is
accurate relative to ``E[|f(u) g(v)|] <= sqrt(E[f^2] E[g^2])``. logistic is
``(1 + tanh(x / 2)) / 2``: its expectations are tanh's at half the standard
deviations.
"""

import math

import numpy as np
from numba import njit

_JIT = dict(cache=True, error_model="numpy", nogil=True)

_REL = 1e-11  # the pair's integral
_REL_INNER = 1e-13  # G's (below the outer's, which sees its error as noise)
_LIM = 9.0
_MAXIV = 4000
# Gauss-Kronrod 15 nodes on [-1, 1] (QUADPACK's qk15) and the Gauss 7 weights
# at the same nodes (0 at the Kronrod-only ones)
_X = (0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
      0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
      0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
      0.207784955007898467600689403773245)
_WKH = (0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
        0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
        0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
        0.204432940075298892414161999234649)
_WGH = (0.0, 0.129484966168869693270611432679082, 0.0, 0.279705391489276667901467771423780,
        0.0, 0.381830050505118944950369775488975, 0.0)
XK = np.array([-x for x in _X] + [0.0] + list(_X[::-1]))
WK = np.array(list(_WKH) + [0.209482141084727828012999174891714] + list(_WKH[::-1]))
WG = np.array(list(_WGH) + [0.417959183673469387755102040816327] + list(_WGH[::-1]))
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@njit(inline="always", **_JIT)
def _tanh_sech2(x):
    t = math.tanh(x)
    e = math.exp(-2.0 * abs(x))  # sech^2 = 4 e / (1 + e)^2, exact in the tails
    return t, 4.0 * e / ((1.0 + e) * (1.0 + e))


@njit(**_JIT)
def _start(centre, width, lo, hi):
    """The intervals of [-_LIM, _LIM] between the breakpoints centre and
    centre +- (1, 4, 16) width, pushed on the stack (lo, hi); their number."""
    top = 0
    prev = _LIM
    for k in range(3, -5, -1):
        if k == -4:
            b = -_LIM
        elif k == 0:
            b = centre
        else:
            b = centre + (1.0 if k > 0 else -1.0) * width * 4.0 ** (abs(k) - 1)
        b = min(max(b, -_LIM), _LIM)
        if prev > b:
            lo[top] = b
            hi[top] = prev
            top += 1
            prev = b
    return top


@njit(inline="always", **_JIT)
def _step(v0, v1, r, lo, hi, top, a, b, rel):
    """Accept the Kronrod sums of [a, b] (node values v0, v1) into r, or
    bisect; returns the new stack top."""
    h = 0.5 * (b - a)
    k0 = k1 = g0 = g1 = m0 = m1 = 0.0
    for j in range(15):
        k0 += WK[j] * v0[j]
        k1 += WK[j] * v1[j]
        g0 += WG[j] * v0[j]
        g1 += WG[j] * v1[j]
        m0 += WK[j] * abs(v0[j])
        m1 += WK[j] * abs(v1[j])
    # QUADPACK's qk15 error estimate, m (200 |K - G| / m)^1.5, against rel m
    e0 = m0 * min(1.0, (200.0 * abs(k0 - g0) / m0) ** 1.5) if m0 > 0.0 else 0.0
    e1 = m1 * min(1.0, (200.0 * abs(k1 - g1) / m1) ** 1.5) if m1 > 0.0 else 0.0
    ok = e0 <= rel * m0 + 1e-22 and e1 <= rel * m1 + 1e-22
    if ok or top + 2 > _MAXIV or h < 1e-13:
        r[0] += h * k0
        r[1] += h * k1
        return top
    c = a + h
    lo[top] = c
    hi[top] = b
    lo[top + 1] = a
    hi[top + 1] = c
    return top + 2


@njit(**_JIT)
def _inner(a, sigma):
    """G(a, sigma) = (E[tanh(a + sigma Z)], E[sech^2(a + sigma Z)]), sigma > 0."""
    lo = np.empty(_MAXIV)
    hi = np.empty(_MAXIV)
    v0 = np.empty(15)
    v1 = np.empty(15)
    r = np.zeros(2)
    top = _start(-a / sigma, 1.0 / sigma, lo, hi)
    while top > 0:
        top -= 1
        x0 = lo[top]
        x1 = hi[top]
        for j in range(15):
            x = 0.5 * (x0 + x1) + 0.5 * (x1 - x0) * XK[j]
            w = math.exp(-0.5 * x * x) * INV_SQRT_2PI
            t, s = _tanh_sech2(a + sigma * x)
            v0[j] = w * t
            v1[j] = w * s
        top = _step(v0, v1, r, lo, hi, top, x0, x1, _REL_INNER)
    return r[0], r[1]


@njit(**_JIT)
def _outer(rx, a1, sigma):
    """E[(tanh(rx z) G_tanh(a1 z, sigma), sech^2(rx z) G_sech2(a1 z, sigma))]."""
    lo = np.empty(_MAXIV)
    hi = np.empty(_MAXIV)
    v0 = np.empty(15)
    v1 = np.empty(15)
    r = np.zeros(2)
    top = _start(0.0, 1.0 / rx, lo, hi)
    while top > 0:
        top -= 1
        x0 = lo[top]
        x1 = hi[top]
        for j in range(15):
            x = 0.5 * (x0 + x1) + 0.5 * (x1 - x0) * XK[j]
            w = math.exp(-0.5 * x * x) * INV_SQRT_2PI
            ft, fs = _tanh_sech2(rx * x)
            gt, gs = _inner(a1 * x, sigma) if sigma > 0.0 else _tanh_sech2(a1 * x)
            v0[j] = w * ft * gt
            v1[j] = w * fs * gs
        top = _step(v0, v1, r, lo, hi, top, x0, x1, _REL)
    return r[0], r[1]


@njit(**_JIT)
def expect_tanh(rx, ry, om, op):
    """(E[tanh(u) tanh(v)], E[sech^2(u) sech^2(v)]) for standard deviations
    rx, ry and correlation 1 - om = op - 1."""
    if rx < ry:
        rx, ry = ry, rx
    c = op - 1.0 if om > 1.0 else 1.0 - om
    s = math.sqrt(max(om * op, 0.0))
    if rx == 0.0:
        return 0.0, 1.0
    return _outer(rx, ry * c, ry * s)


@njit(**_JIT)
def expect_pair(act, rx, ry, om, op):
    """(E[phi(u) phi(v)], E[phi'(u) phi'(v)]) of tanh (act 1) or logistic
    (act 2) for standard deviations rx, ry and correlation 1 - om."""
    if act == 1:
        return expect_tanh(rx, ry, om, op)
    e, ed = expect_tanh(0.5 * rx, 0.5 * ry, om, op)
    return 0.25 + 0.25 * e, 0.0625 * ed
