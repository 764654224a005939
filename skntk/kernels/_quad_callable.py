"""Gaussian expectations of a user's activation by adaptive quadrature.

The fallback of the series kernels for callables, as
:mod:`skntk.kernels._quad_act` is for tanh and logistic: the pairs (and
diagonal entries) whose Hermite series does not reach its tolerance, for rows
of large pre-activation variance. The same algorithm, in numpy instead of
numba because the activation is a Python function on torch tensors: for
``(u, v)`` centred Gaussian with standard deviations ``rx >= ry`` (swapped
otherwise) and correlation ``c``,

    E[f(u) f(v)] = int phi(z) f(rx z) G(ry c z, ry s) dz,
    G(a, sigma) = E[f(a + sigma Z)],  s = sqrt(1 - c^2),

(and the same for ``f'``), both integrals by adaptive Gauss-Kronrod (7-15) on
[-_LIM, _LIM] with breakpoints graded (1, 4, 16, 64 widths) around the
activation's argument 0 (z = 0 outside, a + sigma z = 0 inside), each interval
accepted when Kronrod and Gauss differ (QUADPACK's estimate) by at most
``_REL`` times the integral of the integrand's absolute value there, or
where that is at rounding level (a derivative computed as ``1 - tanh^2`` or
by autograd is noise in the tails) when its error is below ``1 / _MAXIV`` of
the whole integral's tolerance at the result's scale
(``sqrt(E[f(u)^2] E[f(v)^2])``: the accuracy the kernel promises). Every
interval of every integral of a round is evaluated in one call of the
activation (one batch of nodes), so a round costs one torch call whatever the
number of pairs.

:func:`callable_pairs` runs the NNGP/NTK recursion of those pairs with these
expectations and overwrites the engine's values.

The cost is bounded: at most ``_MAXIV`` intervals per integral, ``_BUDGET``
evaluations per pair or row of a call (4 times what sin needs at variance
1600, 16 times tanh's at variance 1e6; about 1 s) and ``_TOTAL`` per call
(a minute at most); an integral cut short keeps its estimate and
the caller warns with the largest error estimate (an activation that
oscillates at large variance, ``sin(1000 z)``, needs more than that).
"""

import math

import numpy as np

from ._quad_act import WG, WK, XK

__all__ = ["callable_pairs", "expect_diag", "expect_pairs"]

_REL = 1e-11  # the pair's integral
_REL_INNER = 1e-13  # G's (below the outer's, which sees its error as noise)
_LIM = 10.0  # the Gaussian weight beyond is < 1e-22
_GRADES = (1.0, 4.0, 16.0, 64.0)
_MAXIV = 512  # intervals of one integral
_BUDGET = 1 << 23  # activation evaluations per pair (or row) of one call
_TOTAL = 1 << 28  # and of one call
_BATCH = 1 << 21  # nodes per activation call
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class _Budget:
    """Evaluations left, and the largest relative error estimate of an
    interval accepted without meeting its tolerance."""

    def __init__(self, items):
        self.left = min(_BUDGET * max(int(items), 1), _TOTAL)
        self.worst = 0.0


def _start(centre, width):
    """The initial intervals of [-_LIM, _LIM] between the breakpoints centre
    and centre +- (1, 4, 16, 64) width of each integral: (lo, hi, owner)."""
    k = np.array([0.0] + [s * g for g in _GRADES for s in (1.0, -1.0)])
    with np.errstate(invalid="ignore", over="ignore"):
        pts = centre[:, None] + width[:, None] * k[None, :]
    pts = np.where(np.isfinite(pts), pts, np.where(pts > 0, _LIM, -_LIM))
    pts = np.clip(np.nan_to_num(pts, nan=0.0), -_LIM, _LIM)
    n = len(centre)
    pts = np.sort(np.concatenate([np.full((n, 1), -_LIM), pts, np.full((n, 1), _LIM)],
                                 axis=1), axis=1)
    lo, hi = pts[:, :-1], pts[:, 1:]
    keep = hi > lo
    owner = np.broadcast_to(np.arange(n)[:, None], lo.shape)
    return lo[keep], hi[keep], owner[keep]


