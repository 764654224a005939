"""Kernel ridge estimators with the analytic NTK/NNGP.

What lives here: :class:`NTKRegressor`, :class:`NTKClassifier` and their
leave-one-out cross-validated variants :class:`NTKRegressorCV`,
:class:`NTKClassifierCV`: exact (Cholesky or eigendecomposition), finite-time
gradient-flow and Nystrom (FALKON) fits, on the host or a torch device.
The shared core, with the fitted state as one immutable ``_Solution``, is
``_base.py``; the estimators are ``_regressor.py``, ``_classifier.py`` and
``_cv.py``; the torch device fit is ``_device.py``; the Nyström fit and the
predictions on Dask arrays are ``_dask.py``.

May import: numpy, scipy, scikit-learn, the public functions of
:mod:`skntk.kernels`, :mod:`skntk.linalg` and :mod:`skntk.utils`. torch only
lazily (``_device.py`` and the kernels' torch twin ``kernels.torch_gram``),
when ``device`` is set; dask only inside the functions of ``_dask.py``, once
a dask array was passed. Never numba,
the engine, the nets or the compare package.
"""

from ._classifier import NTKClassifier
from ._cv import NTKClassifierCV, NTKRegressorCV
from ._regressor import NTKRegressor

__all__ = ["NTKClassifier", "NTKClassifierCV", "NTKRegressor", "NTKRegressorCV"]
