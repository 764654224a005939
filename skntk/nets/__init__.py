"""Neural networks in torch as scikit-learn estimators.

What lives here: :class:`TorchMLPClassifier` and :class:`TorchMLPRegressor`
(``_mlp.py``), the network side of "net versus NTK", and their torch helpers
(``_torch.py``): the MLP module in the NTK or standard parameterisation,
device and dtype resolution, numpy-to-tensor conversion and the empirical NTK
of a batch.

May import: torch, numpy, scipy, scikit-learn, the public functions of
:mod:`skntk.kernels` and :mod:`skntk.utils`. This package imports torch at
module level, so ``import skntk`` never imports it (the top-level package
loads it on first attribute access). Never the engine, the ridge estimators or
the compare package.
"""

from ._mlp import LearningRateWarning, TorchMLPClassifier, TorchMLPRegressor
from ._torch import DeviceWarning

__all__ = ["DeviceWarning", "LearningRateWarning", "TorchMLPClassifier",
           "TorchMLPRegressor"]