def _adaptive(values, lo, hi, owner, n, rel, budget, floor=None):
    """Integrals of ``values(x, owner) -> (2, I, 15)`` over the intervals
    ``[lo, hi]`` of each of ``n`` integrals (``owner``): shape (2, n).
    ``floor`` (2, n): an absolute accuracy that is enough for each integral
    (the caller's scale times its tolerance), below which the integrand's
    rounding noise need not be resolved."""
    floor = np.zeros((2, n)) if floor is None else floor
    out = np.zeros((2, n))
    absolute = np.zeros((2, n))  # the accepted intervals' integral of |.|
    count = np.bincount(owner, minlength=n)
    while lo.size:
        half = 0.5 * (hi - lo)
        x = (lo + half)[:, None] + half[:, None] * XK[None, :]
        v = values(x, owner)
        budget.left -= x.size
        k = v @ WK
        g = v @ WG
        m = np.abs(v) @ WK
        with np.errstate(divide="ignore", invalid="ignore"):
            e = m * np.minimum(1.0, (200.0 * np.abs(k - g) / m) ** 1.5)
        e = np.where(m > 0, e, 0.0)
        # the integral of |.| over the whole range, as now known
        total = absolute + np.stack([np.bincount(owner, half * m[c], minlength=n)
                                     for c in range(2)])
        # an interval is done at its tolerance relative to its own integral
        # of |.| or, where the integrand is at rounding level (the tails of
        # a derivative computed as 1 - tanh^2), within 1 / _MAXIV of the
        # whole's tolerance (relative to the whole's |.|, or the floor)
        whole = np.maximum(rel * total, floor)[:, owner]
        ok = np.all((e <= rel * m + 1e-300) | (_MAXIV * half * e <= whole), axis=0)
        stop = ~ok & ((count[owner] + 1 > _MAXIV) | (half < 1e-13) | (budget.left <= 0))
        if stop.any():
            with np.errstate(divide="ignore", invalid="ignore"):
                r = np.where(m[:, stop] > 0, e[:, stop] / m[:, stop], 0.0)
            budget.worst = max(budget.worst, float(r.max(initial=0.0)))
        done = ok | stop
        for c in range(2):
            out[c] += np.bincount(owner[done], half[done] * k[c, done], minlength=n)
            absolute[c] += np.bincount(owner[done], half[done] * m[c, done], minlength=n)
        split = ~done
        count += np.bincount(owner[split], minlength=n)
        mid = lo[split] + half[split]
        lo = np.concatenate([lo[split], mid])
        hi = np.concatenate([mid, hi[split]])
        owner = np.concatenate([owner[split], owner[split]])
    return out


def _evaluate(both, t):
    """(f(t), f'(t)) for an array t of any shape, in batches of nodes."""
    flat = t.ravel()
    f = np.empty_like(flat)
    fd = np.empty_like(flat)
    for i0 in range(0, flat.size, _BATCH):
        f[i0:i0 + _BATCH], fd[i0:i0 + _BATCH] = both(np.ascontiguousarray(
            flat[i0:i0 + _BATCH]))
    return f.reshape(t.shape), fd.reshape(t.shape)


def _gauss(x):
    return np.exp(-0.5 * x * x) * INV_SQRT_2PI


