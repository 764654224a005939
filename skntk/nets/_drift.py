"""Lazy-training diagnostics of the network estimators: how far training moves
the parameters and the network's own tangent kernel (``record_drift=True``).

After each epoch, relative to the reference network (the initialisation of a
fresh fit):

- ``weight_change_``: ``||theta_t - theta_0|| / ||theta_0||`` over all the
  trained parameters (the N(0, 1) variables of parameterization="ntk");
- ``ntk_change_``: ``||Theta_t - Theta_0||_F / ||Theta_0||_F``, Theta the
  empirical NTK on a fixed probe batch, summed over the output units
  (``Theta[i, j] = sum_o <df_o(x_i)/dtheta, df_o(x_j)/dtheta>``, a
  ``(m, m)`` matrix for m probe rows: the trace of the full
  ``(m k) x (m k)`` kernel over the k outputs).

The kernel is computed in closed form, layer by layer, without autograd: for a
Dense layer ``h = s_w a W' + s_b b`` its share of Theta is
``(D D') * (s_w^2 a a' + s_b^2)`` with ``D`` the derivatives of the outputs
with respect to ``h`` (stacked over the outputs), propagated backwards with
the activation's derivative from :func:`skntk.utils.activations.torch_pair`.
In the NTK parameterisation both quantities fall as ``1 / sqrt(width)`` at a
fixed learning rate (the lazy regime).
"""

import math

import numpy as np
import torch

from ..utils.activations import ActivationSpec, check_activation, torch_pair

__all__ = ["DriftRecorder", "probe_ntk", "probe_rows", "start_drift"]


def _activation_derivative(module):
    act = module.activation
    if act is None:
        return None
    if not isinstance(act, ActivationSpec):
        act = check_activation(act, getattr(module, "negative_slope", None))
    if act.name == "identity":
        return None
    return torch_pair(act)


def probe_ntk(module, X, input_gram=None):
    """The empirical NTK of ``module`` on the rows of ``X``, summed over the
    output units: ``(m, m)``, in X's dtype and on its device.

    ``input_gram``: ``X X'``, when the caller has it (the probe is fixed).

    Closed form (one forward pass, no autograd): the derivatives ``delta_l``
    of the k outputs with respect to each layer's pre-activation are
    propagated backwards as ``delta_l = (delta_{l+1} s_w W_{l+1}) phi'(h_l)``,
    and layer l contributes ``(D_l D_l') * (s_w^2 a a' + s_b^2)`` with
    ``D_l`` of shape (m, k * width_l).
    """
    pair = _activation_derivative(module)
    phi, dphi = pair if pair is not None else (None, None)
    layers = module.layers
    params = [(layer.weight.detach().to(X.dtype), layer.bias.detach().to(X.dtype))
              for layer in layers]
    with torch.no_grad():
        inputs, slopes = [X], []
        a = X
        for k, (layer, (W, b)) in enumerate(zip(layers, params)):
            h = layer.w_scale * (a @ W.T) + layer.b_scale * b
            if k < len(layers) - 1:
                if phi is None:
                    slopes.append(None)
                    a = h
                else:
                    slopes.append(dphi(h))
                    a = phi(h)
                inputs.append(a)
        m = X.shape[0]
        n_out = params[-1][0].shape[0]
        # the last layer: df_o/dh_o = 1, sum over o of <e_o, e_o> = k
        last = layers[-1]
        a = inputs[-1]
        theta = n_out * (last.w_scale ** 2 * (a @ a.T) + last.b_scale ** 2)
        if len(layers) == 1:
            return theta
        # the last hidden layer: delta[i, o, h] = s_w W[o, h] phi'(h_i)[h], so
        # the sum over o of <delta_i,o, delta_j,o> is sum_h c_h phi'_i[h]
        # phi'_j[h] with c_h = s_w^2 sum_o W[o, h]^2: m^2 width work instead
        # of m^2 k width, and no (m, k, width) tensor for one hidden layer
        W_last = last.w_scale * params[-1][0]
        k = len(layers) - 2
        c = (W_last * W_last).sum(dim=0)
        slope = slopes[k]
        if slope is None:
            G = c.sum().expand(m, m)
        else:
            G = (slope * c) @ slope.T
        theta += G * (layers[k].w_scale ** 2 * _gram(inputs[k], k, input_gram)
                      + layers[k].b_scale ** 2)
        if k == 0:
            return theta
        # earlier layers: the derivatives (m, k, width) propagated backwards
        delta = W_last.expand(m, -1, -1)
        if slope is not None:
            delta = delta * slope[:, None, :]
        delta = delta @ (layers[k].w_scale * params[k][0])
        for k in range(len(layers) - 3, -1, -1):
            if slopes[k] is not None:
                delta = delta * slopes[k][:, None, :]
            D = delta.reshape(m, -1)
            layer = layers[k]
            theta += (D @ D.T) * (layer.w_scale ** 2 * _gram(inputs[k], k, input_gram)
                                  + layer.b_scale ** 2)
            if k > 0:
                delta = delta @ (layer.w_scale * params[k][0])
    return theta


def _gram(a, k, input_gram):
    return input_gram if k == 0 and input_gram is not None else a @ a.T


def probe_rows(n_samples, size):
    """``size`` row indices spread evenly through ``n_samples`` rows
    (``i * n_samples // size``), no random draw (so recording does not change
    the training's random stream)."""
    return np.arange(size) * n_samples // size


