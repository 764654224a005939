"""Kernel ridge estimators with the analytic NTK/NNGP.

What lives here: :class:`NTKRegressor`, :class:`NTKClassifier` and their
leave-one-out cross-validated variants :class:`NTKRegressorCV`,
:class:`NTKClassifierCV`: exact (Cholesky or eigendecomposition), finite-time
gradient-flow and Nystrom (FALKON) fits, on the host or a torch device.

May import: numpy, scipy, scikit-learn, the public functions of
:mod:`skntk.kernels`, :mod:`skntk.linalg` and :mod:`skntk.utils`. torch only
lazily, through the kernels' torch twin, when ``device`` is set. Never numba,
the engine, the nets or the compare package.
"""

from ._ridge import NTKClassifier, NTKClassifierCV, NTKRegressor, NTKRegressorCV

__all__ = ["NTKClassifier", "NTKClassifierCV", "NTKRegressor", "NTKRegressorCV"]
