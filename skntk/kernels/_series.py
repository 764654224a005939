"""Per-row Hermite (dual-activation) coefficients for the series kernels.

For a row whose pre-activation variance at a layer is ``q``, the normalised
Hermite coefficients ``a_k = E[phi(sqrt(q) z) He_k(z)] / sqrt(k!)`` (z standard
normal) give, for two rows at correlation ``rho`` (Mehler's formula),

    E[phi(u) phi(v)] = sum_k a_k(x) a_k(y) rho^k,

and the same with the coefficients ``b_k`` of ``phi'`` for ``E[phi'(u) phi'(v)]``.
The sum is exact in ``rho``; truncated after ``K`` terms its error is at most
``sqrt(t_x t_y)`` with ``t = E[phi(sqrt(q) z)^2] - sum_{k<K} a_k^2`` (Cauchy-
Schwarz), which is known per row: ``K`` is the smallest number of terms that
makes ``t <= TOL E[phi^2]`` for every row (and for ``phi'``); the engine stops
each pair's sum earlier, where ``|rho|^k sqrt(t_x(k) t_y(k))`` is below TOL.
Rows whose series does not converge within the last pass's terms are recorded
(``hard``, ``coarse`` per layer): their pairs go to quadrature
(:mod:`skntk.kernels._quad_act` in the engine for tanh and logistic,
:mod:`skntk.kernels._quad_callable` after it for callables) when there are
at most ``QUAD_PAIRS``; otherwise a warning gives the bound.

The coefficients are one matrix product per layer: the activation sampled on a
trapezoidal grid in ``z`` (spectrally accurate for these analytic, Gaussian-
weighted integrands) times the Hermite functions on that grid.
"""

import math

import numpy as np

from ..utils.warn import warn

__all__ = ["SeriesRows"]

TOL = 1e-11
# the most pairs (and rows, for the diagonal) computed by quadrature, at
# 0.04-0.16 s each: beyond, the series is used as it is, with a warning
# (inputs that are not standardised: every row's series may need it)
QUAD_PAIRS = 128
# the activations whose unconverged pairs have quadrature, and their code in
# skntk.kernels._quad_act.expect_pair (numba); callables have PY_QUAD: their
# pairs are computed after the engine, in skntk.kernels._quad_callable
QUAD_CODES = {"tanh": 1, "logistic": 2}
PY_QUAD = -1
# (terms, grid half-width, step): a cheap grid first, a finer one for the rows
# whose tail is not yet below TOL. The integrand f(z) phi(z) He_k(z) / sqrt(k!)
# is at most |f| exp(-z^2 / 4) (Cramer's bound on the Hermite functions), so
# |z| <= 13 loses < 1e-18; a step h is used while sqrt(q) h <= _RESOLVE (the
# trapezoid's aliasing error was measured <= 2e-13 there against a grid of
# step 0.0125 and half-width 62, for q up to 24 and 640 terms).
_PASSES = ((160, 13.0, 0.1), (640, 13.0, 0.05))
_RESOLVE = 0.25


def _pair(spec):
    """Function of a float64 ndarray x returning (phi(x), phi'(x)) from one
    evaluation where a closed form allows (tanh' = 1 - tanh^2, to absolute
    rounding: the series needs absolute accuracy only)."""
    name = spec.name
    if name == "tanh":
        def both(x):
            t = np.tanh(x)
            return t, 1.0 - t * t
        return both
    if name == "logistic":
        from scipy.special import expit

        def both(x):
            s = expit(x)
            return s, s * (1.0 - s)
        return both
    import torch

    from ..utils.activations import torch_pair

    phi, dphi = torch_pair(spec)

    def both(x):
        with torch.no_grad():
            t = torch.from_numpy(x)
            return tuple(f(t).detach().numpy().astype(np.float64) for f in (phi, dphi))
    return both


def _hermite_functions(z, sw, K):
    """psi[m, k] = He_k(z_m) / sqrt(k!) * sw[m], by the stable recurrence."""
    H = np.empty((len(z), K))
    H[:, 0] = sw
    if K > 1:
        H[:, 1] = z * sw
    for k in range(1, K - 1):
        H[:, k + 1] = (z * H[:, k] - math.sqrt(k) * H[:, k - 1]) / math.sqrt(k + 1)
    return H


_GRIDS = {}


def _grid(K, L, h):
    key = (K, L, h)
    if key not in _GRIDS:
        z = np.arange(-L, L + h / 2, h)
        sw = np.sqrt(h * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi))
        _GRIDS[key] = (z, sw, _hermite_functions(z, sw, K))
    return _GRIDS[key]