def _flat_params(module, dtype):
    return torch.cat([p.detach().reshape(-1).to(dtype) for p in module.parameters()])


class DriftRecorder:
    """The reference (theta_0, the probe batch, Theta_0) and the values
    recorded so far; ``record(module)`` appends one epoch's values."""

    def __init__(self, module, X_probe):
        # the kernel in the training dtype (float32 halves its cost; its
        # rounding, ~1e-6 relative, is far below the drifts measured), the
        # weight change in float64 (it costs one pass over the parameters)
        self.probe = X_probe.detach().clone()
        self.gram = self.probe @ self.probe.T
        self.theta0 = _flat_params(module, torch.float64)
        self.theta0_norm = float(torch.linalg.vector_norm(self.theta0))
        self.ntk0 = probe_ntk(module, self.probe, self.gram)
        self.ntk0_norm = float(torch.linalg.matrix_norm(self.ntk0))
        self.weight_change = []
        self.ntk_change = []

    def to(self, device):
        self.probe = self.probe.to(device)
        self.gram = self.gram.to(device)
        self.theta0 = self.theta0.to(device)
        self.ntk0 = self.ntk0.to(device)
        return self

    def record(self, module):
        # inference mode: no version counters or autograd bookkeeping on the
        # ~25 small ops (measured 0.47-0.57 -> 0.35-0.38 ms a record at n=500)
        with torch.inference_mode():
            theta = _flat_params(module, torch.float64)
            dw = float(torch.linalg.vector_norm(theta - self.theta0))
            ntk = probe_ntk(module, self.probe, self.gram)
            dk = float(torch.linalg.matrix_norm(ntk - self.ntk0))
        self.weight_change.append(dw / self.theta0_norm if self.theta0_norm > 0
                                  else np.inf if dw > 0 else 0.0)
        self.ntk_change.append(dk / self.ntk0_norm if self.ntk0_norm > 0
                               else np.inf if dk > 0 else 0.0)

    def store(self, estimator):
        """Set the fitted attributes; keep the reference (on the CPU) for a
        continued fit."""
        estimator.weight_change_ = np.asarray(self.weight_change, dtype=np.float64)
        estimator.ntk_change_ = np.asarray(self.ntk_change, dtype=np.float64)
        estimator._drift = self.to("cpu")


# "auto" keeps the probe kernel's estimated multiply-adds under this fraction
# of an epoch's (measured: the recording then costs 0-15% of a fit's time)
_AUTO_COST = 0.05


def probe_size(drift_probe_size, n, shapes=None, n_outputs=1):
    """Rows of the probe batch for ``n`` training rows.

    "auto" is ``min(n, max(32, min(256, n // 32)))`` rows, and, when the
    layers' weight ``shapes`` (out, in) are given, fewer where the probe
    kernel's estimated cost would exceed ``_AUTO_COST`` of an epoch's (deep or
    wide nets with many outputs on few rows), but never fewer than
    ``min(n, 32)``. An integer larger than n is refused."""
    if drift_probe_size == "auto":
        size = min(n, max(32, min(256, n // 32)))
        if shapes:
            size = max(min(n, 32), min(size, _affordable_rows(n, shapes, n_outputs)))
        return size
    if drift_probe_size > n:
        raise ValueError(
            f"drift_probe_size={drift_probe_size} is larger than the number of "
            f"training rows ({n}); use at most {n}, or drift_probe_size='auto'.")
    return int(drift_probe_size)


def _affordable_rows(n, shapes, n_outputs):
    """The largest probe m with ``a m + b m^2 <= _AUTO_COST * 3 n P``
    multiply-adds (P weights: an epoch's forward and backward passes are
    about 3 n P): ``a m`` is the probe's forward pass and the propagation of
    the k outputs' derivatives through the hidden-to-hidden layers, ``b m^2``
    the layers' input Grams and the ``(m, m)`` products of ``probe_ntk``."""
    weights = sum(o * i for o, i in shapes)
    hidden = shapes[1:-1]  # (w_{l+1}, w_l) of the hidden-to-hidden layers
    k = n_outputs
    a = weights + k * sum(o * i for o, i in hidden)
    b = sum(i for _, i in shapes) + shapes[-1][1] + k * sum(i for _, i in hidden)
    budget = _AUTO_COST * 3 * n * weights
    return int((-a + math.sqrt(a * a + 4 * b * budget)) / (2 * b))


def start_drift(estimator, module, Xt, first_pass):
    """The recorder of this fit, or None when ``record_drift`` is False (and
    then any earlier record is dropped: it would have gaps).

    A fresh fit takes the current (initial) network as the reference and the
    probe from its training rows; a continued fit (``warm_start``,
    ``partial_fit``) appends to the earlier record with its reference, or, if
    the previous fit did not record, starts one from the current network."""
    if not estimator.record_drift:
        for name in ("weight_change_", "ntk_change_", "_drift"):
            vars(estimator).pop(name, None)
        return None
    recorder = None if first_pass else vars(estimator).get("_drift")
    if recorder is None:
        n = Xt.shape[0]
        shapes = [tuple(layer.weight.shape) for layer in module.layers]
        size = probe_size(estimator.drift_probe_size, n, shapes, shapes[-1][0])
        rows = torch.as_tensor(probe_rows(n, size), device=Xt.device)
        recorder = DriftRecorder(module, Xt[rows])
    return recorder.to(Xt.device)
