"""The training, inference and diagnostics shared by the network estimators.

:class:`_BaseTorchMLP` holds the parameters, ``fit`` and the training loop
of ``fit`` / ``partial_fit`` (minibatch SGD or Adam, sample weights, early
stopping by scikit-learn's rules from ``_stopping.py``, warm starts), the
float64 inference in chunks and the ``max_learning_rate`` method; the
subclasses in ``_classifier.py`` and ``_regressor.py`` supply ``partial_fit``,
the targets, the loss and the scores.
"""

import copy
import math
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils.activations import NAMES, Activation, check_activation, check_elementwise
from ..utils.chunks import row_chunks
from ..utils.compat import Interval, Options, StrOptions, fit_context
from ..utils.devices import resolve_device, torch_dtype
from ..utils.versions import VersionedStateMixin
from ..utils.warn import warn
from ._diagnostics import (EXACT_NTK_ROWS, MAX_NTK_ROWS, LearningRateWarning,
                           estimate_max_learning_rate, max_learning_rate)
from ._drift import start_drift
from ._inputs import check_float32_range, check_hidden_layer_sizes
from ._stopping import check_weights, update_no_improvement, validation_split
from ._torch import SMALL_WORK, build_mlp, n_params, single_thread_if, to_tensor

__all__ = []

# the parameters whose values _architecture() holds, in its order
# (negative_slope is held with activation, in its ActivationSpec)
_ARCHITECTURE = ("hidden_layer_sizes", "activation", "parameterization", "init",
                 "w_std", "b_std")

# inference runs in float64 on chunks of rows x widest layer within this many
# MiB (2**22 float64 entries)
_CHUNK_MIB = 32
# an epoch loss above the subclass's _loss_ceiling that has grown this many
# times since the fit's first epoch is a divergence
GROWTH = 1e3


