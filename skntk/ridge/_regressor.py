"""Kernel ridge regression with the analytic ReLU NTK/NNGP: :class:`NTKRegressor`."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils.compat import fit_context
from ._base import _BaseNTKRidge
from ._dask import decision_dask, fit_dask, is_dask_array
from ._ensemble import POSTERIORS, predictive_spread

__all__ = ["NTKRegressor"]


class NTKRegressor(RegressorMixin, _BaseNTKRidge):
    """Kernel ridge regression with the analytic ReLU NTK or NNGP.

    What an infinitely wide ReLU network predicts after training to
    convergence on the squared loss (``kernel="ntk"``), or the posterior mean
    of its Bayesian counterpart (``kernel="nngp"``); with ``training_time``,
    what gradient-flow training predicts after a finite time.

    ``fit`` computes the Gram matrix once with :func:`skntk.relu_kernel`, adds
    ``alpha`` to the diagonal of its own copy and caches the Cholesky factor
    ``L_`` (or the eigenpairs with ``solver="eigh"``); ``predict`` is one
    kernel block and one matrix product.

    Parameters
    ----------
    alpha : float >= 0, default=1.0
        Ridge added to the Gram's diagonal (the GP noise variance). With 0 the
        fit interpolates; if K is not numerically positive definite, jitter is
        added with a warning naming the amount.
    kernel : {"ntk", "nngp", "precomputed"}, default="ntk"
        The network's kernel, or "precomputed": ``X`` is then the Gram
        matrix at fit and the test-by-train kernel at predict.
    depth : int >= 1, default=1
        Number of hidden layers of the network.
    w_std, b_std : float >= 0, default=1.0, 0.0
        Weight and bias standard deviations (neural-tangents' NTK
        parameterization; see :func:`skntk.relu_kernel`).
    solver : {"auto", "cholesky", "eigh", "nystrom"}, default="auto"
        "cholesky" caches ``L_`` (fastest exact solver); "eigh" caches the
        eigenpairs, which allows ``training_time`` and :meth:`staged_predict`;
        "nystrom" approximates the kernel with ``n_components`` centres
        sampled from the training rows and solves by preconditioned conjugate
        gradients (FALKON), in O(n m) memory, for data whose n x n Gram does
        not fit. "auto" picks "eigh" only when ``training_time`` is set, else
        "cholesky".
    training_time : float >= 0 or None, default=None
        Predict what gradient flow on the loss 0.5 * sum((f - y)**2) / N,
        N = ``y.size`` (neural-tangents' ``predict.gradient_descent_mse``
        convention), reaches at time t = learning_rate x number of full-batch
        steps, starting from f = 0: f_t(x) = k(x, X) K^-1 (I - exp(-t K / N)) y
        (with ``alpha``, K is K + alpha I). None is t = infinity: ridge.
        torch's ``MSELoss`` (no factor 0.5) corresponds to t = 2 x lr x steps.
    n_components : int >= 1, default=1000
        Number of Nyström centres m (solver "nystrom" only). Larger than the
        number of training samples n, it is clamped to n with a warning (as
        :class:`~sklearn.kernel_approximation.Nystroem`); ``n_components_``
        holds the number used.
    tol : float > 0, default=1e-6
        Relative residual at which conjugate gradients stop (solver
        "nystrom" only; at most 500 iterations).
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of Nyström centres (solver "nystrom" only).
    dtype : {None, "float32", "float64"}, default=None
        Precision of the Gram matrix, its factor and the dual weights. None is
        float64. "float32" halves the memory (the Gram of n samples takes
        4 n^2 bytes) and is enough for classification on large data; add a
        larger ``alpha`` if jitter warnings appear. Before allocating, fit
        checks that the Gram fits in the available memory (or the
        ``SKNTK_MAX_MEMORY`` environment variable, e.g. "8GiB") and raises
        MemoryError with the options that would fit otherwise.
    device : {None, "cpu", "cuda", "auto"} or str, default=None
        None: the Gram matrix comes from skntk's CPU engine and is factored
        by LAPACK (the fastest choice on a CPU). A torch device ("cuda",
        "cuda:1", "auto" for CUDA when available, "cpu"): the Gram matrix is
        computed in row blocks and factored with torch on that device, and
        the factor and dual weights are copied back to the host, where
        ``predict`` runs. The device needs memory for two n x n arrays (Gram
        and factor). Only for the Cholesky solver (``training_time=None``);
        torch is imported only then.
    verbose : int, default=0
        If > 0, show a progress bar over the Gram matrix and log the
        factorisation time (to stderr).
    copy_X : bool, default=True
        Store a copy of the training inputs in ``X_fit_`` (as
        :class:`~sklearn.gaussian_process.GaussianProcessRegressor`'s
        ``copy_X_train``), so that later changes to the array passed to
        ``fit`` change no prediction. False keeps a reference to it when it
        is already a C-ordered array of the fit's dtype (writing into it then
        changes the predictions); otherwise a converted copy is stored anyway.
    activation : str, callable or Activation, default="relu"
        The network's activation: "relu", "tanh", "logistic", "identity",
        "erf", "gelu", "leaky_relu", "abs", or an elementwise function on
        torch tensors (see :func:`skntk.ntk_kernel`). ``device`` needs "relu".
    negative_slope : float, default=None
        Slope of "leaky_relu" for x < 0 (``None``: 0.01); only for it.

    Attributes
    ----------
    X_fit_ : ndarray of shape (n_samples, n_features)
        Training inputs, in ``dtype`` (None with kernel="precomputed").
    dual_coef_ : ndarray of shape (n_samples,) or (n_samples, n_targets)
        Weights of the training samples in the prediction.
    L_ : ndarray of shape (n_samples, n_samples) or None
        Lower Cholesky factor of K + (alpha + `jitter_`) I (solver "cholesky").
    jitter_ : float
        Diagonal jitter that had to be added on top of ``alpha`` (usually 0).
    eigenvalues_, eigenvectors_ : ndarray or None
        Eigenpairs of K (solver "eigh"), eigenvalues ascending.
    centers_, support_ : ndarray or None
        Nyström centres and their row indices (solver "nystrom"; then
        ``X_fit_`` is ``centers_`` and ``dual_coef_`` has one row per centre).
    n_iter_ : int or None
        Conjugate gradient iterations (solver "nystrom").
    n_components_ : int or None
        Number of Nyström centres used (solver "nystrom"): ``n_components``,
        or ``n_samples`` (with a warning) when ``n_components`` is larger.
    n_features_in_ : int
        Number of features seen during fit.

    See Also
    --------
    NTKClassifier : The same for class labels.
    NTKRegressorCV : Chooses alpha by efficient leave-one-out.
    skntk.ReluNTK : The same kernel for GaussianProcessRegressor and SVC.

    Examples
    --------
    >>> import numpy as np
    >>> from skntk import NTKRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 3))
    >>> y = np.sin(X[:, 0])
    >>> reg = NTKRegressor(alpha=1e-3, depth=2).fit(X, y)
    >>> round(reg.score(X, y), 3)
    0.998
    >>> mean, std = reg.predict(X[:2] + 0.1, return_std=True)
    >>> std.shape
    (2,)
    >>> early = NTKRegressor(alpha=0.0, depth=2, training_time=5.0).fit(X, y)
    >>> bool(early.score(X, y) < reg.score(X, y))
    True
    >>> # the spread of the wide nets trained for that time (Lee et al. 2019)
    >>> mean, std = early.predict(X[:2] + 0.1, return_std=True, posterior="ensemble")
    >>> bool(np.all(std > 0))
    True
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # few Nyström centres (n_components) may underfit scikit-learn's check data
        tags.regressor_tags.poor_score = self.solver == "nystrom"
        return tags

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Compute the Gram matrix, factor it once and solve for the dual weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or (n_samples, n_samples)
            Training inputs, or their Gram matrix with kernel="precomputed".
            A ``dask.array`` chunked by rows (solver="nystrom" only) is fitted
            on its cluster, block by block (see :ref:`cluster_data`).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            numpy or dask (rechunked to X's row blocks).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights (>= 0): sample i gets ridge alpha / w_i.

        Returns
        -------
        self : NTKRegressor
        """
        if is_dask_array(X):  # solver="nystrom" over the row blocks on a cluster
            coef = fit_dask(self, X, y, sample_weight, classifier=False)
            self.dual_coef_ = coef.ravel() if np.ndim(y) == 1 else coef
            return self
        X, y = validate_data(self, X, y, dtype=self._input_dtypes(), multi_output=True,
                             y_numeric=True, ensure_min_samples=2)
        y2 = np.asarray(y, dtype=np.float64)
        ravel = y2.ndim == 1
        if ravel:
            y2 = y2[:, None]
        coef = self._fit_targets(X, y2, sample_weight, alpha=float(self.alpha))
        self.dual_coef_ = coef.ravel() if ravel else coef
        return self

    def predict(self, X, return_std=False, return_cov=False, posterior="gp"):
        """Predict with the cached dual weights (one kernel block, one GEMM).

        Parameters
        ----------
        X : array-like of shape (n_test, n_features), or (n_test, n_samples)
            Test inputs, or their kernel with the training samples when
            kernel="precomputed". A dask array gives a dask array of
            predictions (one task per row block).
        return_std : bool, default=False
            Also return the predictive standard deviation of ``posterior``
            (the same for every target).
        return_cov : bool, default=False
            Also return the predictive covariance of ``posterior`` among the
            rows of ``X``. At most one of ``return_std`` and ``return_cov``.
        posterior : {"gp", "ensemble"}, default="gp"
            What ``return_std`` / ``return_cov`` describe (the mean is the same):

            - "gp": the Gaussian-process posterior of the fit's kernel
              (noise-free, of the latent function: the closed-form kernel
              minus what the training data explain, from the cached factor).
              Converged fits only (``training_time=None``).
            - "ensemble": the spread of the infinite ensemble of infinitely
              wide networks (``depth``, ``w_std``, ``b_std``) initialised at
              random and trained by gradient flow for ``training_time``
              (None: to convergence) on the fit's loss (Lee et al. 2019, eqs.
              15-16): with K the NNGP and Theta the fit's kernel, T =
              Theta(x, X) Theta^-1 (I - exp(-t Theta / N)) and covariance
              K(x, x') - T K(X, x') - K(x, X) T' + T K(X, X) T'; its mean is
              the prediction. kernel="ntk" is the networks trained in every
              layer, kernel="nngp" those whose readout alone is trained (at
              t=None it is then the GP posterior). The time convention is
              ``training_time``'s: a net trained by full-batch gradient
              descent with learning rate lr on torch's mean squared error
              for s steps is at t = 2 lr s. ``alpha`` enters as in the mean
              (Theta + alpha I drives the flow); the nets correspond to
              alpha=0. Needs the NNGP: not with kernel="precomputed".

        Returns
        -------
        y_pred : ndarray of shape (n_test,) or (n_test, n_targets)
        y_std : ndarray of shape (n_test,), only when return_std is True
        y_cov : ndarray of shape (n_test, n_test), only when return_cov is True
        """
        if is_dask_array(X):
            check_is_fitted(self)
            if return_std or return_cov:
                raise ValueError("return_std and return_cov are not available on a "
                                 "dask array; predict the rows as a numpy array.")
            coef = self.dual_coef_
            return decision_dask(self, X, "predict",
                                 None if coef.ndim == 1 else coef.shape[1])
        X, pred = self._decision(X)
        if return_std or return_cov:
            return pred, predictive_spread(self, X, return_std=return_std,
                                           return_cov=return_cov, posterior=posterior)
        if posterior not in POSTERIORS:
            raise ValueError(f"posterior must be 'gp' or 'ensemble', got "
                             f"{posterior!r}.")
        return pred

    def staged_predict(self, X, training_times):
        """Predictions at several training times from one fit (solver "eigh").

        The kernel block k(x, X) Q is computed once; each time costs one
        small matrix product.

        Parameters
        ----------
        X : array-like of shape (n_test, n_features)
        training_times : iterable of float >= 0 (``numpy.inf`` for convergence)

        Yields
        ------
        y_pred : ndarray of shape (n_test,) or (n_test, n_targets)
            The prediction of :attr:`training_time` = t, for each t in turn.
        """
        for out in self._staged(X, training_times):
            yield out.ravel() if self.dual_coef_.ndim == 1 else out
