"""Kernel ridge classification with the analytic ReLU NTK/NNGP: :class:`NTKClassifier`,
and the label coding it shares with :class:`~skntk.NTKClassifierCV`."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils.compat import fit_context
from ._base import _BaseNTKRidge
from ._dask import decision_dask, fit_dask, is_dask_array

__all__ = ["NTKClassifier"]


class _ClassifierMixinNTK:
    """Label coding shared by NTKClassifier and NTKClassifierCV (as RidgeClassifier)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = False  # one label per sample
        return tags

    def _encode(self, y):
        check_classification_targets(y)
        self._label_binarizer = LabelBinarizer(pos_label=1, neg_label=-1)
        Y = self._label_binarizer.fit_transform(y).astype(np.float64)
        self.classes_ = self._label_binarizer.classes_
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the "
                f"data, but the data contain only one class: {self.classes_[0]!r}.")
        return Y

    def decision_function(self, X):
        """Kernel ridge scores on the +-1 (one-vs-rest) coding of the classes.

        Parameters
        ----------
        X : array-like of shape (n_test, n_features), or (n_test, n_samples)
            with kernel="precomputed".

        Returns
        -------
        scores : ndarray of shape (n_test,) for two classes (positive means
            ``classes_[1]``), else (n_test, n_classes). A dask array for a dask X.
        """
        if is_dask_array(X):
            check_is_fitted(self)
            k = self.dual_coef_.shape[1]
            return decision_dask(self, X, "decision_function", None if k == 1 else k)
        _, scores = self._decision(X)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Class labels (from ``classes_``) with the largest score.

        Parameters
        ----------
        X : array-like of shape (n_test, n_features), or (n_test, n_samples)
            with kernel="precomputed".

        Returns
        -------
        y_pred : ndarray of shape (n_test,)
            A dask array for a dask X.
        """
        if is_dask_array(X):
            check_is_fitted(self)
            return decision_dask(self, X, "predict", None, dtype=self.classes_.dtype)
        return self._labels(self.decision_function(X))

    def _labels(self, scores):
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]


class NTKClassifier(_ClassifierMixinNTK, ClassifierMixin, _BaseNTKRidge):
    """Kernel ridge classification with the analytic ReLU NTK or NNGP.

    Classes are coded +-1 (one-vs-rest for more than two, as
    :class:`~sklearn.linear_model.RidgeClassifier`), regressed with
    :class:`NTKRegressor`'s machinery, and ``predict`` returns the label
    with the largest score: what an infinitely wide ReLU net trained on the
    squared loss of that coding predicts.

    Parameters
    ----------
    alpha, kernel, depth, w_std, b_std, solver, training_time, n_components, \
tol, random_state, dtype, device, verbose, copy_X, activation, negative_slope
        As in :class:`NTKRegressor`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    dual_coef_ : ndarray of shape (n_samples, 1) or (n_samples, n_classes)
    X_fit_, L_, jitter_, eigenvalues_, eigenvectors_, centers_, support_, \
n_iter_, n_components_, n_features_in_
        As in :class:`NTKRegressor`.

    See Also
    --------
    NTKRegressor : The regressor this is built on.
    NTKClassifierCV : Chooses alpha by efficient leave-one-out.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from skntk import NTKClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)
    >>> clf = NTKClassifier(alpha=1e-3, depth=2, b_std=0.1).fit(X_tr, y_tr)
    >>> round(clf.score(X_te, y_te), 2)
    0.99
    """

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Code the labels +-1, factor the Gram once and solve.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or (n_samples, n_samples)
            Training inputs, or their Gram matrix with kernel="precomputed".
            A ``dask.array`` chunked by rows (solver="nystrom" only) is fitted
            on its cluster, block by block (see :ref:`cluster_data`).
        y : array-like of shape (n_samples,)
            Class labels (any type `numpy.unique` sorts); numpy or dask.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : NTKClassifier
        """
        if is_dask_array(X):  # solver="nystrom" over the row blocks on a cluster
            self.dual_coef_ = fit_dask(self, X, y, sample_weight, classifier=True)
            return self
        X, y = validate_data(self, X, y, dtype=self._input_dtypes(),
                             ensure_min_samples=2)
        Y = self._encode(y)
        self.dual_coef_ = self._fit_targets(X, Y, sample_weight, alpha=float(self.alpha))
        return self

    def staged_decision_function(self, X, training_times):
        """Decision functions at several training times (solver "eigh").

        Parameters
        ----------
        X : array-like of shape (n_test, n_features)
        training_times : iterable of float >= 0

        Yields
        ------
        scores : ndarray, as :meth:`decision_function`
        """
        for out in self._staged(X, training_times):
            yield out.ravel() if out.shape[1] == 1 else out

    def staged_predict(self, X, training_times):
        """Labels at several training times (solver "eigh").

        Parameters
        ----------
        X : array-like of shape (n_test, n_features)
        training_times : iterable of float >= 0

        Yields
        ------
        y_pred : ndarray of shape (n_test,)
        """
        for scores in self.staged_decision_function(X, training_times):
            yield self._labels(scores)
