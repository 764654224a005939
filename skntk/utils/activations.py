"""One vocabulary of activations for the kernels, the ridge estimators and the nets.

Every ``activation=`` parameter in skntk takes the same values: one of
:data:`NAMES` (scikit-learn's names first: ``"relu"``, ``"tanh"``,
``"logistic"``, ``"identity"``, then ``"erf"``, ``"gelu"`` (exact,
``x * Phi(x)``), ``"leaky_relu"`` and ``"abs"``), or a user-supplied
elementwise function, plain or wrapped in :class:`Activation` to give its
derivative. ``negative_slope`` is the slope of ``"leaky_relu"`` for ``x < 0``
(torch's name and default, 0.01) and is refused for every other activation.

:func:`check_activation` turns the pair into one frozen :class:`ActivationSpec`
that each side (the analytic kernels, the torch nets, the empirical features)
dispatches on; :func:`torch_pair` gives the torch function and its derivative
(closed forms for the named activations, the user's derivative or torch
autograd for a callable). torch is imported inside functions only.
"""

import math
from dataclasses import dataclass
from numbers import Real

__all__ = ["Activation", "ActivationSpec", "DEFAULT_NEGATIVE_SLOPE", "NAMES",
           "check_activation", "check_elementwise", "torch_pair"]

NAMES = ("relu", "tanh", "logistic", "identity", "erf", "gelu", "leaky_relu", "abs")
DEFAULT_NEGATIVE_SLOPE = 0.01


class Activation:
    """A user-supplied elementwise activation, optionally with its derivative.

    Parameters
    ----------
    function : callable
        Maps a :class:`torch.Tensor` to a tensor of the same shape, elementwise
        (e.g. ``torch.sin`` or ``lambda x: x * torch.sigmoid(x)``).
    derivative : callable, default=None
        Its derivative, elementwise on tensors; ``None`` derives it with torch
        autograd.
    name : str, default=None
        Shown in reprs and reports; defaults to the function's ``__name__``.

    Examples
    --------
    >>> import torch
    >>> from skntk.utils.activations import Activation
    >>> Activation(torch.sin, torch.cos)
    Activation(sin)
    """

    def __init__(self, function, derivative=None, name=None):
        self.function = function
        self.derivative = derivative
        self.name = name

    def __repr__(self):
        return f"Activation({self._label()})"

    def _label(self):
        if self.name is not None:
            return str(self.name)
        return getattr(self.function, "__name__", type(self.function).__name__)

    def __eq__(self, other):
        return (isinstance(other, Activation) and self.function is other.function
                and self.derivative is other.derivative and self.name == other.name)

    def __hash__(self):
        return hash((id(self.function), id(self.derivative), self.name))


@dataclass(frozen=True)
class ActivationSpec:
    """A validated activation: ``name`` is one of :data:`NAMES` or
    ``"callable"``; ``negative_slope`` is set for ``"leaky_relu"`` only;
    ``function``/``derivative`` are set for ``"callable"`` only
    (``derivative`` may still be ``None``: autograd)."""

    name: str
    negative_slope: float = None
    function: object = None
    derivative: object = None

    @property
    def label(self):
        """A short human-readable name (``"leaky_relu(0.1)"``, ``"sin"``)."""
        if self.name == "leaky_relu":
            return f"leaky_relu({self.negative_slope:g})"
        if self.name == "callable":
            return Activation(self.function, name=None)._label()
        return self.name


def check_activation(activation, negative_slope=None, *, param="activation",
                     slope_param="negative_slope"):
    """Validate an ``activation`` (and ``negative_slope``) parameter pair.

    Parameters
    ----------
    activation : str, callable or Activation
        One of :data:`NAMES`, an elementwise callable on torch tensors, or an
        :class:`Activation`.
    negative_slope : float, default=None
        The slope of ``"leaky_relu"`` for negative inputs (``None``: 0.01).
        Any other activation refuses a value.
    param, slope_param : str
        The parameter names used in error messages.

    Returns
    -------
    spec : ActivationSpec

    Examples
    --------
    >>> check_activation("leaky_relu", 0.2)
    ActivationSpec(name='leaky_relu', negative_slope=0.2, function=None, derivative=None)
    >>> check_activation("tanh").name
    'tanh'
    """
    if isinstance(activation, str):
        if activation not in NAMES:
            raise ValueError(
                f"{param} must be one of {', '.join(map(repr, NAMES))} or an "
                f"elementwise callable, got {activation!r}.")
        if activation == "leaky_relu":
            slope = DEFAULT_NEGATIVE_SLOPE if negative_slope is None else negative_slope
            if (isinstance(slope, bool) or not isinstance(slope, Real)
                    or not math.isfinite(slope)):
                raise ValueError(
                    f"{slope_param} must be a finite real number, got {slope!r}.")
            return ActivationSpec("leaky_relu", negative_slope=float(slope))
        if negative_slope is not None:
            raise ValueError(
                f"{slope_param}={negative_slope!r} applies to "
                f"{param}='leaky_relu' only; {param}={activation!r} has no slope. "
                f"Leave {slope_param}=None.")
        return ActivationSpec(activation)
    if negative_slope is not None:
        raise ValueError(
            f"{slope_param} applies to {param}='leaky_relu' only, not to a callable "
            f"{param}; leave {slope_param}=None.")
    if isinstance(activation, Activation):
        function, derivative = activation.function, activation.derivative
        if not callable(function):
            raise ValueError(f"{param}.function must be callable, got {function!r}.")
        if derivative is not None and not callable(derivative):
            raise ValueError(
                f"{param}.derivative must be callable or None, got {derivative!r}.")
        return ActivationSpec("callable", function=function, derivative=derivative)
    if callable(activation):
        return ActivationSpec("callable", function=activation)
    raise ValueError(
        f"{param} must be one of {', '.join(map(repr, NAMES))}, an elementwise "
        f"callable or an Activation, got {activation!r}.")


