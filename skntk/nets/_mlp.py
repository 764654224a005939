"""Multilayer perceptrons in torch as scikit-learn estimators.

:class:`TorchMLPClassifier` and :class:`TorchMLPRegressor` are the network side
of "net versus NTK": the same fully connected ReLU network whose infinite-width
kernel :func:`skntk.relu_kernel` computes (``parameterization="ntk"``), or the
usual parameterization with the usual initialisations, trained by SGD or Adam
inside ``fit``. Parameter names follow :class:`sklearn.neural_network.MLPClassifier`.
"""

import copy
import math
from numbers import Integral, Real

import numpy as np
import scipy.linalg
import torch
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MultiOutputMixin,
    RegressorMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._torch import (
    SMALL_WORK,
    DeviceWarning,
    build_mlp,
    empirical_ntk,
    n_params,
    resolve_device,
    single_thread_if,
    to_tensor,
    torch_dtype,
)
from ..utils.warn import warn

__all__ = ["DeviceWarning", "LearningRateWarning", "TorchMLPClassifier",
           "TorchMLPRegressor", "max_learning_rate"]

# at most this many rows x outputs enter the batch NTK of the diagnostic
_MAX_NTK_ROWS = 1024
# inference runs in float64 on chunks of about this many (rows x widest layer)
_CHUNK_ENTRIES = 1 << 22


class LearningRateWarning(UserWarning):
    """``learning_rate_init`` exceeds the largest stable step of plain SGD."""


# ---------------------------------------------------------------------------
# the stability diagnostic


def _max_lr_from_ntk(theta, out, loss):
    """2 / largest eigenvalue of the Gauss-Newton curvature of the loss of one
    batch, J' H J, written through the empirical NTK Theta = J J'.

    - loss="mse" (torch's mean over the n * k entries, no 1/2): H = 2 I / (n k),
      so the limit is n k / lambda_max(Theta); with neural-tangents' loss
      0.5 * mean this is its ``predict.max_learning_rate``, 2 n k / lambda_max.
    - loss="cross_entropy": H = blockdiag(diag(p_i) - p_i p_i') / n (softmax),
      or sigmoid'(z_i) / n for one logit, at the current outputs.
    """
    n, k = out.shape
    if loss == "mse":
        curvature = theta * (2.0 / (n * k))
    else:
        if k == 1:
            s = torch.sigmoid(out[:, 0])
            b = torch.sqrt(s * (1 - s))
            curvature = theta * torch.outer(b, b) / n
        else:
            p = torch.softmax(out, dim=1)
            sp = torch.sqrt(p)
            # B_i with B_i B_i' = diag(p_i) - p_i p_i'; J' H J has the nonzero
            # eigenvalues of B' Theta B
            B = torch.diag_embed(sp) - p[:, :, None] * sp[:, None, :]
            T = theta.reshape(n, k, n, k)
            curvature = torch.einsum("ica,icjd,jdb->iajb", B, T, B).reshape(
                n * k, n * k) / n
    # only the largest eigenvalue is needed: LAPACK's dsyevr on that index
    # (a full torch eigvalsh is ~25x slower on a busy 2-core machine)
    c = curvature.detach().cpu().numpy().astype(np.float64)
    m = c.shape[0]
    lam = float(scipy.linalg.eigvalsh(c, subset_by_index=[m - 1, m - 1])[0])
    return 2.0 / lam if lam > 0 else math.inf


def _check_float32_range(X):
    """Training in float32 must not turn inputs into inf or 0 silently."""
    info = np.finfo(np.float32)
    absX = np.abs(X)
    big = float(absX.max(initial=0.0))
    if big > info.max:
        raise ValueError(
            f"X has values up to {big:.3g}, which overflow dtype='float32' (max "
            f"{info.max:.3g}); scale X (e.g. StandardScaler) or use dtype='float64'.")
    nonzero = absX[absX > 0]
    if nonzero.size and float(nonzero.min()) < info.tiny:
        warn(
            f"X has nonzero values down to {float(nonzero.min()):.3g}, below the "
            f"smallest normal float32 ({info.tiny:.3g}): they are lost in "
            "dtype='float32' training; scale X (e.g. StandardScaler) or use "
            "dtype='float64'.", UserWarning)


