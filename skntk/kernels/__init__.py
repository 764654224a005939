"""Kernels: the analytic NNGP/NTK of fully connected networks, and only that.

What lives here: the public :func:`relu_kernel` / :func:`relu_kernel_diag`
(input checks, tiling, the closed-form diagonal; ``_relu.py``), the fused numba
recursion they run on (``_engine.py``, loaded on the first kernel call; every
engine function is compiled once, serial, and ``_threads.py`` runs it on ranges
of rows on a pool of Python threads; a symmetric Gram's diagonal blocks are
computed by the ``syrk`` of numpy's own BLAS, called through ctypes,
``_blas.py``), its
torch twin for the estimators' ``device=`` path (``torch_gram.py``, loaded only
when a device is asked for), ``_precompile.py`` (the wheel build compiles the
engines into the package's numba cache with it; see ``setup.py``), and
:class:`ReluNTK`, the same kernel as a scikit-learn
:class:`~sklearn.gaussian_process.kernels.Kernel` (``_sklearn.py``).
Every other activation: :func:`ntk_kernel` / :func:`ntk_kernel_diag`
(``_act.py``; ``"relu"`` goes to :func:`relu_kernel`), their numba engine
(``_engine_act.py``: closed forms and the Hermite series, loaded on the first
non-ReLU call), the series coefficients (``_series.py``) and :class:`NTK`,
:class:`ReluNTK` with an ``activation`` (``_sklearn_act.py``).

May import: numpy, scikit-learn's validation helpers, numba (``_engine.py``
and ``_engine_act.py`` only, lazily), torch (``torch_gram.py`` and
``_series.py`` only, lazily) and :mod:`skntk.utils`.
Nothing else in skntk imports numba or the engine: estimators call the public
functions here, and :func:`gram` (``ntk_kernel`` plus the options
``lower_only`` and ``progress``, public within the package; for ReLU it is
``relu_kernel``'s engine call) and :func:`gram_act` (a validated non-ReLU
activation).
"""

from ._act import gram, gram_act, ntk_kernel, ntk_kernel_diag
from ._relu import MAX_DEPTH, relu_kernel, relu_kernel_diag
from ._sklearn import ReluNTK
from ._sklearn_act import NTK

__all__ = ["MAX_DEPTH", "NTK", "ReluNTK", "gram", "gram_act", "ntk_kernel", "ntk_kernel_diag",
           "relu_kernel", "relu_kernel_diag"]