def _gelu_derivative(x):
    import torch

    cdf = 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))
    pdf = torch.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
    return cdf + x * pdf


def torch_pair(spec):
    """``(phi, dphi)``: the activation and its derivative as elementwise torch
    functions (the derivative at a kink is the right-hand one's convention of
    torch: ``relu'(0) = 0``, ``abs'(0) = 0``).

    A callable's derivative is the user's, or torch autograd's when ``None``.

    Examples
    --------
    >>> import torch
    >>> phi, dphi = torch_pair(check_activation("tanh"))
    >>> float(dphi(torch.tensor(0.0)))
    1.0
    """
    import torch
    import torch.nn.functional as F

    name = spec.name
    if name == "relu":
        return torch.relu, lambda x: (x > 0).to(x.dtype)
    if name == "tanh":
        return torch.tanh, lambda x: 1.0 - torch.tanh(x) ** 2
    if name == "logistic":
        def dsig(x):
            s = torch.sigmoid(x)
            return s * (1.0 - s)
        return torch.sigmoid, dsig
    if name == "identity":
        return (lambda x: x), torch.ones_like
    if name == "erf":
        return torch.erf, lambda x: (2.0 / math.sqrt(math.pi)) * torch.exp(-x * x)
    if name == "gelu":
        return (lambda x: F.gelu(x, approximate="none")), _gelu_derivative
    if name == "leaky_relu":
        a = spec.negative_slope
        return ((lambda x: F.leaky_relu(x, a)),
                lambda x: torch.where(x > 0, torch.ones_like(x), torch.full_like(x, a)))
    if name == "abs":
        return torch.abs, torch.sign
    if name == "callable":
        function, derivative = spec.function, spec.derivative
        if derivative is None:
            def derivative(x):
                with torch.enable_grad():
                    z = x.detach().requires_grad_(True)
                    (g,) = torch.autograd.grad(function(z).sum(), z)
                return g
        return function, derivative
    raise ValueError(f"unknown activation spec {spec!r}")


def check_elementwise(spec, *, param="activation"):
    """Refuse a callable activation that is not elementwise or not finite on
    a probe grid; named activations pass. Returns ``spec``.

    Examples
    --------
    >>> import torch
    >>> check_elementwise(check_activation(torch.sin)).name
    'callable'
    """
    if spec.name != "callable":
        return spec
    import torch

    phi, dphi = torch_pair(spec)
    x = torch.arange(-100, 101, dtype=torch.float64) / 10.0  # holds 0 exactly
    for what, f in (("function", phi), ("derivative", dphi)):
        try:
            y = f(x)
            part = f(x.flip(0))
        except Exception as exc:  # the user's code failed on a tensor
            raise ValueError(
                f"{param}'s {what} failed on a float64 torch tensor of shape (201,): "
                f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(y, torch.Tensor) or tuple(y.shape) != tuple(x.shape):
            raise ValueError(
                f"{param}'s {what} must map a tensor to a tensor of the same shape "
                f"(elementwise); got {type(y).__name__} "
                f"{tuple(getattr(y, 'shape', ()))} for input shape (201,).")
        y = y.detach()
        if not torch.isfinite(y).all():
            raise ValueError(
                f"{param}'s {what} returned non-finite values on [-10, 10].")
        if not torch.allclose(part.detach().flip(0), y, rtol=1e-12, atol=1e-12):
            raise ValueError(
                f"{param}'s {what} is not elementwise: reversing its input does not "
                "reverse its output.")
    return spec

