"""The activation of EmpiricalNTKFeatures' net on numpy arrays.

:func:`numpy_pair` is the numpy twin of
:func:`skntk.utils.activations.torch_pair`: the activation, applied in place
where it can (its argument is a fresh pre-activation the caller owns), and its
derivative as a float array of the argument's dtype (ReLU: ``(a > 0)`` cast to
float), the ``D_l = phi'(a_l)`` of the closed-form backward pass. The named
activations are numpy / scipy ufuncs; a callable (a function of torch tensors)
runs on a zero-copy torch view of the array, torch imported only then.
"""

import math

import numpy as np
from scipy.special import erf, expit, ndtr

from ..utils.activations import torch_pair

__all__ = ["numpy_pair"]

_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _relu(a):
    return np.maximum(a, 0, out=a)


def _relu_d(a):
    return (a > 0).astype(a.dtype)


def _tanh_d(a):
    t = np.tanh(a)
    return np.subtract(1, t * t, out=t)


def _logistic_d(a):
    s = expit(a)
    return np.multiply(s, 1 - s, out=s)


def _identity(a):
    return a


def _erf_d(a):
    return (2.0 / math.sqrt(math.pi)) * np.exp(-a * a)


def _gelu(a):
    return np.multiply(a, ndtr(a), out=a)


def _gelu_d(a):
    return ndtr(a) + a * (np.exp(-0.5 * a * a) / _SQRT_2PI)


def _torch_on_numpy(function):
    """A torch function of tensors as a function of numpy arrays (same dtype)."""
    import torch

    def apply(a):
        with torch.no_grad():
            out = function(torch.from_numpy(a))
        return np.asarray(out.detach().numpy(), dtype=a.dtype)

    return apply


def numpy_pair(spec):
    """``(phi_, dphi)`` of an ActivationSpec for numpy arrays: ``phi_(a)``
    may overwrite ``a``, so ``dphi(a)`` is taken first.

    Examples
    --------
    >>> import numpy as np
    >>> from skntk.utils.activations import check_activation
    >>> phi, dphi = numpy_pair(check_activation("relu"))
    >>> a = np.array([-1.0, 2.0])
    >>> dphi(a), phi(a)
    (array([0., 1.]), array([0., 2.]))
    """
    name = spec.name
    if name == "relu":
        return _relu, _relu_d
    if name == "tanh":
        return (lambda a: np.tanh(a, out=a)), _tanh_d
    if name == "logistic":
        return (lambda a: expit(a, out=a)), _logistic_d
    if name == "identity":
        return _identity, np.ones_like
    if name == "erf":
        return (lambda a: erf(a, out=a)), _erf_d
    if name == "gelu":
        return _gelu, _gelu_d
    if name == "leaky_relu":
        slope = spec.negative_slope
        return ((lambda a: np.where(a > 0, a, slope * a).astype(a.dtype, copy=False)),
                lambda a: np.where(a > 0, 1.0, slope).astype(a.dtype))
    if name == "abs":
        return (lambda a: np.abs(a, out=a)), np.sign
    if name == "callable":
        phi, dphi = torch_pair(spec)
        return _torch_on_numpy(phi), _torch_on_numpy(dphi)
    raise ValueError(f"unknown activation spec {spec!r}")
