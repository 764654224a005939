"""Private torch helpers of the network estimators.

Everything here imports torch, so only the modules of ``skntk.nets`` import
this one (``import skntk`` stays free of torch). Contents: the multilayer
perceptron module (standard or NTK parameterization, picklable: no lambdas,
top-level classes), numpy -> tensor conversion that never shares memory with
the user's array, torch's thread count for small work, and the empirical NTK of
a batch, used by the ``max_learning_rate`` diagnostic. Devices and dtypes are
resolved by :mod:`skntk.utils.devices` (a test faking a machine without CUDA
patches ``skntk.utils.devices.cuda_available``, where the resolver looks it up).
"""

import contextlib
import math
import threading

import numpy as np
import torch
from torch import nn

from ..utils.activations import ActivationSpec, check_activation, torch_pair

__all__ = ["MLP", "activation_function", "build_mlp", "empirical_ntk", "n_params",
           "single_thread_if", "to_tensor"]


# Below this many multiply-adds per step (rows x parameters), torch's intra-op
# thread pool costs more than it saves (and much more on a loaded machine), so
# training and inference of such small networks run on one thread.
SMALL_WORK = 1 << 20

_THREADS_LOCK = threading.Lock()
_THREADS_USERS = 0
_THREADS_SAVED = None


@contextlib.contextmanager
def single_thread_if(small):
    """Run torch on one intra-op thread inside the block when ``small``; the
    previous setting is restored when the last such block exits."""
    global _THREADS_USERS, _THREADS_SAVED
    if not small:
        yield
        return
    with _THREADS_LOCK:
        if _THREADS_USERS == 0:
            _THREADS_SAVED = torch.get_num_threads()
            if _THREADS_SAVED != 1:
                torch.set_num_threads(1)
        _THREADS_USERS += 1
    try:
        yield
    finally:
        with _THREADS_LOCK:
            _THREADS_USERS -= 1
            if _THREADS_USERS == 0 and torch.get_num_threads() != _THREADS_SAVED:
                torch.set_num_threads(_THREADS_SAVED)


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def to_tensor(array, dtype, device):
    """A new tensor (never a view of ``array``, which may be read-only)."""
    # torch refuses negative strides (e.g. X[::-1]): make the array contiguous
    return torch.tensor(np.ascontiguousarray(array), dtype=dtype, device=device)


class Dense(nn.Module):
    """h = w_scale * (x @ weight.T) + b_scale * bias.

    Standard parameterization: ``w_scale = b_scale = 1`` (torch's ``nn.Linear``).
    NTK parameterization (neural-tangents' ``stax.Dense``):
    ``w_scale = w_std / sqrt(fan_in)``, ``b_scale = b_std`` with N(0, 1) entries.
    """

    def __init__(self, fan_in, fan_out, w_scale=1.0, b_scale=1.0, dtype=None):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(fan_out, fan_in, dtype=dtype))
        self.bias = nn.Parameter(torch.empty(fan_out, dtype=dtype))
        self.w_scale = float(w_scale)
        self.b_scale = float(b_scale)

    def forward(self, x, weight=None, bias=None):
        weight = self.weight if weight is None else weight
        bias = self.bias if bias is None else bias
        if self.b_scale != 1.0:
            bias = bias * self.b_scale
        if self.w_scale == 1.0:
            return nn.functional.linear(x, weight, bias)
        return torch.add(bias, nn.functional.linear(x, weight), alpha=self.w_scale)

    def extra_repr(self):
        return (f"fan_in={self.weight.shape[1]}, fan_out={self.weight.shape[0]}, "
                f"w_scale={self.w_scale:.4g}, b_scale={self.b_scale:.4g}")


