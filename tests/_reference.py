"""Independent references for the ReLU kernel: a 60-digit mpmath evaluation of
the recursion exactly as written in DESIGN.md (arccos and all), and the course
notebook's two-layer formula. Nothing here calls skntk."""

import mpmath as mp
import numpy as np


def mp_relu_kernel(X, Y, depth, w_std, b_std, dps=60):
    """(nngp, ntk) of shape (len(X), len(Y)), each entry evaluated with `dps` digits."""
    with mp.workdps(dps):
        w2 = mp.mpf(float(w_std)) ** 2
        b2 = mp.mpf(float(b_std)) ** 2
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
                    r = mp.sqrt(sxx * syy)
                    theta = mp.pi / 2 if r == 0 else mp.acos(max(-1, min(1, sxy / r)))
                    e = r * (mp.sin(theta) + (mp.pi - theta) * mp.cos(theta)) / (2 * mp.pi)
                    sxy = w2 * e + b2
                    t = sxy + w2 * t * (mp.pi - theta) / (2 * mp.pi)
                    sxx = w2 * sxx / 2 + b2
                    syy = w2 * syy / 2 + b2
                nngp[i, j] = float(sxy)
                ntk[i, j] = float(t)
        return nngp, ntk


def tp5_two_layer_ntk(X, Y):
    """Seed notebook 'TP5', class NTK.k, without its 0.99999 fudge factor:
    k = v (u (pi - arccos u) + sqrt(1 - u^2)) / (2 pi) + v u (pi - arccos u) / (2 pi)."""
    v = np.linalg.norm(X, axis=1)[:, None] * np.linalg.norm(Y, axis=1)[None, :]
    u = (X @ Y.T) / v
    return (v * (u * (np.pi - np.arccos(u)) + np.sqrt(1 - u**2)) / (2 * np.pi)
            + v * u * (np.pi - np.arccos(u)) / (2 * np.pi))


def augmented_cosine(X, Y, w_std, b_std):
    """Cosine between the first layer's augmented inputs (w x / sqrt(d), b)."""
    d = X.shape[1]
    Xa = np.hstack([w_std * X / np.sqrt(d), np.full((len(X), 1), b_std)])
    Ya = np.hstack([w_std * Y / np.sqrt(d), np.full((len(Y), 1), b_std)])
    nx = np.linalg.norm(Xa, axis=1)[:, None]
    ny = np.linalg.norm(Ya, axis=1)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((nx > 0) & (ny > 0), (Xa @ Ya.T) / (nx * ny), 0.0)
