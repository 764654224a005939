"""Linear algebra of the kernel solvers: pure numpy and scipy.

What lives here: the Cholesky factorisation of K + alpha I with its jitter
schedule, condition check and triangular solves, in column blocks for Gram
matrices past LAPACK's 32-bit limits (``cholesky.py``); the eigendecomposition,
the ridge and gradient-flow spectral filters and the Lanczos estimate of the
smallest eigenvalue (``spectral.py``); the FALKON preconditioned conjugate
gradient of the Nystrom solver (``nystrom.py``) and the same solver over
the row blocks of a Dask array (``falkon_dask.py``, dask imported lazily); the
predictive mean map and covariance of the infinite ensemble of wide networks
trained by gradient flow (``ensemble.py``); and the memory checks that
refuse a fit before it starts swapping (``memory.py``).

May import: numpy, scipy and :mod:`skntk.utils`; dask only inside the
functions of ``falkon_dask.py``. Never an estimator, a
scikit-learn base class, the kernels' engine or torch: everything here works on
plain arrays, so it can be tested and reused without an estimator. The device
(torch) factorisation lives with the estimators (``skntk.ridge._device``) and
shares the jitter schedule :func:`~skntk.linalg.cholesky.factor_with_jitter`.
"""

from .cholesky import (
    JITTER,
    cho_solve_upper,
    cholesky_upper_inplace,
    factor_with_jitter,
    solve_triangular_lower,
    sym_norm1_from_lower,
    warn_if_ill_conditioned,
    warn_jitter,
)
from .ensemble import (
    ensemble_covariance,
    ensemble_variance,
    floor_variance,
    flow_map_cholesky,
    flow_map_eigh,
)
from .memory import check_device_memory, check_gram_memory, check_memory
from .falkon_dask import falkon_dask, take_rows
from .nystrom import falkon, falkon_pcg
from .spectral import (
    EIGH_MAX_N,
    check_eigh_size,
    eigh_lower,
    min_eigenvalue_from_cholesky,
    spectral_coef,
    spectral_filter,
    warn_if_singular,
)

__all__ = ["EIGH_MAX_N", "JITTER", "check_device_memory", "check_eigh_size",
           "check_gram_memory", "check_memory", "cho_solve_upper",
           "cholesky_upper_inplace", "eigh_lower", "ensemble_covariance",
           "ensemble_variance", "factor_with_jitter", "falkon", "falkon_dask",
           "falkon_pcg", "floor_variance", "flow_map_cholesky", "flow_map_eigh",
           "min_eigenvalue_from_cholesky", "solve_triangular_lower", "spectral_coef",
           "spectral_filter", "sym_norm1_from_lower", "take_rows",
           "warn_if_ill_conditioned", "warn_if_singular", "warn_jitter"]
