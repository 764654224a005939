"""The ridge estimators' diagnostics read from the cached fit:
:meth:`gram_min_eigenvalue` and :meth:`generalization_bound` (a mixin of
:class:`skntk.ridge._base._BaseNTKRidge`, split from it by concern)."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..linalg import min_eigenvalue_from_cholesky

__all__ = ["DiagnosticsMixin"]


class DiagnosticsMixin:
    """Diagnostics of a fitted ridge estimator (``_solution``, ``L_``,
    ``eigenvalues_``, ``jitter_``)."""

    def gram_min_eigenvalue(self):
        """Smallest eigenvalue of the (weighted) training Gram matrix K.

        Read from the cached factorisation, without recomputing the Gram: free
        with ``solver="eigh"``; with Cholesky, a Lanczos iteration on
        (K + alpha I)^-1 applied through two triangular solves per step.

        Returns
        -------
        float
        """
        check_is_fitted(self)
        sol = self._solution
        if sol.kind == "nystrom":
            raise ValueError("gram_min_eigenvalue needs the exact Gram matrix; "
                             "solver='nystrom' never forms it.")
        if sol.kind == "eigh":
            return float(self.eigenvalues_[0])
        # L_.T: the Fortran-ordered upper factor
        return min_eigenvalue_from_cholesky(self.L_.T, sol.alpha, self.jitter_)

    def generalization_bound(self):
        """sqrt(y' (K + alpha I)^-1 y / n) per target, from the cached solve.

        With ``alpha=0`` this is the bound of the seed notebook (Arora et al.,
        2019: the population loss of a wide two-layer net trained by gradient
        descent scales with it). Computed at fit time from ``dual_coef_``.

        Returns
        -------
        float or ndarray of shape (n_targets,)
        """
        check_is_fitted(self)
        sol = self._solution
        if sol.y_kinv_y is None:
            raise ValueError("generalization_bound needs the converged exact "
                             "solution (no finite training time, not "
                             "solver='nystrom').")
        b = np.sqrt(np.maximum(sol.y_kinv_y, 0.0) / sol.n_train)
        return float(b[0]) if b.shape == (1,) else b