def _coefficients(both, q, K, L, h):
    """((a, E[phi(sqrt(q) z)^2]), (b, E[phi'(sqrt(q) z)^2])) on one grid: the
    coefficients of shape (n, K) and the totals of shape (n,)."""
    z, sw, H = _grid(K, L, h)
    out = [(np.empty((len(q), K)), np.empty(len(q))) for _ in range(2)]
    step = max(1, (1 << 22) // (8 * len(z)))
    for i0 in range(0, len(q), step):
        for (a, tot), F in zip(out, both(np.sqrt(q[i0:i0 + step])[:, None] * z[None, :])):
            F *= sw
            a[i0:i0 + step] = F @ H
            tot[i0:i0 + step] = np.einsum("ij,ij->i", F, F)
    return out


def _terms(a, tot):
    """Per row, the smallest K with tail <= TOL * total (len + 1 if none)."""
    tail = tot[:, None] - np.cumsum(a * a, axis=1)
    ok = tail <= TOL * tot[:, None]
    return np.where(ok.any(axis=1), ok.argmax(axis=1) + 1, a.shape[1] + 1), tail[:, -1]


def _zero_parity(a, tot):
    """Set to exactly 0 the coefficients of every row that are at rounding
    level for all rows (the even ones of an odd function, ...): the engine
    skips them."""
    floor = 1e-14 * math.sqrt(float(np.max(tot, initial=0.0)))
    a[:, np.max(np.abs(a), axis=0, initial=0.0) <= floor] = 0.0
    return a


# a callable whose series does not converge at ordinary variances (<= 2;
# tanh's converges up to ~3, logistic's ~12) may have a kink
_KINK = (" (If the activation has a kink, so that its derivative jumps, its series "
         "converges at no variance: use the named activation where there is one, "
         "e.g. 'relu', 'leaky_relu' or 'abs'; its pairs are computed by quadrature "
         f"on inputs of at most {QUAD_PAIRS} such pairs.)")


def warn_quadrature(label, worst):
    """The warning of a callable's quadrature cut short by its bounds on the
    work (:mod:`skntk.kernels._quad_callable`)."""
    warn(f"The quadrature of the {label} kernel did not reach its tolerance within "
         f"its bounds on the work (an interval's error estimate is up to {worst:.1e} "
         "relative): the activation may oscillate or vary on a scale far from 1 at "
         "these pre-activation variances. Standardise the input or lower w_std.")


class SeriesRows:
    """Series coefficients of phi and phi' for the rows of one input, layer
    by layer (:meth:`add_layer` with the rows' variances at that layer)."""

    def __init__(self, spec, depth):
        self.both = _pair(spec)
        self.label = spec.label
        # the engine computes the pairs the series does not reach by
        # quadrature (skntk.kernels._quad_act) for these
        self.callable = spec.name == "callable"
        # the activation's code; ``quad`` becomes 0 where these rows give up
        # on quadrature (too many of them)
        self.code = QUAD_CODES.get(spec.name, PY_QUAD if self.callable else 0)
        self.quad = self.code
        self.depth = depth
        self.h, self.g, self.q, self.tot, self.step = [], [], [], [], []
        # per layer: the rows whose series does not converge, those the grid
        # does not resolve, and (the series' error bound, the largest
        # variance, the smallest variance of a row whose series does not
        # converge)
        self.hard, self.coarse, self.bound = [], [], []
        self.nterms = np.zeros(depth, dtype=np.int64)

    def add_layer(self, q):
        """Coefficients at variances ``q``; returns the diagonal
        ``(E[phi^2], E[phi'^2])``."""
        layer = len(self.h)
        q = np.asarray(q, dtype=np.float64)
        for npass, (K, L, h) in enumerate(_PASSES):
            (a, ta), (b, tb) = _coefficients(self.both, q, K, L, h)
            ka, ra = _terms(a, ta)
            kb, rb = _terms(b, tb)
            # the grid must resolve phi(sqrt(q) z): else aliasing can make a
            # wrong series look converged
            coarse = np.sqrt(q) * h > _RESOLVE
            ka[coarse] = kb[coarse] = K + 1
            ra[coarse], rb[coarse] = ta[coarse], tb[coarse]
            k = int(max(ka.max(initial=1), kb.max(initial=1)))
            if k <= K or npass == len(_PASSES) - 1:
                break
        hard = (ka > K) | (kb > K)
        worst = float(np.max(np.maximum(ra / np.where(ta > 0, ta, 1.0),
                                        rb / np.where(tb > 0, tb, 1.0)),
                             initial=0.0)) if k > K else 0.0
        self.hard.append(hard)
        self.coarse.append(coarse)
        self.bound.append((math.sqrt(max(worst, 0.0)), float(q.max(initial=0.0)),
                           float(q[hard].min(initial=np.inf))))
        if k > K and self.quad and coarse.sum() <= QUAD_PAIRS:
            k = K
            # the diagonal of the rows the grid does not resolve (the pairs
            # the series does not reach: see skntk.kernels._act.gram_act)
            rows = np.flatnonzero(coarse)
            if self.quad == PY_QUAD and (coarse | hard).sum() <= QUAD_PAIRS:
                # and of a callable's rows whose series does not converge: a
                # kink (relu-like) makes phi' a step, whose trapezoid sum is
                # off by ~1e-2 at any variance
                rows = np.flatnonzero(coarse | hard)
            if self.quad == PY_QUAD and len(rows):
                from ._quad_callable import expect_diag

                ta[rows], tb[rows], worst = expect_diag(self.both, np.sqrt(q[rows]))
                if worst > 0:
                    warn_quadrature(self.label, worst)
            elif len(rows):
                from ._quad_act import expect_pair

                for i in rows:
                    r = math.sqrt(q[i])
                    ta[i], tb[i] = expect_pair(self.quad, r, r, 0.0, 2.0)
        elif k > K:
            self.quad = 0
            self.warn_unconverged(layer)
            k = K
        self.h.append(_zero_parity(a, ta))
        self.g.append(_zero_parity(b, tb))
        self.q.append(q)
        self.tot.append((ta, tb))
        self.step.append(h)
        self.nterms[layer] = k
        return ta, tb

    def warn_unconverged(self, layer=None):
        """The warning of a series that did not converge (at ``layer``, or at
        every layer where it did not) and is used as it is."""
        for l in range(self.depth) if layer is None else (layer,):
            if l < len(self.hard) and self.hard[l].any():
                K = _PASSES[-1][0]
                warn(f"The {self.label} kernel series did not converge to {TOL:g} "
                     f"in {K} terms at layer {l + 1} (pre-activation variance up "
                     f"to {self.bound[l][1]:.3g}): kernel entries may be off by up "
                     f"to {self.bound[l][0]:.1e} relative. Standardise the input or "
                     "lower w_std." + (_KINK if self.callable and self.bound[l][2] <= 2.0
                                       else ""))

    def quad_pairs(self, other, n_other):
        """The number of pairs with ``other``'s rows (``n_other`` of them)
        that need quadrature: a row the grid does not resolve pairs with
        every row, two rows whose series do not converge with each other."""
        return sum(int(cx.sum()) * n_other + int(cy.sum()) * len(hx)
                   + int(hx.sum()) * int(hy.sum())
                   for hx, cx, hy, cy in zip(self.hard, self.coarse,
                                             other.hard, other.coarse))

    def coefficients(self, nterms):
        """(h, g, tail) of shapes (depth, max(nterms), n) and (depth,
        max(nterms) + 1, n): layer l's coefficients of phi and phi', the first
        nterms[l] of them set, and the square root of the larger normalised
        tail of the two after k terms (+inf where the grid does not resolve
        the row: its coefficients are not to be trusted)."""
        K = max(int(nterms.max()), 1)
        n = self.h[0].shape[0]
        h = np.zeros((self.depth, K, n))
        g = np.zeros((self.depth, K, n))
        tail = np.zeros((self.depth, K + 1, n))
        for layer in range(self.depth):
            k = int(nterms[layer])
            if k > self.h[layer].shape[1]:  # the other input needed more terms
                K1, L, hh = _PASSES[-1]
                ab = _coefficients(self.both, self.q[layer], K1, L, hh)
                self.h[layer] = _zero_parity(*ab[0])
                self.g[layer] = _zero_parity(*ab[1])
                self.tot[layer] = (ab[0][1], ab[1][1])
                self.step[layer] = hh
            h[layer, :k] = self.h[layer][:, :k].T
            g[layer, :k] = self.g[layer][:, :k].T
            tail[layer, :k + 1] = self._tail(layer, k)
        return h, g, tail

    def _tail(self, layer, k):
        """sqrt(max(t_phi(j) / E[phi^2], t_phi'(j) / E[phi'^2])) for j = 0..k,
        shape (k + 1, n)."""
        out = np.zeros((k + 1, len(self.q[layer])))
        for c, tot in ((self.h[layer], self.tot[layer][0]),
                       (self.g[layer], self.tot[layer][1])):
            t = np.empty_like(out)
            t[0] = tot
            t[1:] = tot - np.cumsum(c[:, :k] ** 2, axis=1).T
            np.maximum(out, t / np.where(tot > 0, tot, 1.0), out=out)
        out = np.sqrt(np.maximum(out, 0.0))
        out[:, np.sqrt(self.q[layer]) * self.step[layer] > _RESOLVE] = np.inf
        return out
