"""The NTK/NNGP of any activation as a scikit-learn
:class:`~sklearn.gaussian_process.kernels.Kernel`."""

import math

import numpy as np

from ._act import ntk_kernel, ntk_kernel_diag
from ._sklearn import ReluNTK

__all__ = ["NTK"]

# step of the central differences in log(w_std), log(b_std)
_LOG_STEP = 1e-5


class NTK(ReluNTK):
    """Infinite-width network kernel (NTK or NNGP) of any activation, for scikit-learn.

    :class:`ReluNTK` with an ``activation`` (and ``negative_slope``); values
    from :func:`skntk.ntk_kernel`. For ``activation="relu"`` the gradient is
    :class:`ReluNTK`'s exact one; for the others it is a central difference
    in the log hyperparameters (relative accuracy about 1e-9).

    Parameters
    ----------
    activation : str, callable or Activation, default="relu"
        As in :func:`skntk.ntk_kernel`.
    negative_slope : float, default=None
        Slope of ``"leaky_relu"`` for x < 0 (``None``: 0.01); only for it.
    depth, w_std, b_std, kernel, w_std_bounds, b_std_bounds
        As in :class:`ReluNTK`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.gaussian_process import GaussianProcessRegressor
    >>> from skntk import NTK
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> y = np.sin(X[:, 0])
    >>> gpr = GaussianProcessRegressor(NTK("erf", depth=2, b_std=0.1), alpha=1e-3)
    >>> gpr.fit(X, y).score(X, y) > 0.99
    True
    """

    def __init__(self, activation="relu", negative_slope=None, depth=1, w_std=1.0,
                 b_std=0.0, kernel="ntk", w_std_bounds=(1e-5, 1e5),
                 b_std_bounds=(1e-5, 1e5)):
        self.activation = activation
        self.negative_slope = negative_slope
        super().__init__(depth=depth, w_std=w_std, b_std=b_std, kernel=kernel,
                         w_std_bounds=w_std_bounds, b_std_bounds=b_std_bounds)

    def _act_kw(self):
        kw = self._kw()
        kw.update(activation=self.activation, negative_slope=self.negative_slope)
        return kw

    def __call__(self, X, Y=None, eval_gradient=False):
        """Kernel matrix k(X, Y) and, optionally, its gradient.

        Parameters
        ----------
        X : ndarray of shape (n_samples_X, n_features)
        Y : ndarray of shape (n_samples_Y, n_features), default=None
        eval_gradient : bool, default=False
            Also return the gradient w.r.t. the log of the non-fixed
            hyperparameters (only when Y is None).

        Returns
        -------
        K : ndarray of shape (n_samples_X, n_samples_Y)
        K_gradient : ndarray of shape (n_samples_X, n_samples_X, n_dims)
            Only when ``eval_gradient`` is True.
        """
        if self.activation == "relu" and self.negative_slope is None:
            return super().__call__(X, Y, eval_gradient)
        kw = self._act_kw()
        K = ntk_kernel(X, Y, kernel=self.kernel, **kw)
        if not eval_gradient:
            return K
        if Y is not None:
            raise ValueError("Gradient can only be evaluated when Y is None.")
        grads = []
        for h in self.hyperparameters:
            if h.fixed:
                continue
            value = getattr(self, h.name)
            up, down = (dict(kw, **{h.name: value * math.exp(s * _LOG_STEP)})
                        for s in (1, -1))
            grads.append((ntk_kernel(X, kernel=self.kernel, **up)
                          - ntk_kernel(X, kernel=self.kernel, **down))
                         / (2 * _LOG_STEP))
        n = K.shape[0]
        return K, (np.stack(grads, axis=2) if grads else np.empty((n, n, 0)))

    def diag(self, X):
        """Diagonal of k(X, X) (closed form, or one 1-D expectation per row).

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        K_diag : ndarray of shape (n_samples,)
        """
        return ntk_kernel_diag(X, kernel=self.kernel, **self._act_kw())

    def __repr__(self):
        act = self.activation if isinstance(self.activation, str) else repr(
            self.activation)
        slope = "" if self.negative_slope is None else (
            f", negative_slope={self.negative_slope:g}")
        return (f"NTK(activation={act!r}{slope}, depth={self.depth}, "
                f"w_std={self.w_std:.3g}, b_std={self.b_std:.3g}, "
                f"kernel={self.kernel!r})")