def max_learning_rate(module, X, loss):
    """The largest stable plain-SGD learning rate of ``module`` on the batch X
    (a float64 tensor), for the estimators' loss normalisation; see
    :meth:`TorchMLPRegressor.max_learning_rate`."""
    theta, out = empirical_ntk(module, X)
    return _max_lr_from_ntk(theta, out, loss)


# ---------------------------------------------------------------------------
# the shared estimator core


def _check_hidden_layer_sizes(hidden_layer_sizes):
    sizes = hidden_layer_sizes
    if isinstance(sizes, Integral) and not isinstance(sizes, bool):
        sizes = (sizes,)
    if isinstance(sizes, np.ndarray):
        sizes = sizes.tolist()
    ok = isinstance(sizes, (list, tuple)) and all(
        isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in sizes)
    if not ok:
        raise ValueError(
            "hidden_layer_sizes must be a tuple of positive integers (the width of "
            "each hidden layer, e.g. (100,) or (256, 256)), got "
            f"{hidden_layer_sizes!r}.")
    return tuple(int(s) for s in sizes)


def _cpu_state(obj):
    """A copy of an optimizer state dict with every tensor on the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _cpu_state(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_cpu_state(v) for v in obj)
    return obj


class _BaseTorchMLP(BaseEstimator):
    """Training, inference and diagnostics shared by the two estimators."""

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like",
                               Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"relu", "tanh", "logistic", "identity"})],
        "parameterization": [StrOptions({"standard", "ntk"})],
        "init": [StrOptions({"normal", "xavier_normal"})],
        "w_std": [Interval(Real, 0, None, closed="left")],
        "b_std": [Interval(Real, 0, None, closed="left")],
        "optimizer": [StrOptions({"sgd", "adam"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [StrOptions({"auto"}),
                       Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"),
                             Options(Real, {np.inf})],
        "tol": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
        "dtype": [StrOptions({"float32", "float64"})],
        "verbose": ["verbose"],
    }

    def __init__(self, hidden_layer_sizes=(100,), *, activation="relu",
                 parameterization="standard", init="normal", w_std=1.0, b_std=0.0,
                 loss="mse", optimizer="adam", learning_rate_init=0.001,
                 batch_size="auto", max_iter=200, shuffle=True, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, tol=1e-4,
                 warm_start=False, random_state=None, device="cpu", dtype="float32",
                 verbose=0):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.parameterization = parameterization
        self.init = init
        self.w_std = w_std
        self.b_std = b_std
        self.loss = loss
        self.optimizer = optimizer
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.device = device
        self.dtype = dtype
        self.verbose = verbose

    # -- hooks of the subclasses -------------------------------------------
    # _validate_xy(X, y, reset) -> X, y ; _encode(y, first_pass, classes) -> targets
    # (numpy, float (n, k) or int (n,)) ; _criterion(out, target) ; _val_score

    def _architecture(self):
        return (_check_hidden_layer_sizes(self.hidden_layer_sizes), self.activation,
                self.parameterization, self.init, float(self.w_std), float(self.b_std))

    def _check_params(self):
        hidden = _check_hidden_layer_sizes(self.hidden_layer_sizes)
        if self.parameterization == "ntk" and self.init != "normal":
            raise ValueError(
                f"init={self.init!r} applies to parameterization='standard' only; "
                "parameterization='ntk' draws every weight and bias from N(0, 1) "
                "and scales them by w_std / sqrt(fan_in) and b_std. Use init='normal'.")
        for name in ("w_std", "b_std"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite, got {getattr(self, name)!r}.")
        return hidden

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(200, n_samples)
        if self.batch_size > n_samples:
            warn(
                f"batch_size={self.batch_size} is larger than the number of training "
                f"samples ({n_samples}); using batch_size={n_samples} (full batch).",
                UserWarning)
            return n_samples
        return self.batch_size

    def _make_optimizer(self, module):
        params = module.parameters()
        if self.optimizer == "sgd":
            return torch.optim.SGD(params, lr=self.learning_rate_init)
        return torch.optim.Adam(params, lr=self.learning_rate_init,
                                betas=(0.9, 0.999), eps=1e-8)

    def _fit(self, X, y, *, incremental, classes=None):
        hidden = self._check_params()
        device = resolve_device(self.device, training=True)
        first_pass = not hasattr(self, "module_") or (
            not self.warm_start and not incremental)
        X, y = self._validate_xy(X, y, reset=first_pass)
        targets = self._encode(y, first_pass=first_pass, classes=classes,
                               incremental=incremental)
        if not first_pass and self._arch_ != self._architecture():
            raise ValueError(
                "The network's architecture parameters (hidden_layer_sizes, "
                "activation, parameterization, init, w_std, b_std) changed since "
                "module_ was built; continuing training (warm_start=True or "
                "partial_fit) needs the same ones. Set warm_start=False to start anew.")
        dtype = torch_dtype(self.dtype)
        if dtype == torch.float32:
            _check_float32_range(X)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        generator = torch.Generator().manual_seed(seed)

        if first_pass:
            module = build_mlp(
                X.shape[1], hidden, self._n_output_units(targets),
                activation=self.activation, parameterization=self.parameterization,
                init=self.init, w_std=float(self.w_std), b_std=float(self.b_std),
                generator=generator, dtype=dtype)
            self._arch_ = self._architecture()
            self._optimizer_state = None
            self.n_iter_ = 0
            self.t_ = 0
            self.loss_curve_ = []
            self._no_improvement_count = 0
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None
            self.max_learning_rate_ = None
        else:
            module = self.module_
        module = module.to(device=device, dtype=dtype)

        if self.early_stopping and not incremental:
            classifier = isinstance(self, ClassifierMixin)
            train, val = train_test_split(
                np.arange(X.shape[0]), test_size=self.validation_fraction,
                random_state=rng.randint(np.iinfo(np.int32).max),
                stratify=y if classifier else None)
            X_val = X[val]
            y_val = y[val] if classifier else targets[val]
            X, targets = X[train], targets[train]
            if first_pass or self.validation_scores_ is None:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
        else:
            X_val = y_val = None

        n_samples = X.shape[0]
        batch_size = self._batch_size(n_samples)
        Xt = to_tensor(X, dtype, device)
        Yt = to_tensor(targets, torch.long if targets.dtype.kind == "i" else dtype,
                       device)

        small = device.type == "cpu" and batch_size * n_params(module) < SMALL_WORK
        with single_thread_if(small):
            if first_pass and self.optimizer == "sgd":
                self._check_learning_rate(module, Xt, batch_size)

            optimizer = self._make_optimizer(module)
            if incremental and self._optimizer_state is not None and (
                    self._optimizer_state[0] == self.optimizer):
                optimizer.load_state_dict(self._optimizer_state[1])

            n_epochs = 1 if incremental else self.max_iter
            self._run_epochs(module, optimizer, Xt, Yt, n_epochs, batch_size, generator,
                             X_val, y_val, incremental)

        self._optimizer_state = (self.optimizer, _cpu_state(optimizer.state_dict()))
        self.module_ = module.to("cpu")
        return self

    def _check_learning_rate(self, module, Xt, batch_size):
        """Set max_learning_rate_ from the first batch; warn when exceeded."""
        rows = min(batch_size, max(1, _MAX_NTK_ROWS // self.n_outputs_))
        self.max_learning_rate_ = max_learning_rate(module, Xt[:rows], self.loss)
        ratio = self.learning_rate_init / self.max_learning_rate_
        if ratio > 1:
            warn(
                f"learning_rate_init={self.learning_rate_init:g} is {ratio:.1f} times "
                f"max_learning_rate_={self.max_learning_rate_:.3g}, the largest stable "
                "step of plain SGD at initialisation (2 / the largest eigenvalue of "
                "the loss curvature on one batch, from the network's empirical NTK). "
                "Training may diverge to NaN; lower learning_rate_init below "
                "max_learning_rate_.", LearningRateWarning)

    def _run_epochs(self, module, optimizer, Xt, Yt, n_epochs, batch_size, generator,
                    X_val, y_val, incremental):
        n = Xt.shape[0]
        criterion = self._criterion
        bar = None
        if self.verbose:
            from tqdm.auto import tqdm

            bar = tqdm(total=n_epochs, desc=type(self).__name__, unit="epoch",
                       leave=True)
        best_state = None
        converged = False
        module.train()
        try:
            for _ in range(n_epochs):
                perm = (torch.randperm(n, generator=generator).to(Xt.device)
                        if self.shuffle else None)
                total = torch.zeros((), dtype=Xt.dtype, device=Xt.device)
                for start in range(0, n, batch_size):
                    if perm is None:
                        xb = Xt[start:start + batch_size]
                        yb = Yt[start:start + batch_size]
                    else:
                        idx = perm[start:start + batch_size]
                        xb, yb = Xt[idx], Yt[idx]
                    optimizer.zero_grad(set_to_none=True)
                    loss = criterion(module(xb), yb)
                    loss.backward()
                    optimizer.step()
                    total += loss.detach() * xb.shape[0]
                epoch_loss = total.item() / n
                self.n_iter_ += 1
                self.t_ += n
                self.loss_curve_.append(epoch_loss)
                if not math.isfinite(epoch_loss):
                    self._diverged(epoch_loss)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{epoch_loss:.4g}")
                if incremental:
                    break
                if X_val is not None:
                    score = self._val_score(module, X_val, y_val)
                    self.validation_scores_.append(score)
                    if score > self.best_validation_score_:
                        self.best_validation_score_ = score
                        best_state = copy.deepcopy(module.state_dict())
                    if score < self.best_validation_score_ + self.tol:
                        self._no_improvement_count += 1
                    else:
                        self._no_improvement_count = 0
                else:
                    if epoch_loss > self.best_loss_ - self.tol:
                        self._no_improvement_count += 1
                    else:
                        self._no_improvement_count = 0
                    self.best_loss_ = min(self.best_loss_, epoch_loss)
                if self._no_improvement_count > self.n_iter_no_change:
                    converged = True
                    break
        finally:
            if bar is not None:
                bar.close()
        if X_val is not None and best_state is not None:
            module.load_state_dict(best_state)
        if X_val is not None:
            self.best_loss_ = None
        if not (incremental or converged or self.n_iter_no_change == np.inf):
            warn(
                f"Stochastic optimizer: maximum iterations ({self.max_iter}) reached "
                "and the optimization hasn't converged yet; increase max_iter, or "
                "set n_iter_no_change=np.inf to train exactly max_iter epochs.",
                ConvergenceWarning)
        else:
            self._no_improvement_count = 0

    def _diverged(self, value):
        hint = ""
        if self.max_learning_rate_ is not None:
            hint = (f" learning_rate_init={self.learning_rate_init:g} vs "
                    f"max_learning_rate_={self.max_learning_rate_:.3g} at "
                    "initialisation.")
        raise ValueError(
            f"Training diverged: the loss of epoch {self.n_iter_} is {value}."
            f"{hint} Lower learning_rate_init, or scale the input (e.g. "
            "StandardScaler).")

    def _forward_float64(self, X):
        """The network's outputs on validated X, float64 numpy (n, n_outputs).

        Inference runs in float64 on float64 copies of the parameters (exact
        widening of float32), in chunks, so a row's output does not depend on
        which other rows it is predicted with."""
        device = resolve_device(self.device, training=False)
        params = self.module_.cast_params(torch.float64, device)
        widest = max(max(W.shape) for W, _ in params)
        chunk = max(1, _CHUNK_ENTRIES // widest)
        out = np.empty((X.shape[0], self.n_outputs_))
        work = X.shape[0] * n_params(self.module_)
        small = device.type == "cpu" and work < SMALL_WORK
        with torch.no_grad(), single_thread_if(small):
            for start in range(0, X.shape[0], chunk):
                xb = to_tensor(X[start:start + chunk], torch.float64, device)
                out[start:start + chunk] = self.module_(xb, params).cpu().numpy()
        return out

    def max_learning_rate(self, X):
        """The largest stable learning rate of plain SGD for the current network.

        As neural-tangents' ``predict.max_learning_rate``: 2 over the largest
        eigenvalue of the curvature of the loss in function space, J' H J,
        written through the network's empirical NTK Theta = J J' on the rows
        of ``X`` taken as one batch, with this estimator's loss normalisation.
        For ``loss="mse"`` (the mean over all entries, without a factor 1/2)
        it is ``n_rows * n_outputs / lambda_max(Theta)``. Above it, SGD on a
        batch like ``X`` amplifies the error along the top eigenvector of the
        kernel at each step (in the linearised regime), so training diverges.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            One batch: pass ``batch_size`` training rows for the limit of the
            configured training. The cost is a (n_rows * n_outputs) square
            eigenvalue problem.

        Returns
        -------
        lr : float
            The limit for the network in its current (fitted) state;
            ``max_learning_rate_`` holds the value at initialisation.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        Xt = to_tensor(X, torch.float64, "cpu")
        return max_learning_rate(self.module_, Xt, self.loss)

    def __sklearn_is_fitted__(self):
        # a fit that raised half-way may leave counters, never module_
        return hasattr(self, "module_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


# ---------------------------------------------------------------------------
# documentation shared by the two estimators

_PARAMS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer; ``()`` is a linear model. An int ``m``
        means ``(m,)``.
    activation : {{"relu", "tanh", "logistic", "identity"}}, default="relu"
        Activation of the hidden layers. The analytic kernels of
        :func:`skntk.relu_kernel` are those of "relu".
    parameterization : {{"standard", "ntk"}}, default="standard"
        "ntk": neural-tangents' ``stax.Dense`` in NTK parameterization, every
        layer ``h = (w_std / sqrt(fan_in)) W a + b_std b`` with ``W, b`` drawn
        from N(0, 1); with ``hidden_layer_sizes=(m,) * L`` and ReLU this is the
        network whose infinite-width NTK is
        ``relu_kernel(X, Y, depth=L, w_std=w_std, b_std=b_std)``, and a wide one
        trained by SGD with small steps follows that kernel's gradient flow.
        "standard": ``h = W a + b`` (torch's ``nn.Linear``) initialised by
        ``init``.
    init : {{"normal", "xavier_normal"}}, default="normal"
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
    {loss_doc}
    optimizer : {{"sgd", "adam"}}, default="adam"
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
        Hold out ``validation_fraction`` of the training rows (stratified for
        the classifier) and stop when the validation {score_name} has not
        improved by ``tol`` for ``n_iter_no_change`` epochs; the parameters of
        the best epoch are kept.
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
    device : {{"cpu", "cuda", "auto"}}, default="cpu"
        Where training and inference run. "cuda" without CUDA raises an error
        in ``fit`` (prediction falls back to the CPU with a
        :class:`DeviceWarning`, so a model trained on a GPU predicts after
        unpickling on a machine without one); "auto" uses CUDA when available
        and the CPU otherwise, silently. ``module_`` is always stored on the
        CPU.
    dtype : {{"float32", "float64"}}, default="float32"
        Training precision. Inference always runs in float64 (on exact float64
        copies of the parameters), so predictions do not depend on how rows
        are batched.
    verbose : int, default=0
        When > 0, a tqdm progress bar over the epochs with the current loss
        (needs the ``tqdm`` package). Silent otherwise.
"""

_ATTRS_DOC = """
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
        Validation {score_name} after each epoch when ``early_stopping``; None
        otherwise.
    best_validation_score_ : float or None
        Best of ``validation_scores_``; None without early stopping.
    max_learning_rate_ : float or None
        With optimizer="sgd": the largest stable SGD learning rate at
        initialisation, from the empirical NTK of the first ``batch_size`` rows
        (at most {max_rows} rows x outputs); see :meth:`max_learning_rate`.
        None with optimizer="adam".
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
        names."""

_NOTES_DOC = """
    Notes
    -----
    Bad input never reaches torch: ``X`` must be finite and numeric, and every
    parameter is checked before training. If the training loss becomes
    infinite or NaN, ``fit`` raises a ValueError naming ``learning_rate_init``
    (and ``max_learning_rate_`` when known) instead of storing a NaN network.

    References
    ----------
    .. [1] A. Jacot, F. Gabriel, C. Hongler. "Neural Tangent Kernel: Convergence
       and Generalization in Neural Networks." NeurIPS 2018. arXiv:1806.07572
    .. [2] J. Lee et al. "Wide Neural Networks of Any Depth Evolve as Linear
       Models Under Gradient Descent." NeurIPS 2019. arXiv:1902.06720
"""


class TorchMLPClassifier(ClassifierMixin, _BaseTorchMLP):
    __doc__ = (
        """Multilayer perceptron classifier trained in torch.

    A fully connected network ``[Dense, activation] * len(hidden_layer_sizes) +
    Dense`` with one output unit for two classes and one per class otherwise,
    trained by minibatch SGD or Adam on the cross-entropy or the squared error
    to one-hot targets. ``fit`` builds ``module_`` from the parameters (it never
    takes a user's module), so the estimator clones, pickles, and plugs into
    :class:`~sklearn.pipeline.Pipeline` and
    :class:`~sklearn.model_selection.GridSearchCV` like any scikit-learn
    classifier, next to its kernel :class:`skntk.NTKClassifier`.
"""
        + _PARAMS_DOC.format(
            score_name="accuracy",
            loss_doc="""loss : {"cross_entropy", "mse"}, default="cross_entropy"
        "cross_entropy": logistic loss on one logit (two classes) or softmax
        cross-entropy. "mse": squared error (mean over rows and outputs, torch's
        ``MSELoss``) to targets 0/1 (two classes) or one-hot rows;
        ``predict_proba`` is then the output clipped to [0, 1] (rows normalised
        to sum to 1), and ``predict`` its argmax: the output > 0.5 for two
        classes.""")
        + _ATTRS_DOC.format(score_name="accuracy", max_rows=_MAX_NTK_ROWS)
        + """
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    See Also
    --------
    TorchMLPRegressor : The same network on a continuous target.
    skntk.NTKClassifier : The network's infinite-width kernel.
    sklearn.neural_network.MLPClassifier : scikit-learn's numpy MLP.
"""
        + _NOTES_DOC
        + """
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
""")

    _parameter_constraints = {
        **_BaseTorchMLP._parameter_constraints,
        "loss": [StrOptions({"cross_entropy", "mse"})],
    }

    def __init__(self, hidden_layer_sizes=(100,), *, activation="relu",
                 parameterization="standard", init="normal", w_std=1.0, b_std=0.0,
                 loss="cross_entropy", optimizer="adam", learning_rate_init=0.001,
                 batch_size="auto", max_iter=200, shuffle=True, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, tol=1e-4,
                 warm_start=False, random_state=None, device="cpu", dtype="float32",
                 verbose=0):
        super().__init__(
            hidden_layer_sizes, activation=activation,
            parameterization=parameterization, init=init, w_std=w_std, b_std=b_std,
            loss=loss, optimizer=optimizer, learning_rate_init=learning_rate_init,
            batch_size=batch_size, max_iter=max_iter, shuffle=shuffle,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, tol=tol, warm_start=warm_start,
            random_state=random_state, device=device, dtype=dtype, verbose=verbose)

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

    def _val_score(self, module, X_val, y_val):
        with torch.no_grad():
            out = module(to_tensor(X_val, module.layers[0].weight.dtype,
                                   module.layers[0].weight.device))
        proba = self._proba_from_outputs(out.double().cpu().numpy())
        return float(np.mean(self.classes_[proba.argmax(axis=1)] == y_val))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Build ``module_`` and train it (or continue, with ``warm_start``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, finite.
        y : array-like of shape (n_samples,)
            Class labels (at least two classes).

        Returns
        -------
        self : TorchMLPClassifier
            The fitted estimator.
        """
        return self._fit(X, y, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None):
        """Train one epoch over (X, y), continuing from the current state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, finite.
        y : array-like of shape (n_samples,)
            Class labels, all in ``classes``.
        classes : array-like of shape (n_classes,), default=None
            All the classes; required on the first call, optional after.

        Returns
        -------
        self : TorchMLPClassifier
            The updated estimator.
        """
        return self._fit(X, y, incremental=True, classes=classes)

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


class TorchMLPRegressor(MultiOutputMixin, RegressorMixin, _BaseTorchMLP):
    __doc__ = (
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
"""
        + _PARAMS_DOC.format(
            score_name="R^2",
            loss_doc="""loss : {"mse"}, default="mse"
        Squared error, the mean over rows and targets (torch's ``MSELoss``, no
        factor 1/2: one SGD step of size lr is gradient flow on neural-tangents'
        ``0.5 * mean`` loss for a time 2 lr).""")
        + _ATTRS_DOC.format(score_name="R^2", max_rows=_MAX_NTK_ROWS)
        + """

    See Also
    --------
    TorchMLPClassifier : The same network on class labels.
    skntk.NTKRegressor : The network's infinite-width kernel, also at finite
        training time.
    sklearn.neural_network.MLPRegressor : scikit-learn's numpy MLP.
"""
        + _NOTES_DOC
        + """
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
""")

    _parameter_constraints = {
        **_BaseTorchMLP._parameter_constraints,
        "loss": [StrOptions({"mse"})],
    }

    def __init__(self, hidden_layer_sizes=(100,), *, activation="relu",
                 parameterization="standard", init="normal", w_std=1.0, b_std=0.0,
                 loss="mse", optimizer="adam", learning_rate_init=0.001,
                 batch_size="auto", max_iter=200, shuffle=True, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, tol=1e-4,
                 warm_start=False, random_state=None, device="cpu", dtype="float32",
                 verbose=0):
        super().__init__(
            hidden_layer_sizes, activation=activation,
            parameterization=parameterization, init=init, w_std=w_std, b_std=b_std,
            loss=loss, optimizer=optimizer, learning_rate_init=learning_rate_init,
            batch_size=batch_size, max_iter=max_iter, shuffle=shuffle,
            early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, tol=tol, warm_start=warm_start,
            random_state=random_state, device=device, dtype=dtype, verbose=verbose)

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

    def _val_score(self, module, X_val, y_val):
        with torch.no_grad():
            out = module(to_tensor(X_val, module.layers[0].weight.dtype,
                                   module.layers[0].weight.device))
        return float(r2_score(y_val, out.double().cpu().numpy()))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Build ``module_`` and train it (or continue, with ``warm_start``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, finite.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets, finite.

        Returns
        -------
        self : TorchMLPRegressor
            The fitted estimator.
        """
        return self._fit(X, y, incremental=False)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y):
        """Train one epoch over (X, y), continuing from the current state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, finite.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets, finite.

        Returns
        -------
        self : TorchMLPRegressor
            The updated estimator.
        """
        return self._fit(X, y, incremental=True)

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
