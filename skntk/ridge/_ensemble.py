"""The predictive spread of :class:`NTKRegressor`: ``predict(X, return_std=True)``
or ``return_cov=True``, under either posterior.

- ``posterior="gp"``: the Gaussian-process posterior of the fit's kernel
  (noise-free, converged fits only), as scikit-learn's
  :class:`~sklearn.gaussian_process.GaussianProcessRegressor`.
- ``posterior="ensemble"``: the spread of the infinite ensemble of infinitely
  wide networks, each initialised at random and trained by gradient flow for
  ``training_time`` (Lee et al. 2019, eqs. 15-16): the NNGP is the prior of
  the initial networks, the fit's kernel drives the training (the NTK: every
  layer trained; the NNGP: the readout only). The formulas on plain arrays
  are in :mod:`skntk.linalg.ensemble`.
"""

import numpy as np

from ..kernels import gram, ntk_kernel_diag
from ..linalg import (
    ensemble_covariance,
    ensemble_variance,
    flow_map_cholesky,
    flow_map_eigh,
    solve_triangular_lower,
    spectral_filter,
)

__all__ = ["POSTERIORS", "predictive_spread"]

POSTERIORS = ("gp", "ensemble")


def _check_request(est, return_std, return_cov, posterior):
    if posterior not in POSTERIORS:
        raise ValueError(f"posterior must be 'gp' or 'ensemble', got {posterior!r}.")
    if return_std and return_cov:
        raise ValueError("At most one of return_std or return_cov can be requested.")
    what = "return_std=True" if return_std else "return_cov=True"
    sol = est._solution
    if est.kernel == "precomputed":
        if posterior == "ensemble":
            raise ValueError(
                f"{what} with posterior='ensemble' needs the network's NNGP (the "
                "prior of the initial networks) besides its NTK, which "
                "kernel='precomputed' does not provide; use kernel='ntk' (or "
                "'nngp' for networks whose readout alone is trained).")
        raise ValueError(f"{what} needs k(x, x), which a precomputed kernel does "
                         "not provide; use kernel='ntk' or 'nngp'.")
    if sol.kind == "nystrom":
        raise ValueError(f"{what} is not available with solver='nystrom'; use "
                         "solver='cholesky' or 'eigh'.")
    if not sol.clamp:
        raise ValueError(f"{what} needs a positive definite Gram matrix plus "
                         "alpha * I; this fit's was indefinite.")
    if posterior == "gp" and sol.training_time is not None:
        raise ValueError(
            f"{what} with posterior='gp' gives the converged GP posterior; it is "
            "not defined with a finite training time. posterior='ensemble' gives "
            "the spread of the networks trained for training_time.")


def _flow_map(est, theta_cross):
    """T_t(x) of the fit, (rows, n_train), float64."""
    sol = est._solution
    sw = None if sol.sqrt_sw is None else sol.sqrt_sw.astype(np.float64)
    if sol.kind == "eigh":
        return flow_map_eigh(theta_cross, est.eigenvalues_.astype(np.float64),
                             est.eigenvectors_.astype(np.float64), sol.alpha,
                             sol.training_time, sol.n_outputs_total, sw)
    # L_.T: the Fortran-ordered upper factor of K + (alpha + jitter) I
    return flow_map_cholesky(theta_cross, est.L_.T.astype(np.float64, order="F"), sw)


def _gp_covariance(est, X):
    """k(X, X) - k_X' (K + alpha I)^-1 k_X, the kernel's posterior, (m, m)."""
    sol = est._solution
    kw = dict(est._kernel_kwargs(), dtype=np.float64)
    B = gram(X, est.X_fit_, **kw).T
    if sol.sqrt_sw is not None:
        B = B * sol.sqrt_sw[:, None]
    if sol.kind == "cholesky":
        V = solve_triangular_lower(est.L_.astype(np.float64), B)
        explained = V.T @ V
    else:
        P = est.eigenvectors_.astype(np.float64).T @ B
        g = spectral_filter(est.eigenvalues_.astype(np.float64), sol.alpha, None, 1)
        explained = P.T @ (g[:, None] * P)
    C = gram(X, **kw) - explained
    return (C + C.T) / 2


def _ensemble(est, X, full_cov):
    kw = dict(est._kernel_kwargs(), dtype=np.float64)
    nngp = dict(kw, kernel="nngp")
    X_fit = est.X_fit_
    k_train = gram(X_fit, **nngp)
    chunks = [slice(0, X.shape[0])] if full_cov else est._row_chunks(X.shape[0])
    var = np.empty(X.shape[0])
    for rows in chunks:
        if est.kernel == "ntk":
            k_cross, theta_cross = gram(X[rows], X_fit, **dict(kw, kernel="both"))
        else:  # the readout alone is trained: its NTK is the NNGP
            k_cross = theta_cross = gram(X[rows], X_fit, **nngp)
        T = _flow_map(est, theta_cross)
        if full_cov:
            return ensemble_covariance(T, gram(X, **nngp), k_cross, k_train)
        var[rows] = ensemble_variance(T, ntk_kernel_diag(X[rows], **nngp), k_cross,
                                      k_train)
    return var


def predictive_spread(est, X, *, return_std, return_cov, posterior):
    """The std (m,) or covariance (m, m) at the validated rows X."""
    _check_request(est, return_std, return_cov, posterior)
    if posterior == "gp":
        if return_std:
            return est._posterior_std(X)
        return _gp_covariance(est, X)
    if return_std:
        return np.sqrt(_ensemble(est, X, full_cov=False))
    return _ensemble(est, X, full_cov=True)

