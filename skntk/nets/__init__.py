"""Neural networks in torch as scikit-learn estimators.

What lives here: :class:`TorchMLPClassifier` (``_classifier.py``) and
:class:`TorchMLPRegressor` (``_regressor.py``), the network side of "net versus
NTK"; the training, inference and checks they share (``_base.py``); the
``max_learning_rate`` stability diagnostic and :class:`LearningRateWarning`
(``_diagnostics.py``); and their torch helpers (``_torch.py``): the MLP module
in the NTK or standard parameterisation, numpy-to-tensor conversion and the
empirical NTK of a batch; scikit-learn's early-stopping rules and the
``sample_weight`` check (``_stopping.py``). Devices and dtypes are resolved by
:mod:`skntk.utils.devices` (:class:`DeviceWarning` is re-exported here), and
inference is chunked by :mod:`skntk.utils.chunks`.

May import: torch, numpy, scipy, scikit-learn, the public functions of
:mod:`skntk.kernels` and :mod:`skntk.utils`. This package imports torch at
module level, so ``import skntk`` never imports it (the top-level package
loads it on first attribute access). Never the engine, the ridge estimators or
the compare package.
"""

from ..utils.devices import DeviceWarning
from ._classifier import TorchMLPClassifier
from ._diagnostics import LearningRateWarning
from ._regressor import TorchMLPRegressor

__all__ = ["DeviceWarning", "LearningRateWarning", "TorchMLPClassifier",
           "TorchMLPRegressor"]