def _inner(both, a, sigma, floor, budget):
    """G(a, sigma) = (E[f(a + sigma Z)], E[f'(a + sigma Z)]) for arrays a and
    sigma > 0 of the same length, to the absolute accuracy ``floor`` (2,
    len(a)) at least: shape (2, len(a))."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        lo, hi, owner = _start(-a / sigma, 1.0 / sigma)

    def values(x, own):
        f, fd = _evaluate(both, a[own][:, None] + sigma[own][:, None] * x)
        w = _gauss(x)
        return np.stack([w * f, w * fd])

    return _adaptive(values, lo, hi, owner, len(a), _REL_INNER, budget, floor)


def expect_pairs(both, rx, ry, om, op, budget=None):
    """(E[f(u) f(v)], E[f'(u) f'(v)]) for standard deviations ``rx``, ``ry``
    and correlations ``1 - om = op - 1`` (arrays of one length), ``both`` the
    activation and its derivative on a float64 array
    (:func:`skntk.kernels._series._pair`), accurate relative to
    ``sqrt(E[f(u)^2] E[f(v)^2])`` (and the same for ``f'``). Returns (E, Ed,
    worst): ``worst`` the largest relative error estimate of an interval cut
    short by the bounds on the work (0 when every interval met its
    tolerance)."""
    budget = _Budget(len(rx)) if budget is None else budget
    rx, ry = np.maximum(rx, ry), np.minimum(rx, ry)
    c = np.where(om > 1.0, op - 1.0, 1.0 - om)
    s = np.sqrt(np.maximum(om * op, 0.0))
    a1 = ry * c
    sigma = ry * s
    # the scales of the result: sqrt(E[f(v)^2]) for G, and with E[f(u)^2]
    # for the pair (rounding noise below them need not be resolved)
    sx = np.sqrt(np.stack(expect_diag(both, rx, budget)[:2]))
    sy = np.sqrt(np.stack(expect_diag(both, ry, budget)[:2]))
    with np.errstate(divide="ignore", over="ignore"):
        lo, hi, owner = _start(np.zeros_like(rx), 1.0 / rx)

    def values(x, own):
        f, fd = _evaluate(both, rx[own][:, None] * x)
        a = (a1[own][:, None] * x).ravel()
        pair = np.repeat(own, x.shape[1])
        sg = sigma[pair]
        G = np.empty((2, a.size))
        exact = sg == 0.0
        if exact.any():
            G[0, exact], G[1, exact] = _evaluate(both, a[exact])
        if not exact.all():
            G[:, ~exact] = _inner(both, a[~exact], sg[~exact],
                                  _REL_INNER * sy[:, pair[~exact]], budget)
        G = G.reshape((2,) + x.shape)
        w = _gauss(x)
        return np.stack([w * f * G[0], w * fd * G[1]])

    out = _adaptive(values, lo, hi, owner, len(rx), _REL, budget, _REL * sx * sy)
    return out[0], out[1], budget.worst


def expect_diag(both, r, budget=None):
    """(E[f(r z)^2], E[f'(r z)^2], worst) for an array of standard deviations
    ``r``, as :func:`expect_pairs` at correlation 1."""
    budget = _Budget(len(r)) if budget is None else budget
    r = np.asarray(r, dtype=np.float64)
    with np.errstate(divide="ignore", over="ignore"):
        lo, hi, owner = _start(np.zeros_like(r), 1.0 / r)

    def values(x, own):
        f, fd = _evaluate(both, r[own][:, None] * x)
        w = _gauss(x)
        return np.stack([w * f * f, w * fd * fd])

    out = _adaptive(values, lo, hi, owner, len(r), _REL, budget)
    return out[0], out[1], budget.worst


def _flagged_pairs(sx, sy, sym):
    """(I, J): the pairs the series does not reach at some layer (a row the
    grid does not resolve with every row, two rows whose series do not
    converge with each other); with ``sym`` those below the diagonal."""
    n, m = len(sx.q[0]), len(sy.q[0])
    keys = []
    for hx, cx, hy, cy in zip(sx.hard, sx.coarse, sy.hard, sy.coarse):
        i, j = np.flatnonzero(cx), np.flatnonzero(cy)
        keys += [(i[:, None] * m + np.arange(m)[None, :]).ravel(),
                 (np.arange(n)[:, None] * m + j[None, :]).ravel(),
                 (np.flatnonzero(hx)[:, None] * m + np.flatnonzero(hy)[None, :]).ravel()]
    I, J = np.divmod(np.unique(np.concatenate(keys)), m)
    if sym:  # the relation is symmetric: keep (i, j) with i > j
        I, J = I[I > J], J[I > J]
    return I, J


def callable_pairs(rx, ry, sym, w2, b2, out_ntk, out_nngp, want_ntk, want_nngp):
    """Overwrite the engine's series values of the pairs the series does not
    reach with the recursion by quadrature, for a callable activation: all
    layers of each such pair, in float64. ``rx``, ``ry``: the rows'
    :class:`skntk.kernels._act._ActRows`; the outputs as the engine's."""
    from ._series import warn_quadrature

    sx, sy = rx.series, ry.series
    I, J = _flagged_pairs(sx, sy, sym)
    if not len(I):
        return
    # the first layer's unit rows (alpha x, beta), their cosine from
    # explicit differences (exact at duplicated and (anti)parallel rows)
    Ux = rx.alpha[I, None] * rx.Xs[I].astype(np.float64)
    Uy = ry.alpha[J, None] * ry.Xs[J].astype(np.float64)
    bx, by = rx.beta[I], ry.beta[J]
    om = np.clip(0.5 * (np.sum((Ux - Uy) ** 2, axis=1) + (bx - by) ** 2), 0.0, 2.0)
    op = np.clip(0.5 * (np.sum((Ux + Uy) ** 2, axis=1) + (bx + by) ** 2), 0.0, 2.0)
    T = rx.rho[0, I] * ry.rho[0, J] * np.where(om > 1.0, op - 1.0, 1.0 - om)
    budget = _Budget(len(I))  # shared by the layers (the first needs the most)
    depth = rx.rho.shape[0] - 1
    for layer in range(depth):
        ri, rj = rx.rho[layer, I], ry.rho[layer, J]
        e, ed, _ = expect_pairs(sx.both, ri, rj, om, op, budget)
        S = w2 * e + b2
        T = S + w2 * ed * T
        den = rx.rho[layer + 1, I] * ry.rho[layer + 1, J]
        with np.errstate(divide="ignore", invalid="ignore"):
            c = np.where(den > 0, np.clip(S / den, -1.0, 1.0), 0.0)
        keep = (om == 0.0) & (ri == rj)  # duplicated rows stay exactly parallel
        om, op = np.where(keep, om, 1.0 - c), np.where(keep, op, 1.0 + c)
    if budget.worst > 0:
        warn_quadrature(sx.label, budget.worst)
    if want_ntk:
        out_ntk[I, J] = T
    if want_nngp:
        out_nngp[I, J] = S
