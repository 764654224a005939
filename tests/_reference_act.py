"""Independent 50-digit references for the closed-form activation kernels: the
recursion written with mpmath, the dual functions in the form the papers give
them (arccos, arcsin; neural-tangents' Gelu formula). Nothing here calls skntk."""

import mpmath as mp
import numpy as np

SLOPES = {"identity": (1, 1), "abs": (1, -1)}  # phi = p max(x, 0) + n min(x, 0)


def _dual(act, slope, qx, qy, c):
    """(E[phi(u) phi(v)], E[phi'(u) phi'(v)]) at variances qx, qy, covariance c."""
    pi = mp.pi
    if act in ("identity", "abs", "leaky_relu"):
        p, n = SLOPES.get(act, (1, slope))
        p, n = mp.mpf(p), mp.mpf(n)
        r = mp.sqrt(qx * qy)
        theta = pi / 2 if r == 0 else mp.acos(max(-1, min(1, c / r)))
        ed = ((p * p + n * n) * (pi - theta) + 2 * p * n * theta) / (2 * pi)
        # Cho & Saul's arc-cosine kernels with slopes (neural-tangents' ABRelu)
        e = ed * c + (p - n) ** 2 * r * mp.sin(theta) / (2 * pi)
        return e, ed
    if act == "erf":  # Williams (1997)
        den = mp.sqrt((1 + 2 * qx) * (1 + 2 * qy))
        return 2 / pi * mp.asin(2 * c / den), 4 / pi / mp.sqrt(den ** 2 - 4 * c * c)
    if act == "gelu":  # neural-tangents' Gelu, arXiv:2002.08517
        prod, prod1 = qx * qy, (qx + 1) * (qy + 1)
        d2 = prod1 - c * c
        d = mp.sqrt(d2)
        ang = mp.atan2(c, d)
        e = ((c * c + prod * d2) / (prod1 * d) + c * ang) / (2 * pi) + c / 4
        ed = (c / d / (2 * pi) * (1 / d2 + (1 - prod) / prod1 + 1)
              + mp.mpf(1) / 4 + ang / (2 * pi))
        return e, ed
    raise ValueError(act)


def mp_act_kernel(X, Y, act, depth, w_std, b_std, slope=None, dps=50):
    """(nngp, ntk) of shape (len(X), len(Y)) with `dps` digits."""
    with mp.workdps(dps):
        w2 = mp.mpf(float(w_std)) ** 2
        b2 = mp.mpf(float(b_std)) ** 2
        slope = None if slope is None else mp.mpf(float(slope))
        d = X.shape[1]
        Xm = [[mp.mpf(float(v)) for v in row] for row in X]
        Ym = [[mp.mpf(float(v)) for v in row] for row in Y]
        nngp = np.empty((len(X), len(Y)))
        ntk = np.empty((len(X), len(Y)))
        for i, x in enumerate(Xm):
            for j, y in enumerate(Ym):
                sxy = w2 * mp.fsum(a * c for a, c in zip(x, y)) / d + b2
                sxx = w2 * mp.fsum(a * a for a in x) / d + b2
                syy = w2 * mp.fsum(a * a for a in y) / d + b2
                t = sxy
                for _ in range(depth):
                    e, ed = _dual(act, slope, sxx, syy, sxy)
                    sxy = w2 * e + b2
                    t = sxy + w2 * ed * t
                    sxx = w2 * _dual(act, slope, sxx, sxx, sxx)[0] + b2
                    syy = w2 * _dual(act, slope, syy, syy, syy)[0] + b2
                nngp[i, j] = float(sxy)
                ntk[i, j] = float(t)
        return nngp, ntk
