"""The read-out training of EmpiricalNTKFeatures (``train_steps``).

:class:`_TrainingMixin` holds full-batch gradient descent on the net's loss,
with the step scaled by the mean diagonal of the empirical NTK, written
through the closed-form forward and backward pass of ``_ops.py``. The
estimator (``_features.py``) supplies ``_net``, ``_batches`` and the
parameters ``W_``, ``V_``, ``u_``.
"""

import math

import numpy as np
from scipy.special import expit

from ._ops import _backprop, _NumpyOps

__all__ = []


class _TrainingMixin:
    """``_train(X, y)`` and its loss, gradients and step size."""

    def _loss_grads(self, X, y, batches):
        P = self._net(np.float64)
        n = X.shape[0]
        loss = 0.0
        grads = {"W": np.zeros_like(self.W_), "V": np.zeros_like(self.V_),
                 "u": np.zeros_like(self.u_)}
        for batch in batches:
            Xs, D1, H1s, D2, H2s = _backprop(X[batch], P, _NumpyOps)
            f = H2s @ self.u_
            t = y[batch]
            if self.loss == "squared_error":
                r = f - t
                loss += 0.5 * float(r @ r)
            else:
                loss += float(np.logaddexp(0.0, -t * f).sum())
                r = -t * expit(-t * f)
            grads["u"] += H2s.T @ r
            grads["V"] += (D2 * r[:, None]).T @ H1s
            grads["W"] += (D1 * r[:, None]).T @ Xs
        return loss / n, {name: g / n for name, g in grads.items()}

    def _mean_ntk_diag(self, X, batches):
        P = self._net(np.float64)
        total = 0.0
        for batch in batches:
            Xs, D1, H1s, D2, H2s = _backprop(X[batch], P, _NumpyOps)
            total += float(np.einsum("ij,ij,ik,ik->", D1, D1, Xs, Xs)
                           + np.einsum("ij,ij,ik,ik->", D2, D2, H1s, H1s)
                           + np.einsum("ij,ij->", H2s, H2s))
        return total / X.shape[0]

    def _train(self, X, y):
        batches = list(self._batches(X.shape[0], 8, 3 * sum(self.hidden_layer_sizes)
                                     + X.shape[1]))
        scale = self._mean_ntk_diag(X, batches)
        step = self.learning_rate / scale if scale > 0 else 0.0
        start = (self.W_.copy(), self.V_.copy(), self.u_.copy())
        for i in range(self.train_steps):
            with np.errstate(over="ignore", invalid="ignore"):
                loss, grads = self._loss_grads(X, y, batches)
                self.loss_curve_.append(loss)
                self.W_ -= step * grads["W"]
                self.V_ -= step * grads["V"]
                self.u_ -= step * grads["u"]
            if not (math.isfinite(loss) and all(
                    np.all(np.isfinite(p)) for p in (self.W_, self.V_, self.u_))):
                # never leave a net of inf / NaN behind: back to the initial one
                self.W_, self.V_, self.u_ = start
                self.loss_curve_ = []
                raise ValueError(
                    f"Training diverged at step {i + 1} of train_steps="
                    f"{self.train_steps}: the loss or the parameters are no longer "
                    f"finite (loss {loss:.3g}). Lower learning_rate (got "
                    f"{self.learning_rate!r}; values below 2 are stable for the "
                    "linearised dynamics).")
