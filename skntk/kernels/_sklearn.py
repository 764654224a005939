"""The ReLU NTK/NNGP as a scikit-learn :class:`~sklearn.gaussian_process.kernels.Kernel`."""

import numpy as np
from sklearn.gaussian_process.kernels import Hyperparameter, Kernel

from ._relu import relu_kernel, relu_kernel_diag, relu_kernel_with_gradient

__all__ = ["ReluNTK"]


class ReluNTK(Kernel):
    """Infinite-width ReLU network kernel (NTK or NNGP) for scikit-learn.

    Drops into :class:`~sklearn.gaussian_process.GaussianProcessRegressor`,
    :class:`~sklearn.svm.SVC` and :class:`~sklearn.kernel_ridge.KernelRidge`.
    Values come from :func:`skntk.relu_kernel` (see there for the recursion
    and the neural-tangents convention it follows).

    Parameters
    ----------
    depth : int, default=1
        Number of hidden ReLU layers; fixed (not a hyperparameter).
    w_std : float, default=1.0
        Weight standard deviation; a hyperparameter, optimised on a log scale.
    b_std : float, default=0.0
        Bias standard deviation; a hyperparameter. Its log is -inf at 0, so
        ``b_std=0`` is kept fixed: start from a positive value to optimise it.
    kernel : {"ntk", "nngp"}, default="ntk"
        Which kernel of the network.
    w_std_bounds, b_std_bounds : pair of floats >= 0 or "fixed", default=(1e-5, 1e5)
        Bounds for the optimiser; "fixed" freezes the hyperparameter.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.gaussian_process import GaussianProcessRegressor
    >>> from skntk import ReluNTK
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 3))
    >>> y = np.sin(X[:, 0])
    >>> gpr = GaussianProcessRegressor(ReluNTK(depth=2, b_std=0.1), alpha=1e-3)
    >>> gpr.fit(X, y).score(X, y) > 0.99
    True
    """

    def __init__(self, depth=1, w_std=1.0, b_std=0.0, kernel="ntk",
                 w_std_bounds=(1e-5, 1e5), b_std_bounds=(1e-5, 1e5)):
        self.depth = depth
        self.w_std = w_std
        self.b_std = b_std
        self.kernel = kernel
        self.w_std_bounds = w_std_bounds
        self.b_std_bounds = b_std_bounds

    @property
    def hyperparameter_w_std(self):
        fixed = self.w_std == 0
        return Hyperparameter("w_std", "numeric", "fixed" if fixed else self.w_std_bounds)

    @property
    def hyperparameter_b_std(self):
        fixed = self.b_std == 0
        return Hyperparameter("b_std", "numeric", "fixed" if fixed else self.b_std_bounds)

    def _kw(self):
        if self.kernel not in ("ntk", "nngp"):
            raise ValueError(f"kernel must be 'ntk' or 'nngp', got {self.kernel!r}.")
        return dict(depth=self.depth, w_std=self.w_std, b_std=self.b_std)

    def __call__(self, X, Y=None, eval_gradient=False):
        """Kernel matrix k(X, Y) and, optionally, its gradient.

        Parameters
        ----------
        X : ndarray of shape (n_samples_X, n_features)
        Y : ndarray of shape (n_samples_Y, n_features), default=None
            ``None`` evaluates k(X, X).
        eval_gradient : bool, default=False
            Also return the gradient w.r.t. the log of the non-fixed
            hyperparameters (only when Y is None).

        Returns
        -------
        K : ndarray of shape (n_samples_X, n_samples_Y)
        K_gradient : ndarray of shape (n_samples_X, n_samples_X, n_dims)
            Only when ``eval_gradient`` is True.
        """
        kw = self._kw()
        if not eval_gradient:
            return relu_kernel(X, Y, kernel=self.kernel, **kw)
        if Y is not None:
            raise ValueError("Gradient can only be evaluated when Y is None.")
        K, dK = relu_kernel_with_gradient(X, **kw)
        k = 0 if self.kernel == "nngp" else 1
        # in the order of self.hyperparameters (sorted by name: b_std, w_std)
        column = {"w_std": 0, "b_std": 1}
        grads = [dK[:, :, k, column[h.name]] for h in self.hyperparameters
                 if not h.fixed]
        n = K.shape[0]
        return K[:, :, k], (np.stack(grads, axis=2) if grads else np.empty((n, n, 0)))

    def diag(self, X):
        """Diagonal of k(X, X) in closed form.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        K_diag : ndarray of shape (n_samples,)
        """
        return relu_kernel_diag(X, kernel=self.kernel, **self._kw())

    def is_stationary(self):
        """Returns False: the kernel depends on the norms of the inputs."""
        return False

    def __repr__(self):
        return (f"{type(self).__name__}(depth={self.depth}, w_std={self.w_std:.3g}, "
                f"b_std={self.b_std:.3g}, kernel={self.kernel!r})")
