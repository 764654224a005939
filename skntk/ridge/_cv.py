"""Leave-one-out model selection from one eigendecomposition (the RidgeCV way):
:class:`NTKRegressorCV` and :class:`NTKClassifierCV`."""

import math
from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils.validation import validate_data

from ..linalg import check_eigh_size, spectral_coef, spectral_filter, warn_if_singular
from ..utils.compat import Interval, StrOptions, check_sample_weight, fit_context
from ._base import _BaseNTKRidge, _Solution
from ._classifier import _ClassifierMixinNTK

__all__ = ["NTKClassifierCV", "NTKRegressorCV"]


class _BaseNTKRidgeCV(_BaseNTKRidge):
    _parameter_constraints: dict = {
        key: value for key, value in _BaseNTKRidge._parameter_constraints.items()
        if key not in ("alpha", "solver", "training_time", "dtype", "device", "verbose")
    }
    _parameter_constraints.update(
        alphas=["array-like", Interval(Real, 0, None, closed="neither")],
        training_times=[None, "array-like"],
        store_cv_results=["boolean"],
    )  # copy_X comes with the base's constraints
    # class-level: the CV estimators always use the eigen solver, converged,
    # in float64 (leave-one-out residuals divide by small numbers)
    solver = "eigh"
    training_time = None
    dtype = None
    device = None
    verbose = 0

    def __init__(self, alphas=(1e-3, 1e-2, 1e-1, 1.0, 10.0), *, training_times=None,
                 kernel="ntk", depth=1, w_std=1.0, b_std=0.0, store_cv_results=False,
                 copy_X=True, activation="relu", negative_slope=None):
        self.alphas = alphas
        self.activation = activation
        self.negative_slope = negative_slope
        self.training_times = training_times
        self.kernel = kernel
        self.depth = depth
        self.w_std = w_std
        self.b_std = b_std
        self.store_cv_results = store_cv_results
        self.copy_X = copy_X

    def _memory_options(self, dtype):
        return ("Options: fewer training samples, NTKRegressor/NTKClassifier "
                "with dtype='float32' or solver='nystrom', or SKNTK_MAX_MEMORY "
                "if the estimate is wrong for this machine.")

    def _check_finite_hyper(self):
        for name in ("w_std", "b_std"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite, got {getattr(self, name)!r}.")

    def _alpha_grid(self):
        alphas = np.atleast_1d(np.asarray(self.alphas, dtype=np.float64))
        if alphas.ndim != 1 or alphas.size == 0 or not np.all(np.isfinite(alphas)) \
                or np.any(alphas <= 0):
            raise ValueError("alphas must be a non-empty 1-d list of finite values "
                             f"> 0, got {self.alphas!r}.")
        return alphas

    @staticmethod
    def _row_blocks(n, rows=1024):
        return [slice(i, min(n, i + rows)) for i in range(0, n, rows)]

    def _time_grid(self):
        if self.training_times is None:
            return None
        times = np.atleast_1d(np.asarray(self.training_times, dtype=np.float64))
        if times.ndim != 1 or times.size == 0 or np.any(np.isnan(times)) \
                or np.any(times < 0):
            raise ValueError("training_times must be None or a non-empty 1-d list of "
                             f"values >= 0 (inf allowed), got {self.training_times!r}.")
        return times

    def _loo_fit(self, X, Y, score_fn, sample_weight=None):
        """Eigendecompose K once; LOO residuals for every alpha; keep the best.

        For ridge, the leave-one-out residual of sample i is c_i / G_ii with
        c = G y and G = (K + alpha I)^-1 = Q diag(1 / (lambda + alpha)) Q',
        so each alpha costs O(n^2), after one O(n^3) eigendecomposition.

        With sample weights w (as RidgeCV): weighted ridge is plain ridge on
        the sqrt(w)-scaled problem, K~ = S K S and y~ = S y with
        S = diag(sqrt(w)) (its dual weights are S^-1 times the original ones,
        its fit at sample i is sqrt(w_i) f(x_i)), and removing sample i from
        it is the weighted fit on the other n - 1 samples. So c~_i / G~_ii is
        sqrt(w_i) (y_i - f_{-i}(x_i)), with f_{-i} that refit: ``score_fn``
        gets these scaled residuals (squared: w_i times the squared
        leave-one-out residual) and sqrt(w).
        """
        self._start_fit()
        alphas = self._alpha_grid()
        times = self._time_grid()
        n = X.shape[0]
        self._check_kernel_scale(X)
        sw = None
        if sample_weight is not None:
            sw = np.sqrt(check_sample_weight(sample_weight, X, dtype=np.float64,
                                             ensure_non_negative=True))
        self.X_fit_ = self._store_X(X)
        check_eigh_size(n)
        lam, Q = self._eigh(self._weighted_gram(X, sw, copies=3))
        Ys = Y if sw is None else Y * sw[:, None]
        Qty = Q.T @ Ys
        if times is not None:
            return self._gcv_fit(Ys, lam, Q, Qty, alphas, times, sw)
        self.training_time_ = None
        scores, errors = [], []
        for alpha in alphas:
            g = spectral_filter(lam, alpha, None, 1)
            coef = Q @ (g[:, None] * Qty)
            G_diag = np.concatenate([(Q[r] ** 2) @ g for r in self._row_blocks(n)])
            resid = coef / G_diag[:, None]  # sqrt(w_i) (y_i - LOO prediction of i)
            scores.append(score_fn(Y, resid, sw))
            errors.append(resid**2)
        scores_arr = np.asarray(scores)
        ties = np.flatnonzero(scores_arr == scores_arr.max())
        best = int(ties[np.argmin(alphas[ties])])  # ties go to the smallest alpha
        self.alpha_ = float(alphas[best])
        self.best_score_ = float(scores[best])
        if self.store_cv_results:
            cv = np.stack(errors, axis=-1)  # (n, k, n_alphas)
            self.cv_results_ = cv[:, 0, :] if Y.shape[1] == 1 else cv
        warn_if_singular(lam, self.alpha_)
        return self._final_coef(Ys, lam, Q, Qty, None, sw)

    def _final_coef(self, Ys, lam, Q, Qty, t, sw):
        """Dual weights of the chosen (alpha_, t) from the eigenpairs of the
        scaled problem, and the _Solution predict reads."""
        n_outputs_total = Ys.shape[1] * (Ys.shape[0] if sw is None else float(sw @ sw))
        coef = spectral_coef(lam, Q, Qty, self.alpha_, t, n_outputs_total)
        self._solution = _Solution(
            kind="eigh", alpha=self.alpha_, n_train=Ys.shape[0], training_time=t,
            n_outputs_total=n_outputs_total, sqrt_sw=sw, Qty=Qty,
            y_kinv_y=np.einsum("ij,ij->j", Ys, coef) if t is None else None)
        if sw is not None:
            coef *= sw[:, None]
        return coef

    def _gcv_fit(self, Ys, lam, Q, Qty, alphas, times, sw):
        """Generalized cross-validation over the (alpha, training time) grid.

        The fitted values of gradient flow are H y with H = Q diag(h) Q',
        h = lambda g_t(lambda); GCV = mean((y - H y)^2) / (1 - tr(H) / n)^2.
        Exact leave-one-out has no closed form for finite times (leaving a
        sample out changes the whole flow), so GCV, its rotation-invariant
        version, is the criterion; each grid point costs O(n k) after the
        eigendecomposition. With sample weights, of the sqrt(w)-scaled problem.
        """
        n = len(lam)
        n_outputs_total = Ys.shape[1] * (n if sw is None else float(sw @ sw))
        gcv = np.empty((len(alphas), len(times)))
        for a, alpha in enumerate(alphas):
            for j, t in enumerate(times):
                h = np.maximum(lam, 0.0) * spectral_filter(lam, alpha, t,
                                                           n_outputs_total)
                resid = Ys - Q @ (h[:, None] * Qty)
                gcv[a, j] = np.mean(resid**2) / max(1.0 - h.sum() / n, 1e-12) ** 2
        a, j = np.unravel_index(np.argmin(gcv), gcv.shape)
        self.alpha_ = float(alphas[a])
        self.training_time_ = float(times[j])
        # t = inf is the converged ridge solution (std and bound available)
        t_fit = None if math.isinf(self.training_time_) else self.training_time_
        self.best_score_ = -float(gcv[a, j])
        if self.store_cv_results:
            self.cv_results_ = gcv
        return self._final_coef(Ys, lam, Q, Qty, t_fit, sw)


class NTKRegressorCV(RegressorMixin, _BaseNTKRidgeCV):
    """NTK kernel ridge with alpha chosen by exact leave-one-out, in one pass.

    One eigendecomposition of the Gram matrix gives the leave-one-out
    residuals of every ``alpha`` in O(n^2) each (the identity behind
    :class:`~sklearn.linear_model.RidgeCV`), instead of one factorisation
    per grid point and fold; the final model reuses it.

    Parameters
    ----------
    alphas : array-like of float > 0, default=(1e-3, 1e-2, 1e-1, 1, 10)
        The ridge values to try.
    training_times : array-like of float >= 0 or None, default=None
        Also choose the gradient-flow training time (``training_time`` of
        :class:`NTKRegressor`; ``numpy.inf`` is convergence) jointly with
        alpha. Leave-one-out has no closed form for finite times, so with
        this grid the criterion is generalized cross-validation (GCV,
        mean((y - H y)^2) / (1 - tr(H) / n)^2 for the smoother H), still
        from the one eigendecomposition.
    kernel, depth, w_std, b_std, activation, negative_slope
        As in :class:`NTKRegressor`.
    store_cv_results : bool, default=False
        Keep the squared leave-one-out residuals in ``cv_results_`` (with
        ``training_times``: the GCV values, shape (n_alphas, n_times)); with
        ``sample_weight``, each times its sample's weight (as RidgeCV).
    copy_X : bool, default=True
        As in :class:`NTKRegressor`.

    Attributes
    ----------
    alpha_ : float
        The alpha with the smallest leave-one-out mean squared error.
    training_time_ : float or None
        The chosen training time (with ``training_times``), else None.
    best_score_ : float
        Its negative mean squared error, or negative GCV (higher is better).
    cv_results_ : ndarray of shape (n_samples, n_alphas) or (n_samples, n_targets, n_alphas)
        Squared leave-one-out residuals, when ``store_cv_results``.
    dual_coef_, X_fit_, eigenvalues_, eigenvectors_, n_features_in_
        As in :class:`NTKRegressor` (with ``solver="eigh"``).

    Examples
    --------
    >>> import numpy as np
    >>> from skntk import NTKRegressorCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 3))
    >>> y = np.sin(X[:, 0]) + 0.1 * rng.normal(size=60)
    >>> reg = NTKRegressorCV(alphas=[1e-3, 1e-1, 10.0]).fit(X, y)
    >>> float(reg.alpha_)
    0.1
    """

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Choose alpha by leave-one-out and fit with it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or (n_samples, n_samples)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights (>= 0), as :class:`NTKRegressor`'s. The
            criterion is then the mean over samples of w_i times the squared
            leave-one-out residual (the residual of sample i under the
            weighted fit on the other samples), as
            :class:`~sklearn.linear_model.RidgeCV`'s.

        Returns
        -------
        self : NTKRegressorCV
        """
        X, y = validate_data(self, X, y, dtype=self._input_dtypes(), multi_output=True,
                             y_numeric=True, ensure_min_samples=2)
        Y = np.asarray(y, dtype=np.float64)
        ravel = Y.ndim == 1
        Y = Y[:, None] if ravel else Y
        coef = self._loo_fit(X, Y, lambda Y, r, sw: -float(np.mean(r**2)),
                             sample_weight)
        self.dual_coef_ = coef.ravel() if ravel else coef
        return self

    def predict(self, X, return_std=False):
        """As :meth:`NTKRegressor.predict`, with ``alpha_``."""
        X, pred = self._decision(X)
        if return_std:
            return pred, self._posterior_std(X)
        return pred


class NTKClassifierCV(_ClassifierMixinNTK, ClassifierMixin, _BaseNTKRidgeCV):
    """NTK kernel ridge classifier with alpha chosen by exact leave-one-out.

    As :class:`NTKRegressorCV` on the +-1 coding of the classes. The
    criterion is the leave-one-out squared error of the coding (as
    :class:`~sklearn.linear_model.RidgeClassifierCV`), or, with
    ``scoring="accuracy"``, the leave-one-out accuracy.

    Parameters
    ----------
    alphas : array-like of float > 0, default=(1e-3, 1e-2, 1e-1, 1, 10)
    training_times : array-like of float >= 0 or None, default=None
        As in :class:`NTKRegressorCV` (GCV of the coding; not with
        ``scoring="accuracy"``).
    kernel, depth, w_std, b_std, activation, negative_slope
        As in :class:`NTKRegressor`.
    scoring : {None, "accuracy"}, default=None
        None: leave-one-out squared error of the coding; "accuracy": fraction
        of samples whose leave-one-out prediction is right (ties go to the
        smallest alpha).
    store_cv_results : bool, default=False
    copy_X : bool, default=True
        As in :class:`NTKRegressor`.

    Attributes
    ----------
    alpha_, best_score_, cv_results_, classes_, dual_coef_
        As in :class:`NTKRegressorCV` and :class:`NTKClassifier`.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skntk import NTKClassifierCV
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = NTKClassifierCV(alphas=[1e-2, 1.0, 100.0], scoring="accuracy")
    >>> clf = clf.fit(X[:500], y[:500])
    >>> round(clf.best_score_, 2), round(clf.score(X[500:], y[500:]), 2)
    (0.99, 0.95)
    """

    _parameter_constraints: dict = {
        **_BaseNTKRidgeCV._parameter_constraints,
        "scoring": [None, StrOptions({"accuracy"})],
    }

    def __init__(self, alphas=(1e-3, 1e-2, 1e-1, 1.0, 10.0), *, training_times=None,
                 kernel="ntk", depth=1, w_std=1.0, b_std=0.0, scoring=None,
                 store_cv_results=False, copy_X=True, activation="relu",
                 negative_slope=None):
        super().__init__(alphas, training_times=training_times, kernel=kernel,
                         depth=depth, w_std=w_std, b_std=b_std,
                         store_cv_results=store_cv_results, copy_X=copy_X,
                         activation=activation, negative_slope=negative_slope)
        self.scoring = scoring

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Choose alpha by leave-one-out and fit with it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or (n_samples, n_samples)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights (>= 0). The squared-error criterion weighs
            sample i's squared leave-one-out residual by w_i (as
            :class:`~sklearn.linear_model.RidgeClassifierCV`); the accuracy
            is the w-weighted fraction of right leave-one-out predictions.

        Returns
        -------
        self : NTKClassifierCV
        """
        X, y = validate_data(self, X, y, dtype=self._input_dtypes(),
                             ensure_min_samples=2)
        Y = self._encode(y)
        if self.scoring == "accuracy" and self.training_times is not None:
            raise ValueError("scoring='accuracy' needs leave-one-out predictions, "
                             "which exist for alphas only: set training_times=None "
                             "or scoring=None (GCV).")
        if self.scoring == "accuracy":
            truth = self._labels(Y.ravel() if Y.shape[1] == 1 else Y)

            def score(Y, resid, sw):
                if sw is not None:  # back to the original scale (0 where w = 0)
                    resid = np.divide(resid, sw[:, None], where=sw[:, None] > 0,
                                      out=np.zeros_like(resid))
                loo = Y - resid
                right = self._labels(loo.ravel() if loo.shape[1] == 1 else loo) == truth
                if sw is None or not np.any(sw):
                    return float(np.mean(right))
                return float(np.average(right, weights=sw**2))
        else:
            def score(Y, resid, sw):
                return -float(np.mean(resid**2))
        self.dual_coef_ = self._loo_fit(X, Y, score, sample_weight)
        return self