class _WithDerivative(torch.autograd.Function):
    """phi(x) whose backward pass multiplies by the user's derivative dphi(x)
    (a callable activation given with its derivative: training follows the
    same derivative as the diagnostics and the kernel)."""

    generate_vmap_rule = True  # torch.func (vmap, jacrev) can transform it

    @staticmethod
    def forward(x, phi, dphi):
        return phi(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, _, dphi = inputs
        ctx.save_for_backward(x)
        ctx.dphi = dphi

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * ctx.dphi(x), None, None


def activation_function(spec):
    """The hidden layers' activation of ``spec`` as a torch function of a
    tensor; ``None`` for the identity (no operation). Named activations use
    torch's own functions (and their autograd derivatives, which equal
    :func:`~skntk.utils.activations.torch_pair`'s closed forms, kinks included);
    a callable with a derivative back-propagates through that derivative."""
    if spec.name == "identity":
        return None
    phi, dphi = torch_pair(spec)
    if spec.name == "callable" and spec.derivative is not None:
        return lambda x: _WithDerivative.apply(x, phi, dphi)
    return phi


class MLP(nn.Module):
    """[Dense, activation] * len(hidden) + Dense, outputs of shape (n, n_outputs).

    ``activation`` is an :class:`~skntk.utils.activations.ActivationSpec` (a
    name is accepted too, as modules pickled before the spec existed hold);
    its torch function is built on first use and never pickled.
    """

    def __init__(self, layers, activation):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.activation = activation
        self._act_fn = None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_act_fn"] = None  # a closure: rebuilt from the spec on first use
        return state

    @property
    def spec(self):
        """The activation as an ActivationSpec."""
        act = self.activation
        return act if isinstance(act, ActivationSpec) else check_activation(act)

    def act(self):
        """The hidden layers' activation (a torch function, None: identity)."""
        if getattr(self, "_act_fn", None) is None:
            self._act_fn = (activation_function(self.spec),)
        return self._act_fn[0]

    def forward(self, x, params=None, return_preactivations=False):
        """The outputs, shape (n, n_outputs). ``params``: a list of (weight,
        bias) used instead of the stored parameters (e.g. float64 copies for
        inference, leaving the module untouched)."""
        act = self.act()
        pre = []
        last = len(self.layers) - 1
        for k, layer in enumerate(self.layers):
            x = layer(x) if params is None else layer(x, *params[k])
            if return_preactivations:
                pre.append(x)
            if k < last and act is not None:
                x = act(x)
        return (x, pre) if return_preactivations else x

    def cast_params(self, dtype, device):
        """Detached (weight, bias) of every layer in ``dtype`` on ``device``."""
        return [(layer.weight.detach().to(device=device, dtype=dtype),
                 layer.bias.detach().to(device=device, dtype=dtype))
                for layer in self.layers]


def build_mlp(n_features, hidden_layer_sizes, n_outputs, *, activation,
              parameterization, init, w_std, b_std, generator, dtype):
    """A freshly initialised :class:`MLP` on the CPU; draws come from ``generator``.

    - parameterization="ntk": weights and biases N(0, 1), scaled in the forward
      pass by ``w_std / sqrt(fan_in)`` and ``b_std``.
    - parameterization="standard", init="normal": weights N(0, w_std^2 / fan_in),
      biases N(0, b_std^2): the same function at initialisation as "ntk", but
      trained in the usual parameterization.
    - parameterization="standard", init="xavier_normal": weights
      N(0, w_std^2 * 2 / (fan_in + fan_out)) (``nn.init.xavier_normal_`` with
      gain ``w_std``), biases N(0, b_std^2).
    """
    dims = [n_features, *hidden_layer_sizes, n_outputs]
    layers = []
    for fan_in, fan_out in zip(dims[:-1], dims[1:]):
        if parameterization == "ntk":
            layer = Dense(fan_in, fan_out, w_std / math.sqrt(fan_in), b_std,
                          dtype=dtype)
            w_sd, b_sd = 1.0, 1.0
        else:
            layer = Dense(fan_in, fan_out, dtype=dtype)
            if init == "xavier_normal":
                w_sd = w_std * math.sqrt(2.0 / (fan_in + fan_out))
            else:
                w_sd = w_std / math.sqrt(fan_in)
            b_sd = b_std
        with torch.no_grad():
            # draw in float32 on the CPU whatever the dtype and device, so the
            # same random_state gives the same network everywhere
            layer.weight.copy_(torch.randn(fan_out, fan_in, generator=generator) * w_sd)
            layer.bias.copy_(torch.randn(fan_out, generator=generator) * b_sd)
        layers.append(layer)
    return MLP(layers, activation)


def empirical_ntk(module, X):
    """The empirical NTK of ``module`` on the rows of ``X``, float64.

    Returns Theta of shape (n * k, n * k), k = number of outputs, indexed
    sample-major ((i, o) -> i * k + o): Theta[(i, o), (j, p)] = sum over every
    parameter theta of df_o(x_i)/dtheta * df_p(x_j)/dtheta. Computed layer by
    layer without per-sample gradients: for a Dense layer with input a and
    pre-activation h = s_w a W' + s_b b, its share is
    <delta_i, delta_j> (s_w^2 <a_i, a_j> + s_b^2) with delta = df/dh, so one
    forward pass and k backward passes suffice.
    """
    # X requires grad only so that every pre-activation is part of the graph
    X = X.detach().to(torch.float64).requires_grad_(True)
    with torch.enable_grad():
        params = module.cast_params(torch.float64, X.device)
        out, pre = module(X, params, return_preactivations=True)
        inputs = [X]
        act = module.act()
        for h in pre[:-1]:
            inputs.append(h if act is None else act(h))
        n, k = out.shape
        deltas = [[] for _ in pre]
        for o in range(k):
            grads = torch.autograd.grad(out[:, o].sum(), pre, retain_graph=o < k - 1)
            for store, g in zip(deltas, grads):
                store.append(g)
    with torch.no_grad():
        theta = torch.zeros(n * k, n * k, dtype=torch.float64, device=X.device)
        for layer, a, d in zip(module.layers, inputs, deltas):
            D = torch.stack(d, dim=1).reshape(n * k, -1)  # row i * k + o
            a = a.detach()
            G = layer.w_scale ** 2 * (a @ a.T) + layer.b_scale ** 2
            theta += (D @ D.T) * torch.kron(G, torch.ones(k, k, dtype=G.dtype,
                                                          device=G.device))
    return theta, out.detach()
