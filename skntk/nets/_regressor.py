"""TorchMLPRegressor: the network side of "net versus NTK" for numeric targets."""

import numpy as np
import torch
from sklearn.base import MultiOutputMixin, RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils.compat import StrOptions, fit_context
from ._base import _BaseTorchMLP

__all__ = ["TorchMLPRegressor"]


class TorchMLPRegressor(MultiOutputMixin, RegressorMixin, _BaseTorchMLP):
    """Multilayer perceptron regressor trained in torch.

    The network of :class:`TorchMLPClassifier` with one linear output per
    target, trained on the squared error. With ``parameterization="ntk"`` it
    is the network whose infinite-width kernel :class:`skntk.NTKRegressor`
    uses; a wide one trained by plain SGD with small steps predicts what
    ``NTKRegressor(training_time=t)`` predicts. The TP5 notebook's network
    (Fashion-MNIST regression on label / 9) is one line::

        TorchMLPRegressor((1000,), init="xavier_normal", optimizer="sgd",
                          learning_rate_init=0.01, batch_size=32, max_iter=200,
                          shuffle=False, n_iter_no_change=np.inf)

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
    loss : {"mse"}, default="mse"
        Squared error, the mean over rows and targets (torch's ``MSELoss``, no
        factor 1/2: one SGD step of size lr is gradient flow on neural-tangents'
        ``0.5 * mean`` loss for a time 2 lr).
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
        Hold out ``validation_fraction`` of the training rows (a random
        split) and stop when the validation R^2 has not improved on the best
        so far by ``tol`` for more than ``n_iter_no_change`` consecutive
        epochs (scikit-learn's rule); the parameters of the best epoch are
        kept. ``partial_fit`` refuses it.
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
    module_ : torch.nn.Module
        The trained network, on the CPU, in ``dtype``.
    loss_curve_ : list of float
        Mean training loss of each epoch (appended to by ``warm_start`` and
        ``partial_fit``).
    best_loss_ : float or None
        Smallest value of ``loss_curve_``; None with early stopping.
    validation_scores_ : list of float or None
        Validation R^2 after each epoch when ``early_stopping``; None
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
    TorchMLPClassifier : The same network on class labels.
    skntk.NTKRegressor : The network's infinite-width kernel, also at finite
        training time.
    sklearn.neural_network.MLPRegressor : scikit-learn's numpy MLP.

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
    >>> import numpy as np
    >>> from skntk import TorchMLPRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 3))
    >>> y = X[:, 0] - 2 * X[:, 1]
    >>> reg = TorchMLPRegressor(hidden_layer_sizes=(64,), learning_rate_init=0.01,
    ...                         random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.95
    True
    """

    _parameter_constraints = {
        **_BaseTorchMLP._parameter_constraints,
        "loss": [StrOptions({"mse"})],
    }

    # __init__ is _BaseTorchMLP's, whose default loss is "mse"

    def _validate_xy(self, X, y, reset):
        return validate_data(self, X, y, reset=reset, dtype=[np.float64, np.float32],
                             multi_output=True, y_numeric=True)

    def _encode(self, y, *, first_pass, classes, incremental):
        Y = np.asarray(y, dtype=np.float64)
        Y2 = Y.reshape(len(Y), -1)
        if first_pass:
            self._y_ndim = Y.ndim
        elif Y2.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {Y2.shape[1]} targets, but the network was "
                             f"trained with {self.n_outputs_}.")
        return Y2

    def _n_output_units(self, targets):
        self.n_outputs_ = targets.shape[1]
        return self.n_outputs_

    def _criterion(self, out, target):
        return torch.nn.functional.mse_loss(out, target)

    def _loss_ceiling(self, targets):
        # 1e12 times the loss of predicting 0 (at least 1e12): outputs a million
        # times the targets' scale
        return 1e12 * max(float((targets.double() ** 2).mean()), 1.0)

    def _row_losses(self, out, target):
        return ((out - target) ** 2).mean(dim=1)

    def _val_score(self, module, X_val, y_val, w_val):
        return float(r2_score(y_val, self._val_outputs(module, X_val),
                              sample_weight=w_val))

    @fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Train one epoch over (X, y), continuing from the current state.

        Raises a ValueError with ``early_stopping=True`` (as scikit-learn's
        MLP): one epoch on the given rows has no validation split to stop on.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, finite.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets, finite.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights (None: all 1), as in ``fit``.

        Returns
        -------
        self : TorchMLPRegressor
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """The network's outputs, computed in float64.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predictions, with the dimensionality of the ``y`` given to ``fit``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        out = self._forward_float64(X)
        return out[:, 0] if self._y_ndim == 1 else out
