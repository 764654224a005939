"""skntk: neural networks and their Neural Tangent Kernel, side by side in scikit-learn.

The kernel functions, ``ReluNTK`` and the kernel ridge estimators load only numpy,
scipy and scikit-learn. The torch-based estimators (``TorchMLPClassifier``,
``TorchMLPRegressor``) and ``EmpiricalNTKFeatures`` are loaded on first access, so
``import skntk`` stays light.
"""

import importlib

from ._version import __version__
from .kernels import (NTK, ReluNTK, ntk_kernel, ntk_kernel_diag, relu_kernel,
                      relu_kernel_diag)

# public name -> subpackage, imported on first attribute access (PEP 562)
_LAZY = {
    "NTKRegressor": ".ridge",
    "NTKClassifier": ".ridge",
    "NTKRegressorCV": ".ridge",
    "NTKClassifierCV": ".ridge",
    "EmpiricalNTKFeatures": ".empirical",
    "TorchMLPClassifier": ".nets",
    "TorchMLPRegressor": ".nets",
    "LearningCurveComparisonDisplay": ".compare",
    "GramSpectrumDisplay": ".compare",
    "AgreementDisplay": ".compare",
    "WidthSweepDisplay": ".compare",
}

__all__ = sorted(["NTK", "ReluNTK", "ntk_kernel", "ntk_kernel_diag", "relu_kernel",
                  "relu_kernel_diag", "__version__", *_LAZY])


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skntk' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
