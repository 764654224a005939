"""Kernels: the analytic NNGP/NTK of fully connected networks, and only that.

What lives here: the public :func:`relu_kernel` / :func:`relu_kernel_diag`
(input checks, tiling, the closed-form diagonal; ``_relu.py``), the fused numba
recursion they run on (``_engine.py``, loaded on the first kernel call), its
torch twin for the estimators' ``device=`` path (``torch_gram.py``, loaded only
when a device is asked for), and :class:`ReluNTK`, the same kernel as a
scikit-learn :class:`~sklearn.gaussian_process.kernels.Kernel` (``_sklearn.py``).
Every other activation: :func:`ntk_kernel` / :func:`ntk_kernel_diag`
(``_act.py``; ``"relu"`` goes to :func:`relu_kernel`), their numba engine
(``_engine_act.py``: closed forms and the Hermite series, loaded on the first
non-ReLU call) and the series coefficients (``_series.py``).

May import: numpy, scikit-learn's validation helpers, numba (``_engine.py``
and ``_engine_act.py`` only, lazily), torch (``torch_gram.py`` and
``_series.py`` only, lazily) and :mod:`skntk.utils`.
Nothing else in skntk imports numba or the engine: estimators call the public
functions here, and :func:`gram` (``relu_kernel`` plus the options
``lower_only`` and ``progress``, public within the package) and
:func:`gram_act` (the same for a validated non-ReLU activation).
"""

from ._act import gram_act, ntk_kernel, ntk_kernel_diag
from ._relu import MAX_DEPTH, gram, relu_kernel, relu_kernel_diag
from ._sklearn import ReluNTK

__all__ = ["MAX_DEPTH", "ReluNTK", "gram", "gram_act", "ntk_kernel", "ntk_kernel_diag",
           "relu_kernel", "relu_kernel_diag"]