def _cpu_state(obj):
    """A copy of an optimizer state dict with every tensor on the CPU."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().to("cpu", copy=True)
    if isinstance(obj, dict):
        return {k: _cpu_state(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_cpu_state(v) for v in obj)
    return obj


def _all_finite(params):
    """Every entry of every tensor is finite: one sum per tensor, with one
    device sync (a NaN or an inf makes the sum NaN or inf); a sum that
    overflows from finite entries falls back to the exact check."""
    params = [p.detach() for p in params]
    if not params:
        return True
    sums = torch.stack([p.sum() for p in params])
    if bool(torch.isfinite(sums).all()):
        return True
    return all(bool(torch.isfinite(p).all()) for p in params)


class _BaseTorchMLP(VersionedStateMixin, BaseEstimator):
    """Training, inference and diagnostics shared by the two estimators."""

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like",
                               Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(NAMES)), callable, Activation],
        "negative_slope": [Real, None],
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
        "check_learning_rate": ["boolean"],
        "record_drift": ["boolean"],
        "drift_probe_size": [StrOptions({"auto"}),
                             Interval(Integral, 1, None, closed="left")],
    }

    # TorchMLPRegressor's signature (TorchMLPClassifier's differs in its loss)
    def __init__(self, hidden_layer_sizes=(100,), *, activation="relu",
                 negative_slope=None, parameterization="standard", init="normal",
                 w_std=1.0, b_std=0.0,
                 loss="mse", optimizer="adam", learning_rate_init=0.001,
                 batch_size="auto", max_iter=200, shuffle=True, early_stopping=False,
                 validation_fraction=0.1, n_iter_no_change=10, tol=1e-4,
                 warm_start=False, random_state=None, device="cpu", dtype="float32",
                 verbose=0, check_learning_rate=True,
                 record_drift=False, drift_probe_size="auto"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.negative_slope = negative_slope
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
        self.check_learning_rate = check_learning_rate
        self.record_drift = record_drift
        self.drift_probe_size = drift_probe_size

    # -- hooks of the subclasses -------------------------------------------
    # _validate_xy(X, y, reset) -> X, y ; _encode(y, first_pass, classes) -> targets
    # (numpy, float (n, k) or int (n,)) ; _criterion(out, target) (mean loss) ;
    # _row_losses(out, target) (n,) ; _val_score(module, X, y, sample_weight) ;
    # _loss_ceiling(targets) (a loss above which growth means divergence)

    def _loss_ceiling(self, targets):
        return math.inf

    def _architecture(self):
        return (check_hidden_layer_sizes(self.hidden_layer_sizes),
                check_activation(self.activation, self.negative_slope),
                self.parameterization, self.init, float(self.w_std), float(self.b_std))

    def _changed_architecture(self):
        """The architecture parameters changed since ``module_`` was built."""
        old, new = self._arch_, self._architecture()
        if isinstance(old[1], str):  # pickled before activations had specs
            old = (old[0], check_activation(old[1]), *old[2:])
        changed = [name for name, a, b in zip(_ARCHITECTURE, old, new) if a != b]
        if "activation" in changed and (old[1].name, old[1].function,
                                        old[1].derivative) == (
                new[1].name, new[1].function, new[1].derivative):
            changed[changed.index("activation")] = "negative_slope"
        return changed

    def _check_params(self):
        hidden = check_hidden_layer_sizes(self.hidden_layer_sizes)
        check_elementwise(check_activation(self.activation, self.negative_slope))
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

    def _fit(self, X, y, sample_weight=None, *, incremental, classes=None):
        if incremental and self.early_stopping:
            # scikit-learn's MLP raises the same (a ValueError)
            raise ValueError(
                "partial_fit does not support early_stopping=True: it trains one "
                "epoch on the rows it is given, with no validation split to stop "
                "on. Set early_stopping=False, or use fit.")
        hidden = self._check_params()
        device = resolve_device(self.device)
        first_pass = not hasattr(self, "module_") or (
            not self.warm_start and not incremental)
        X, y = self._validate_xy(X, y, reset=first_pass)
        sample_weight = check_weights(sample_weight, X)
        targets = self._encode(y, first_pass=first_pass, classes=classes,
                               incremental=incremental)
        changed = [] if first_pass else self._changed_architecture()
        if changed:
            raise ValueError(
                f"{', '.join(changed)} changed since module_ was built (the "
                "network's architecture parameters hidden_layer_sizes, activation, "
                "negative_slope, parameterization, init, w_std and b_std must stay "
                "the same to continue training with warm_start=True or "
                "partial_fit). Set warm_start=False to start anew.")
        dtype = torch_dtype(self.dtype)
        # float32 training: X converted once, checked as it is converted
        X32 = check_float32_range(X) if dtype == torch.float32 else None
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        generator = torch.Generator().manual_seed(seed)

        if first_pass:
            module = build_mlp(
                X.shape[1], hidden, self._n_output_units(targets),
                activation=self._architecture()[1],
                parameterization=self.parameterization,
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

        val = None
        if self.early_stopping:
            classifier = isinstance(self, ClassifierMixin)
            # as scikit-learn: stratified for one output unit (two classes) only
            binary = classifier and self.n_outputs_ == 1
            train, val_rows = validation_split(
                X.shape[0], fraction=self.validation_fraction,
                stratify=y if binary else None,
                random_state=rng.randint(np.iinfo(np.int32).max),
                sample_weight=sample_weight)
            val = (X[val_rows], y[val_rows] if classifier else targets[val_rows],
                   None if sample_weight is None else sample_weight[val_rows])
            X, targets = X[train], targets[train]
            if X32 is not None:
                X32 = X32[train]
            if sample_weight is not None:
                sample_weight = sample_weight[train]
            if first_pass or self.validation_scores_ is None:
                self.validation_scores_ = []
                self.best_validation_score_ = -np.inf
        elif self.best_loss_ is None:  # warm start after an early-stopped fit
            self.best_loss_ = np.inf

        n_samples = X.shape[0]
        batch_size = self._batch_size(n_samples)
        Xt = (to_tensor(X, dtype, device) if X32 is None
              else torch.from_numpy(X32).to(device))  # X32 is ours: no copy
        Yt = to_tensor(targets, torch.long if targets.dtype.kind == "i" else dtype,
                       device)

        small = device.type == "cpu" and batch_size * n_params(module) < SMALL_WORK
        with single_thread_if(small):
            if first_pass and self.optimizer == "sgd" and self.check_learning_rate:
                self._check_learning_rate(module, Xt, batch_size)

            optimizer = self._make_optimizer(module)
            if incremental and self._optimizer_state is not None and (
                    self._optimizer_state[0] == self.optimizer):
                optimizer.load_state_dict(self._optimizer_state[1])

            n_epochs = 1 if incremental else self.max_iter
            drift = start_drift(self, module, Xt, first_pass)
            try:
                self._run_epochs(module, optimizer, Xt, Yt, sample_weight, n_epochs,
                                 batch_size, generator, val, incremental, drift)
            finally:
                if drift is not None:
                    drift.store(self)

        self._optimizer_state = (self.optimizer, _cpu_state(optimizer.state_dict()))
        self.module_ = module.to("cpu")
        return self

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Build ``module_`` and train it (or continue, with ``warm_start``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data, finite.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Class labels, at least two classes (the classifier), or finite
            targets, one or several columns (the regressor).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows (None: all 1). Each batch's loss
            is the weighted mean of its rows' losses (normalised by the
            batch's total weight, as scikit-learn's MLP), so integer weights
            act as repeated rows and zero weights as removed ones (exactly
            with full-batch training; in distribution with minibatches, whose
            batches hold rows rather than weight; a batch of zero weights
            takes no step). With ``early_stopping`` the validation rows keep
            their weights, and the validation score is weighted.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def _check_learning_rate(self, module, Xt, batch_size):
        """Set max_learning_rate_ from the first batch (Lanczos, a few
        training steps' worth of work); warn when exceeded."""
        rows = min(batch_size, max(1, MAX_NTK_ROWS // self.n_outputs_))
        if rows * self.n_outputs_ <= EXACT_NTK_ROWS:
            # a small batch NTK costs less than the Lanczos iterations
            self.max_learning_rate_ = max_learning_rate(
                module, Xt[:rows].to(torch.float64), self.loss)
        else:
            self.max_learning_rate_ = estimate_max_learning_rate(
                module, Xt[:rows], self.loss)
        ratio = self.learning_rate_init / self.max_learning_rate_
        if ratio > 1:
            warn(
                f"learning_rate_init={self.learning_rate_init:g} is {ratio:.1f} times "
                f"max_learning_rate_={self.max_learning_rate_:.3g}, the largest stable "
                "step of plain SGD at initialisation (2 / the largest eigenvalue of "
                "the loss curvature on one batch, from the network's empirical NTK). "
                "Training may diverge to NaN; lower learning_rate_init below "
                "max_learning_rate_.", LearningRateWarning)

    def _batch_loss(self, out, target, weight, weight_sum):
        """The loss of one batch: the subclass's mean loss, or with sample
        weights the weighted mean of the rows' losses, normalised by the
        batch's total weight (scikit-learn's MLP normalisation)."""
        if weight is None:
            return self._criterion(out, target)
        return (self._row_losses(out, target) * weight).sum() / weight_sum

    def _record_epoch(self, value, early_stopping):
        """Update ``_no_improvement_count`` and the best validation score (or
        training loss) with one epoch's value, as scikit-learn's
        ``_update_no_improvement_count``; True when the value is a new best."""
        if early_stopping:
            self.validation_scores_.append(value)
            self._no_improvement_count, self.best_validation_score_, improved = (
                update_no_improvement(self._no_improvement_count,
                                      self.best_validation_score_, value, self.tol,
                                      higher_is_better=True))
        else:
            self._no_improvement_count, self.best_loss_, improved = (
                update_no_improvement(self._no_improvement_count, self.best_loss_,
                                      value, self.tol, higher_is_better=False))
        return improved

    def _run_epochs(self, module, optimizer, Xt, Yt, sample_weight, n_epochs,
                    batch_size, generator, val, incremental, drift=None):
        n = Xt.shape[0]
        weights = None
        if sample_weight is not None:
            weights = to_tensor(sample_weight, Xt.dtype, Xt.device)
            # batch totals are summed on the CPU in float64: a batch of
            # zero-weight rows is skipped exactly, without a device sync
            sw_cpu = torch.from_numpy(np.ascontiguousarray(sample_weight))
        total_weight = n if weights is None else float(sample_weight.sum())
        bar = None
        if self.verbose:
            from tqdm.auto import tqdm

            bar = tqdm(total=n_epochs, desc=type(self).__name__, unit="epoch",
                       leave=True)
        # continuing an early-stopped fit (warm_start): module_ is the best
        # network of the previous fit, whose score best_validation_score_ holds
        best_state = None
        if val is not None and np.isfinite(self.best_validation_score_):
            best_state = copy.deepcopy(module.state_dict())
        converged = False
        # a loss far above the target's scale that keeps growing is a divergence
        # (SGD above its stable step grows geometrically; left alone, the last
        # steps reach outputs whose squares overflow scikit-learn's scores)
        ceiling, first = self._loss_ceiling(Yt), len(self.loss_curve_)
        module.train()
        try:
            for _ in range(n_epochs):
                perm_cpu = (torch.randperm(n, generator=generator)
                            if self.shuffle else None)
                perm = None if perm_cpu is None else perm_cpu.to(Xt.device)
                total = torch.zeros((), dtype=Xt.dtype, device=Xt.device)
                for start in range(0, n, batch_size):
                    stop = start + batch_size
                    idx = slice(start, stop) if perm is None else perm[start:stop]
                    xb, yb = Xt[idx], Yt[idx]
                    wb, wsum = None, xb.shape[0]
                    if weights is not None:
                        wsum = float((sw_cpu[start:stop] if perm_cpu is None else
                                      sw_cpu[perm_cpu[start:stop]]).sum())
                        if wsum == 0:
                            continue  # no data in this batch: no step
                        wb = weights[idx]
                    optimizer.zero_grad(set_to_none=True)
                    loss = self._batch_loss(module(xb), yb, wb, wsum)
                    loss.backward()
                    optimizer.step()
                    total += loss.detach() * wsum
                epoch_loss = total.item() / total_weight
                self.n_iter_ += 1
                self.t_ += n
                self.loss_curve_.append(epoch_loss)
                if drift is not None:  # record_drift: see _drift.py
                    drift.record(module)
                if not math.isfinite(epoch_loss) or (
                        epoch_loss > ceiling
                        and epoch_loss > GROWTH * self.loss_curve_[first]):
                    self._diverged(epoch_loss, self.loss_curve_[first])
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{epoch_loss:.4g}")
                if incremental:
                    break
                if val is not None:
                    score = self._val_score(module, *val)
                    if self._record_epoch(score, early_stopping=True):
                        best_state = copy.deepcopy(module.state_dict())
                else:
                    self._record_epoch(epoch_loss, early_stopping=False)
                if self._no_improvement_count > self.n_iter_no_change:
                    converged = True
                    break
        finally:
            if bar is not None:
                bar.close()
        if val is not None and best_state is not None:
            module.load_state_dict(best_state)  # scikit-learn restores the best too
        # the loss is taken before each step: the last steps can still blow
        # the parameters up
        if not _all_finite(module.parameters()):
            self._diverged("not finite after its last step")
        if val is not None:
            self.best_loss_ = None
        if not (incremental or converged or self.n_iter_no_change == np.inf):
            warn(
                f"Stochastic optimizer: maximum iterations ({self.max_iter}) reached "
                "and the optimization hasn't converged yet; increase max_iter, or "
                "set n_iter_no_change=np.inf to train exactly max_iter epochs.",
                ConvergenceWarning)
        else:
            self._no_improvement_count = 0

    @staticmethod
    def _val_outputs(module, X_val):
        """The outputs of the training-state ``module`` on the validation rows
        (in its dtype, on its device), as float64 numpy."""
        with torch.no_grad():
            out = module(to_tensor(X_val, module.layers[0].weight.dtype,
                                   module.layers[0].weight.device))
        return out.double().cpu().numpy()

    def _diverged(self, value, first_loss=None):
        # value: the non-finite or runaway loss of this epoch, or a description
        hint = ""
        if self.max_learning_rate_ is not None:
            hint = (f" learning_rate_init={self.learning_rate_init:g} vs "
                    f"max_learning_rate_={self.max_learning_rate_:.3g} at "
                    "initialisation.")
        if isinstance(value, str):
            what = f"the network's parameters are {value} (epoch {self.n_iter_})"
        elif math.isfinite(value):
            what = (f"the loss of epoch {self.n_iter_} is {value:.3g}, "
                    f"{value / first_loss:.3g} times its first epoch's and far "
                    "above the targets' scale")
        else:
            what = f"the loss of epoch {self.n_iter_} is {value}"
        raise ValueError(
            f"Training diverged: {what}.{hint} Lower learning_rate_init, or scale "
            "the input (e.g. StandardScaler).")

    def _forward_float64(self, X):
        """The network's outputs on validated X, float64 numpy (n, n_outputs).

        Inference runs in float64 on float64 copies of the parameters (exact
        widening of float32), in chunks, so a row's output does not depend on
        which other rows it is predicted with."""
        # "cuda" without CUDA: a DeviceWarning and the CPU (a model trained on a
        # GPU still predicts after unpickling elsewhere)
        device = resolve_device(self.device, fallback_to_cpu=True)
        params = self.module_.cast_params(torch.float64, device)
        widest = max(max(W.shape) for W, _ in params)
        out = np.empty((X.shape[0], self.n_outputs_))
        work = X.shape[0] * n_params(self.module_)
        small = device.type == "cpu" and work < SMALL_WORK
        with torch.no_grad(), single_thread_if(small):
            for rows in row_chunks(X.shape[0], 8 * widest, _CHUNK_MIB):
                xb = to_tensor(X[rows], torch.float64, device)
                out[rows] = self.module_(xb, params).cpu().numpy()
        if not np.isfinite(out).all():
            raise ValueError(
                "The network's outputs on X are not finite (they overflow float64: "
                f"X has values up to {float(np.abs(X).max()):.3g}). Scale X as it "
                "was scaled for training (e.g. StandardScaler), or refit with a "
                "smaller learning_rate_init if training diverged.")
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
