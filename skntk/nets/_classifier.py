"""TorchMLPClassifier: the network side of "net versus NTK" for class labels."""

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils.compat import StrOptions, fit_context
from ._base import _BaseTorchMLP

__all__ = ["TorchMLPClassifier"]


class TorchMLPClassifier(ClassifierMixin, _BaseTorchMLP):
    """Multilayer perceptron classifier trained in torch.

    A fully connected network ``[Dense, activation] * len(hidden_layer_sizes) +
    Dense`` with one output unit for two classes and one per class otherwise,
    trained by minibatch SGD or Adam on the cross-entropy or the squared error
    to one-hot targets. ``fit`` builds ``module_`` from the parameters (it never
    takes a user's module), so the estimator clones, pickles, and plugs into
    :class:`~sklearn.pipeline.Pipeline` and
    :class:`~sklearn.model_selection.GridSearchCV` like any scikit-learn
    classifier, next to its kernel :class:`skntk.NTKClassifier`.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer; ``()`` is a linear model. An int ``m``
        means ``(m,)``.
    activation : str, callable or Activation, default="relu"
        Activation of the hidden layers, the vocabulary of every
        ``activation=`` in skntk: "relu", "tanh", "logistic", "identity"
        (scikit-learn's names), "erf", "gelu" (exact, ``x Phi(x)``),
        "leaky_relu" (slope ``negative_slope`` below 0) or "abs"; or an
        elementwise function of a torch tensor (e.g. ``torch.sin``), trained
        through torch autograd, or a
        :class:`skntk.utils.activations.Activation` giving it with its
        derivative (then back-propagation uses that derivative). A callable
        is checked in ``fit`` (elementwise, finite on [-10, 10]). The
        analytic kernels of :func:`skntk.relu_kernel` are those of "relu".
        A fitted estimator pickles with a named activation or an importable
        function (a module-level ``def``, ``torch.sin``); a lambda or a local
        function pickles only with cloudpickle (as joblib's parallel
        backends use), not with :mod:`pickle`.
    negative_slope : float, default=None
        The slope of "leaky_relu" for negative inputs (None: 0.01, torch's
        default). Any other activation refuses a value.
    parameterization : {"standard", "ntk"}, default="standard"
        "ntk": neural-tangents' ``stax.Dense`` in NTK parameterization, every
        layer ``h = (w_std / sqrt(fan_in)) W a + b_std b`` with ``W, b`` drawn
        from N(0, 1); with ``hidden_layer_sizes=(m,) * L`` and ReLU this is the
        network whose infinite-width NTK is
        ``relu_kernel(X, Y, depth=L, w_std=w_std, b_std=b_std)``, and a wide one
        trained by SGD with small steps follows that kernel's gradient flow;
        with any ``activation`` it is neural-tangents'
        ``stax.serial(*[Dense(m, w_std, b_std), act] * L, Dense(k, w_std,
        b_std))``, the convention of skntk's kernels.
        "standard": ``h = W a + b`` (torch's ``nn.Linear``) initialised by
        ``init``.
    init : {"normal", "xavier_normal"}, default="normal"
        Initialisation of parameterization="standard": "normal" draws weights
        from N(0, w_std^2 / fan_in) and biases from N(0, b_std^2) (the same
        function at initialisation as parameterization="ntk"); "xavier_normal"
        draws weights from N(0, w_std^2 * 2 / (fan_in + fan_out)) (torch's
        ``nn.init.xavier_normal_`` with gain ``w_std``, as in the TP5 notebook)
        and biases from N(0, b_std^2). Must be "normal" for "ntk".
    w_std : float, default=1.0
        Weight standard deviation (see ``parameterization`` and ``init``).
    b_std : float, default=0.0
        Bias standard deviation; 0 gives zero biases at initialisation.
    loss : {"cross_entropy", "mse"}, default="cross_entropy"
        "cross_entropy": logistic loss on one logit (two classes) or softmax
        cross-entropy. "mse": squared error (mean over rows and outputs, torch's
        ``MSELoss``) to targets 0/1 (two classes) or one-hot rows;
        ``predict_proba`` is then the output clipped to [0, 1] (rows normalised
        to sum to 1), and ``predict`` its argmax: the output > 0.5 for two
        classes.
    optimizer : {"sgd", "adam"}, default="adam"
        "sgd": plain stochastic gradient descent (no momentum, no weight decay),
        the dynamics the NTK theory describes; "adam": Adam with
        betas (0.9, 0.999) and eps 1e-8, as scikit-learn's MLP.
    learning_rate_init : float, default=0.001
        The (constant) learning rate. With optimizer="sgd", ``fit`` warns
        (:class:`LearningRateWarning`) when it exceeds ``max_learning_rate_``.
    batch_size : int or "auto", default="auto"
        Rows per gradient step; "auto" is ``min(200, n_samples)``. A value
        larger than the number of training rows is clipped to it with a
        warning (full-batch training).
    max_iter : int, default=200
        Maximum number of epochs (passes over the training data) per ``fit``.
    shuffle : bool, default=True
        Reshuffle the rows at each epoch; False visits them in the given order
        (as an unshuffled torch ``DataLoader``).
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training rows (stratified by
        class for two classes only, as scikit-learn's MLP) and stop when the
        validation accuracy has not improved on the best so far by ``tol``
        for more than ``n_iter_no_change`` consecutive epochs (scikit-learn's
        rule); the parameters of the best epoch are kept. ``partial_fit``
        refuses it.
    validation_fraction : float, default=0.1
        Fraction of the rows held out when ``early_stopping`` is True.
    n_iter_no_change : int or np.inf, default=10
        Epochs without an improvement of ``tol`` (training loss, or validation
        score with early stopping) before training stops. ``np.inf`` trains
        exactly ``max_iter`` epochs (and does not warn that it did).
    tol : float, default=1e-4
        Improvement that resets the ``n_iter_no_change`` counter.
    warm_start : bool, default=False
        When True, ``fit`` continues training ``module_`` (architecture
        parameters and, for the classifier, classes must be unchanged) with a
        fresh optimizer; ``partial_fit`` always continues, keeping the
        optimizer state.
    random_state : int, RandomState instance or None, default=None
        Seeds a torch generator local to each call of ``fit`` /
        ``partial_fit`` (initialisation, shuffling, validation split); torch's
        global random state is neither used nor changed. Initial weights are
        drawn on the CPU, so they do not depend on ``device``.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where training and inference run. "cuda" without CUDA raises an error
        in ``fit`` (prediction falls back to the CPU with a
        :class:`DeviceWarning`, so a model trained on a GPU predicts after
        unpickling on a machine without one); "auto" uses CUDA when available
        and the CPU otherwise, silently. ``module_`` is always stored on the
        CPU.
    dtype : {"float32", "float64"}, default="float32"
        Training precision. Inference always runs in float64 (on exact float64
        copies of the parameters), so a row's prediction agrees to float64
        rounding (about 1e-15 relative) however the rows are batched; it is
        not promised bit for bit, since BLAS may round a one-row product
        differently from a many-row one.
    verbose : int, default=0
        When > 0, a tqdm progress bar over the epochs with the current loss
        (needs the ``tqdm`` package). Silent otherwise.
    check_learning_rate : bool, default=True
        With optimizer="sgd", estimate ``max_learning_rate_`` when training
        starts (on the first batch: the empirical NTK when it is small, else
        a few Lanczos iterations of Jacobian-vector products, never more than
        a few training steps' worth of work) and warn
        (:class:`LearningRateWarning`) when ``learning_rate_init`` exceeds it.
        False skips both; ``max_learning_rate_`` is then None (the method
        :meth:`max_learning_rate` still computes the limit on demand).
    record_drift : bool, default=False
        Record, after each epoch, how far training has moved the network
        from its initialisation (the lazy-training diagnostics
        ``weight_change_`` and ``ntk_change_``). Off, it costs nothing; on,
        one closed-form empirical NTK of the probe batch per epoch (see Notes).
    drift_probe_size : "auto" or int >= 1, default="auto"
        Rows of the fixed probe batch on which ``ntk_change_`` measures the
        network's empirical NTK: that many training rows spread evenly
        through them (rows ``i * n // size``, no random draw, so recording
        leaves training unchanged). "auto": ``min(n, max(32, min(256, n //
        32)))`` for n training rows, and fewer (down to 32) where the probe
        kernel's estimated cost would pass 5% of an epoch's (deep nets with
        many outputs on a few thousand rows): the probe's cost grows with the
        square of its size and an epoch's with n (see Notes for the cost). An integer larger than n is an error.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    module_ : torch.nn.Module
        The trained network, on the CPU, in ``dtype``.
    loss_curve_ : list of float
        Mean training loss of each epoch (appended to by ``warm_start`` and
        ``partial_fit``).
    best_loss_ : float or None
        Smallest value of ``loss_curve_``; None with early stopping.
    validation_scores_ : list of float or None
        Validation accuracy after each epoch when ``early_stopping``; None
        otherwise.
    best_validation_score_ : float or None
        Best of ``validation_scores_``; None without early stopping.
    max_learning_rate_ : float or None
        With optimizer="sgd": the largest stable SGD learning rate at
        initialisation on the first ``batch_size`` rows (at most 1024 rows x
        outputs): exact (:meth:`max_learning_rate`) up to 256 rows x outputs,
        above that estimated by Lanczos iterations on the loss curvature
        through the network's Jacobian (agreeing with the exact value to
        about 0.1%, approaching it from above).
        None with optimizer="adam" or ``check_learning_rate=False``.
    weight_change_ : ndarray of shape (n_recorded_epochs,)
        With ``record_drift``: ``||theta_t - theta_0|| / ||theta_0||`` over
        all the parameters after each epoch (index 0: after the first epoch),
        theta_0 the initial network. Absent otherwise.
    ntk_change_ : ndarray of shape (n_recorded_epochs,)
        With ``record_drift``: ``||Theta_t - Theta_0||_F / ||Theta_0||_F``
        after each epoch, Theta the network's empirical NTK on the probe
        batch, summed over the output units
        (``Theta[i, j] = sum_o <df_o(x_i)/dtheta, df_o(x_j)/dtheta>``, the
        trace over outputs of the full kernel). Absent otherwise.
    n_iter_ : int
        Number of epochs run (cumulative over warm starts and ``partial_fit``).
    t_ : int
        Number of training rows seen.
    n_outputs_ : int
        Number of output units of the network.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column
        names.

    See Also
    --------
    TorchMLPRegressor : The same network on a continuous target.
    skntk.NTKClassifier : The network's infinite-width kernel.
    sklearn.neural_network.MLPClassifier : scikit-learn's numpy MLP.

    Notes
    -----
    Bad input never reaches torch: ``X`` must be finite and numeric, and every
    parameter is checked before training. If the training loss becomes
    infinite or NaN, ``fit`` raises a ValueError naming ``learning_rate_init``
    (and ``max_learning_rate_`` when known) instead of storing a NaN network.

    Lazy-training diagnostics (``record_drift=True``): the reference theta_0,
    Theta_0 and the probe batch are those of the fit that started the
    record. ``warm_start`` and ``partial_fit`` append to it (one value per
    epoch, so the arrays have ``n_iter_`` entries when the first fit
    recorded); a fresh fit starts a new one; a continued fit that starts
    recording takes the network at its start as the reference; a fit with
    ``record_drift=False`` drops the record. The kernel is computed layer by
    layer in closed form in the training ``dtype`` (float32 resolves
    changes down to about 1e-5), at a cost per epoch of about
    ``m**2 * (w_L + k * (w_1 + ... + w_{L-1})) + m * k * (w_1 w_2 + ... +
    w_{L-1} w_L)`` multiply-adds for a probe of m rows, k outputs and hidden
    widths w_1..w_L, against ``3 * n * n_parameters`` for the epoch itself
    (measured by ``benchmarks/bench_drift.py`` at the default probe size:
    0-15% of the fit's time from a few thousand rows; about 1 ms an epoch,
    20-30%, on a few hundred rows, where an epoch takes a few ms).
    The reference (a float64 copy of the initial parameters) is kept for
    continued fits and pickled with the estimator. In the NTK
    parameterisation at a fixed learning rate, ``weight_change_`` falls as
    1 / sqrt(width) and ``ntk_change_`` at least as fast.

    References
    ----------
    .. [1] A. Jacot, F. Gabriel, C. Hongler. "Neural Tangent Kernel: Convergence
       and Generalization in Neural Networks." NeurIPS 2018. arXiv:1806.07572
    .. [2] J. Lee et al. "Wide Neural Networks of Any Depth Evolve as Linear
       Models Under Gradient Descent." NeurIPS 2019. arXiv:1902.06720

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skntk import TorchMLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), TorchMLPClassifier(
    ...     hidden_layer_sizes=(32,), learning_rate_init=0.01, batch_size=16,
    ...     random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.9
    True
    >>> clf.predict_proba(X[:1]).shape
    (1, 3)
    """

    _parameter_constraints = {
        **_BaseTorchMLP._parameter_constraints,
        "loss": [StrOptions({"cross_entropy", "mse"})],
    }

    def __init__(self, hidden_layer_sizes=(100,), *, activation="relu",
                 negative_slope=None, parameterization="standard", init="normal",
                 w_std=1.0, b_std=0.0,
                 loss="cross_entropy", optimizer="adam", learning_rate_init=0.001,
                 batch_size="auto", max_iter=200, shuffle=True, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, tol=1e-4,
                 warm_start=False, random_state=None, device="cpu", dtype="float32",
                 verbose=0, check_learning_rate=True,
                 record_drift=False, drift_probe_size="auto"):
        super().__init__(
            hidden_layer_sizes, activation=activation, negative_slope=negative_slope,
            parameterization=parameterization, init=init, w_std=w_std, b_std=b_std,
            loss=loss, optimizer=optimizer, learning_rate_init=learning_rate_init,
            batch_size=batch_size, max_iter=max_iter, shuffle=shuffle,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, tol=tol, warm_start=warm_start,
            random_state=random_state, device=device, dtype=dtype, verbose=verbose,
            check_learning_rate=check_learning_rate,
            record_drift=record_drift, drift_probe_size=drift_probe_size)

    def _validate_xy(self, X, y, reset):
        X, y = validate_data(self, X, y, reset=reset, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        return X, y

    def _encode(self, y, *, first_pass, classes, incremental):
        if first_pass:
            if incremental:
                if classes is None:
                    raise ValueError("classes must be passed on the first call to "
                                     "partial_fit.")
                classes_ = np.unique(np.asarray(classes))
                unseen = np.setdiff1d(np.unique(y), classes_)
                if unseen.size:
                    raise ValueError(f"y has labels {unseen.tolist()} that are not in "
                                     f"classes={classes_.tolist()}.")
            else:
                classes_ = np.unique(y)
            if classes_.size < 2:
                raise ValueError(
                    f"{type(self).__name__} needs at least 2 classes, but the data "
                    f"contain only one class: {classes_.tolist()}.")
            self.classes_ = classes_
        else:
            if classes is not None and not np.array_equal(
                    np.unique(np.asarray(classes)), self.classes_):
                raise ValueError(f"classes={np.unique(classes).tolist()} differs from "
                                 f"classes_={self.classes_.tolist()} of the previous "
                                 "fit.")
            present = np.unique(y)
            if incremental:
                bad = np.setdiff1d(present, self.classes_)
                if bad.size:
                    raise ValueError(f"y has labels {bad.tolist()} that are not in "
                                     f"classes_={self.classes_.tolist()}.")
            elif not np.array_equal(present, self.classes_):
                raise ValueError(
                    "warm_start can only be used where y has the same classes as in "
                    f"the previous call to fit: previously {self.classes_.tolist()}, "
                    f"now {present.tolist()}.")
        index = np.searchsorted(self.classes_, y)
        n_classes = self.classes_.size
        if n_classes == 2:
            return index.astype(np.float64)[:, None]
        if self.loss == "mse":
            return np.eye(n_classes)[index]
        return index.astype(np.int64)

    def _n_output_units(self, targets):
        self.n_outputs_ = 1 if self.classes_.size == 2 else self.classes_.size
        return self.n_outputs_

    def _criterion(self, out, target):
        if self.loss == "mse":
            return torch.nn.functional.mse_loss(out, target)
        if out.shape[1] == 1:
            return torch.nn.functional.binary_cross_entropy_with_logits(out, target)
        return torch.nn.functional.cross_entropy(out, target)

    def _proba_from_outputs(self, out):
        if out.shape[1] == 1:
            z = out[:, 0]
            if self.loss == "mse":
                p = np.clip(z, 0.0, 1.0)
            else:
                p = 0.5 * (1.0 + np.tanh(0.5 * z))  # the logistic, without overflow
            return np.column_stack([1.0 - p, p])
        if self.loss == "mse":
            p = np.clip(out, 0.0, 1.0)
            s = p.sum(axis=1, keepdims=True)
            empty = s[:, 0] == 0
            p[empty] = 1.0
            s[empty] = out.shape[1]
            return p / s
        z = out - out.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)

    def _row_losses(self, out, target):
        if self.loss == "mse":
            return ((out - target) ** 2).mean(dim=1)
        if out.shape[1] == 1:
            return torch.nn.functional.binary_cross_entropy_with_logits(
                out, target, reduction="none")[:, 0]
        return torch.nn.functional.cross_entropy(out, target, reduction="none")

    def _val_score(self, module, X_val, y_val, w_val):
        proba = self._proba_from_outputs(self._val_outputs(module, X_val))
        correct = self.classes_[proba.argmax(axis=1)] == y_val
        return float(np.average(correct, weights=w_val))

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train one epoch over (X, y), continuing from the current state.

        Raises a ValueError with ``early_stopping=True`` (as scikit-learn's
        MLP): one epoch on the given rows has no validation split to stop on.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, finite.
        y : array-like of shape (n_samples,)
            Class labels, all in ``classes``.
        classes : array-like of shape (n_classes,), default=None
            All the classes; required on the first call, optional after.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights (None: all 1), as in ``fit``.

        Returns
        -------
        self : TorchMLPClassifier
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def predict_proba(self, X):
        """Class probabilities (see ``loss`` for loss="mse").

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to 1.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return self._proba_from_outputs(self._forward_float64(X))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """Predicted labels, ``classes_[argmax(predict_proba(X))]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = False
        return tags
