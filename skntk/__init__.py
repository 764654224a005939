"""skntk: neural networks and their Neural Tangent Kernel, side by side in scikit-learn."""

from ._ntk import relu_kernel, relu_kernel_diag
from ._version import __version__
from .kernels import ReluNTK

__all__ = ["ReluNTK", "relu_kernel", "relu_kernel_diag", "__version__"]
