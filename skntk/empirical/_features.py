"""EmpiricalNTKFeatures: per-layer gradients of a three-layer net, in closed form.

The estimator: parameters, checks, batching and the numpy / torch backends.
The read-out training (``train_steps``) is in ``_training.py``; the
closed-form forward and backward pass run on every batch of rows, and the
derivation, are in ``_ops.py``. torch is imported only when
``device`` is not ``"cpu"``.
"""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils.activations import (
    NAMES,
    Activation,
    ActivationSpec,
    check_activation,
    check_elementwise,
)
from ..utils.chunks import chunk_rows, row_chunks
from ..utils.compat import Interval, StrOptions, check_feature_names_in, fit_context
from ..utils.versions import VersionedStateMixin
from ._checks import (
    check_finite_output,
    check_gram_memory,
    check_transform_memory,
    encode_target,
    validate_fitted,
)
from ._ops import _backprop, _fill, _gram_factors, _NumpyOps, _TorchOps
from ._params import LAYERS as _LAYERS
from ._params import check_layers, draw_params
from ._training import _TrainingMixin

__all__ = ["EmpiricalNTKFeatures"]

_FLOATS = [np.float64, np.float32]

# numpy path: narrow outputs larger than _ONE_BATCH_BYTES are written in
# batches of about _BATCH_BYTES of output (when at least _MIN_ROWS rows fit):
# the factors, einsum's zeroing and accumulation and the written rows stay in
# cache, and a batch's GEMMs stay below OpenBLAS's threading threshold, whose
# second thread stalls on a busy machine. At (n, d, m) = (2000, 25, 25): 5.5-7
# ms against 13-38 ms in one batch, np.copyto 2.5-3 ms (load 3-4 on 2 cores);
# (1200, 25, 25): 3.8 against 7.1 ms. Smaller outputs stay in cache anyway and
# skip the batches' fixed costs (50 us each): (500, 25, 25) 0.89-0.90 ms in one
# batch against 1.03 ms in three. Wide outputs (a few rows per MiB) are
# written in one batch, by torch's threads (see _ops._TORCH_OUTER_MIN).
_BATCH_BYTES = 2 << 20
_MIN_ROWS = 64
_ONE_BATCH_BYTES = 8 << 20


def _same(a):
    return a


def _check_out(out, shape):
    ok = (isinstance(out, np.ndarray) and out.shape == shape
          and out.dtype in (np.float32, np.float64) and out.flags.c_contiguous
          and out.flags.writeable)
    if not ok:
        what = (f"{type(out).__name__}" if not isinstance(out, np.ndarray) else
                f"array of shape {out.shape}, dtype {out.dtype.name}"
                + ("" if out.flags.c_contiguous else ", not C-contiguous")
                + ("" if out.flags.writeable else ", read-only"))
        raise ValueError(
            f"out must be a writeable, C-contiguous float32 or float64 numpy array "
            f"of shape {shape} (n_samples, n_features_out_), got {what}.")


class EmpiricalNTKFeatures(VersionedStateMixin, _TrainingMixin, TransformerMixin,
                           BaseEstimator):
    """Per-layer gradient features df/dθ of a three-layer net (empirical NTK).

    The net is ``f(x) = s3 u' phi(s2 V phi(s1 W x))`` (``phi`` the
    ``activation``, ReLU by default) with ``W`` of shape
    ``(m1, d)``, ``V`` of shape ``(m2, m1)``, ``u`` of shape ``(m2,)`` and no
    biases, as in the seed notebook "Learning Using NTK v2.0". ``transform`` maps
    each row ``x`` to the concatenated gradients ``df/dW``, ``df/dV``, ``df/du``
    (flattened row-major, so column ``W_j_k`` is ``df/dW[j, k]``) of the chosen
    ``layers``, computed in closed form for a whole batch of rows at once. The
    inner product of two rows' features is the empirical Neural Tangent Kernel of
    the chosen layers; :meth:`empirical_ntk` computes that Gram without the
    features.

    Parameters
    ----------
    hidden_layer_sizes : tuple of two int, default=(100, 100)
        Widths ``(m1, m2)`` of the two hidden layers. The features have
        ``m1 d + m2 m1 + m2`` columns: the ``V`` block grows as width squared.

    layers : tuple of {"W", "V", "u"} or str, default=("W", "V", "u")
        The layers whose gradients are returned, always in the order W, V, u.

    activation : str, callable or Activation, default="relu"
        The net's ``phi``, the vocabulary of every ``activation=`` in skntk:
        "relu", "tanh", "logistic", "identity", "erf", "gelu" (exact,
        ``x Phi(x)``), "leaky_relu" (slope ``negative_slope`` below 0) or
        "abs"; or an elementwise function of a torch tensor, its derivative
        by torch autograd, or a :class:`skntk.utils.activations.Activation`
        with its derivative. The gradients stay in closed form, with
        ``phi'`` in place of ReLU's 0/1 mask (torch's convention at a kink:
        ``relu'(0) = abs'(0) = 0``). A callable runs through torch (a
        zero-copy view on ``device="cpu"``), is checked in ``fit``
        (elementwise, finite on [-10, 10]), and pickles only if importable
        (a module-level ``def``, ``torch.sin``), not a lambda.

    negative_slope : float, default=None
        The slope of "leaky_relu" for negative inputs (None: 0.01). Any other
        activation refuses a value.

    parameterization : {"ntk", "standard"}, default="ntk"
        ``"ntk"``: ``s1 = 1/sqrt(d)``, ``s2 = 1/sqrt(m1)``, ``s3 = 1/sqrt(m2)`` and
        parameters drawn from N(0, 1) (neural-tangents' default); as the widths
        grow, the features' Gram tends to the analytic NTK of depth 2 with
        ``w_std=1`` and ``b_std=0`` for the activation (layers W, V, u):
        ``ReluNTK(depth=2)`` for ReLU. ``"standard"``: all ``s = 1`` and
        parameters drawn from N(0, 1 / fan_in) (the seed notebook).

    init_params : dict or None, default=None
        Given parameters for some of ``"W"`` (shape ``(m1, d)``), ``"V"``
        (``(m2, m1)``) and ``"u"`` (``(m2,)`` or ``(m2, 1)``), copied in ``fit``;
        the others are drawn from ``random_state`` in the order W, V, u (a given
        layer consumes no random numbers). With ``np.random.seed(s)`` this is the
        order of the seed notebook's draws, so ``random_state=s`` reproduces it.

    n_components : int or None, default=None
        If given, each chosen layer block with more than ``n_components``
        features is replaced by a seeded random sketch with ``n_components``
        columns whose inner products are unbiased estimates of the block's (see
        Notes); the full features are never formed. Smaller blocks are returned
        exactly. Must be smaller than the largest chosen block.

    train_steps : int, default=0
        Number of full-batch gradient-descent steps on the training loss (with
        the ``y`` given to ``fit``, all three layers) before the gradients are
        taken. ``transform`` never sees labels.

    loss : {"squared_error", "log_loss"}, default="squared_error"
        Training loss: ``(f - y)^2 / 2`` (numeric ``y``) or ``log(1 + exp(-y f))``
        (two classes, the larger one as ``y = +1``).

    learning_rate : float, default=1.0
        Step size relative to ``1 / mean_i Θ(x_i, x_i)``, the inverse mean
        diagonal of the empirical NTK (all layers) on the training rows at
        initialisation. Since that mean bounds the largest eigenvalue of the
        Gram divided by ``n``, values below 2 keep the linearised dynamics
        stable for both losses, whatever the scale of ``X``.

    random_state : int, RandomState instance or None, default=None
        Seeds the parameters and the sketch (drawn in that order).

    device : str, default="cpu"
        ``"cpu"`` computes with numpy (BLAS); anything else (``"cuda"``,
        ``"cuda:1"``, ``"mps"``, or ``"auto"``: CUDA when available, else the
        CPU) with torch on that device, in the input dtype, batch by batch; the
        output is a numpy array. Resolved by
        :func:`skntk.utils.devices.resolve_device`: CUDA asked for on a machine
        without it is an error.

    working_memory : float or None, default=None
        Bound in MiB on the temporaries of one batch of rows; the output itself
        is not counted. ``None`` uses ``sklearn.get_config()["working_memory"]``.
        The output (features or Gram) is checked before it is allocated against
        ``SKNTK_MAX_MEMORY`` (else the available memory): a MemoryError names
        the options that fit.

    Attributes
    ----------
    W_ : ndarray of shape (m1, `n_features_in_`)
        First-layer weights at which the gradients are taken.

    V_ : ndarray of shape (m2, m1)
        Second-layer weights.

    u_ : ndarray of shape (m2,)
        Read-out weights.

    layer_slices_ : dict of str to slice
        The columns of each chosen layer in the output of ``transform``.

    n_features_out_ : int
        Number of output columns.

    sketch_ : dict
        Per sketched layer the random factors (empty without ``n_components``).

    loss_curve_ : list of float
        Training loss before each step (empty without ``train_steps``).

    n_iter_ : int
        Number of training steps taken.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, when ``X`` has string column names.

    See Also
    --------
    skntk.ReluNTK : The analytic limit of the features' Gram as the widths grow.

    Notes
    -----
    **Sketch.** A block ``phi = a ⊗ b`` (``df/dW = D1 ⊗ Xs``, ``df/dV = D2 ⊗ H1s``)
    is sketched with ``k = n_components`` independent Gaussian pairs
    ``(r_c, t_c)``, ``z_c = (r_c·a)(t_c·b) / sqrt(k)``, which costs
    ``O(k (len(a) + len(b)))`` per row instead of ``O(k len(a) len(b))``. Then
    ``E[z·z'] = phi·phi'`` and

    ``Var(z·z') = [(|a|²|a'|² + 2(a·a')²)(|b|²|b'|² + 2(b·b')²) - (phi·phi')²] / k``;

    the ``u`` block gets a dense Gaussian sketch ``z = R' h / sqrt(k)`` with
    ``Var(z·z') = (|h|²|h'|² + (h·h')²) / k``. Blocks are sketched independently,
    so the variances of the chosen blocks add up.

    References
    ----------
    .. [1] A. Jacot, F. Gabriel, C. Hongler. "Neural Tangent Kernel: Convergence
       and Generalization in Neural Networks". NeurIPS 2018. arXiv:1806.07572
    .. [2] B. Rakhshan, G. Rabusseau. "Tensorized Random Projections". AISTATS
       2020. arXiv:2003.05101

    Examples
    --------
    >>> import numpy as np
    >>> from skntk import EmpiricalNTKFeatures
    >>> X = np.random.default_rng(0).standard_normal((5, 3))
    >>> ntk = EmpiricalNTKFeatures(hidden_layer_sizes=(4, 2), random_state=0)
    >>> Phi = ntk.fit_transform(X)
    >>> Phi.shape, ntk.layer_slices_["V"]
    ((5, 22), slice(12, 20, None))
    >>> ntk.get_feature_names_out()[[0, 12, 21]].tolist()
    ['W_0_0', 'V_0_0', 'u_1']
    >>> bool(np.allclose(ntk.empirical_ntk(X), Phi @ Phi.T))
    True
    """

    _parameter_constraints = {
        "hidden_layer_sizes": [tuple, list],
        "layers": [tuple, list, StrOptions(set(_LAYERS))],
        "activation": [StrOptions(set(NAMES)), callable, Activation],
        "negative_slope": [Real, None],
        "parameterization": [StrOptions({"ntk", "standard"})],
        "init_params": [dict, None],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "train_steps": [Interval(Integral, 0, None, closed="left")],
        "loss": [StrOptions({"squared_error", "log_loss"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "device": "no_validation",  # a str or torch.device, checked in fit
        "working_memory": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(self, hidden_layer_sizes=(100, 100), *, layers=_LAYERS,
                 activation="relu", negative_slope=None, parameterization="ntk",
                 init_params=None, n_components=None,
                 train_steps=0, loss="squared_error", learning_rate=1.0,
                 random_state=None, device="cpu", working_memory=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.layers = layers
        self.activation = activation
        self.negative_slope = negative_slope
        self.parameterization = parameterization
        self.init_params = init_params
        self.n_components = n_components
        self.train_steps = train_steps
        self.loss = loss
        self.learning_rate = learning_rate
        self.random_state = random_state
        self.device = device
        self.working_memory = working_memory

    # ------------------------------------------------------------------ checks
    def _check_device(self):
        """None for the numpy path (device="cpu"), else the torch device."""
        if str(self.device) == "cpu":
            return None
        from ..utils.devices import resolve_device

        return resolve_device(self.device)


    def _scales(self):
        if self.parameterization == "standard":
            return (1.0, 1.0, 1.0)
        (m1, d), (m2, _) = self.W_.shape, self.V_.shape
        return (1 / math.sqrt(d), 1 / math.sqrt(m1), 1 / math.sqrt(m2))


    # ------------------------------------------------------------------ fit
    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Draw (or take) the net's parameters, optionally train them, draw the sketch.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.

        y : array-like of shape (n_samples,) or None, default=None
            Training targets; used only when ``train_steps > 0``.

        Returns
        -------
        self : EmpiricalNTKFeatures
            The fitted transformer. A fit that raises leaves it unfitted.
        """
        try:
            return self._fit(X, y)
        except BaseException:
            for name in [k for k in vars(self) if k.endswith("_") and k[0] != "_"]:
                delattr(self, name)
            raise

    def _fit(self, X, y):
        layers = check_layers(self)
        # the activation of the fitted net (set_params after fit changes nothing)
        self._activation = check_elementwise(
            check_activation(self.activation, self.negative_slope))
        self._check_device()
        if self.train_steps > 0:
            if y is None:
                raise ValueError(
                    f"{type(self).__name__} with train_steps={self.train_steps} "
                    "requires y to be passed, but the target y is None.")
            X, y = validate_data(self, X, y, dtype=_FLOATS, y_numeric=False)
            y = encode_target(y, self.loss)
        else:
            X = validate_data(self, X, dtype=_FLOATS)
        d = X.shape[1]
        rng = check_random_state(self.random_state)
        params = draw_params(self, d, rng)
        self.W_, self.V_, self.u_ = params["W"], params["V"], params["u"]

        sizes = {"W": self.W_.size, "V": self.V_.size, "u": self.u_.size}
        k = self.n_components
        if k is not None and k >= max(sizes[name] for name in layers):
            raise ValueError(
                f"n_components={k} must be smaller than the largest chosen feature "
                f"block ({', '.join(f'{n}: {sizes[n]}' for n in layers)} features); "
                "nothing would be sketched. Use n_components=None.")
        self.sketch_ = {}
        start = 0
        self.layer_slices_ = {}
        for name in layers:
            width = sizes[name]
            if k is not None and sizes[name] > k:
                width = k
                if name == "u":
                    self.sketch_[name] = (rng.standard_normal((self.u_.size, k))
                                          / np.sqrt(k),)
                else:
                    W_or_V = self.W_ if name == "W" else self.V_
                    a, b = W_or_V.shape
                    self.sketch_[name] = (rng.standard_normal((a, k)) / np.sqrt(k),
                                          rng.standard_normal((b, k)))
            self.layer_slices_[name] = slice(start, start + width)
            start += width
        self.n_features_out_ = start

        self.loss_curve_ = []
        if self.train_steps > 0:
            self._train(np.asarray(X, dtype=np.float64), y)
        self.n_iter_ = self.train_steps
        return self

    # ------------------------------------------------------------------ training
    def _net(self, dtype, ops=_NumpyOps, to=None):
        """Parameters, scales and sketch in the working dtype (and backend)."""
        scales = self._scales()
        conv = (lambda a: a.astype(dtype, copy=False)) if to is None else to
        # fitted before activations were a parameter: ReLU
        spec = getattr(self, "_activation", None) or ActivationSpec("relu")
        return {
            "activation": ops.activation(spec),
            "W": conv(self.W_), "V": conv(self.V_),
            "u_s3": conv(self.u_ * scales[2] if scales[2] != 1.0 else self.u_),
            "scales": scales,
            "sketch": {n: tuple(conv(f) for f in fs) for n, fs in self.sketch_.items()},
        }

    # ------------------------------------------------------------------ transform
    def _batches(self, n, itemsize, row_items):
        """Row batches whose temporaries fit in ``working_memory`` MiB."""
        return row_chunks(n, itemsize * row_items, self.working_memory)

    def _backend(self, dtype, device):
        """``(ops, P, to_device, to_host, cat)`` of the numpy path
        (``device=None``) or of torch on ``device``, computing in ``dtype``."""
        if device is None:
            return _NumpyOps, self._net(dtype), _same, _same, np.concatenate
        import torch

        from ..utils.devices import torch_dtype

        tdtype = torch_dtype(dtype)
        P = self._net(dtype, _TorchOps,
                      to=lambda a: torch.as_tensor(a, dtype=tdtype, device=device))

        def to_device(a):
            return torch.as_tensor(np.ascontiguousarray(a), device=device)

        def to_host(a):
            return a.cpu().numpy()

        return _TorchOps, P, to_device, to_host, torch.cat

    def _row_items(self, extra=0):
        (m1, d), m2 = self.W_.shape, self.u_.size
        k = self.n_components if self.sketch_ else 0
        return 3 * (m1 + m2) + d + 2 * k + extra

    @np.errstate(over="ignore", invalid="ignore")  # overflow: check_finite_output
    def transform(self, X, out=None):
        """Per-layer gradients ``df/dθ`` of the net at every row of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.
        out : ndarray of shape (n_samples, `n_features_out_`), default=None
            A C-contiguous, writeable float32 or float64 array (e.g. an
            ``np.memmap`` for features larger than memory) to write the
            features into, batch by batch, instead of a new array; they are
            computed in its dtype (float32 output from float64 ``X`` takes
            half the memory). Reusing one ``out`` across calls also saves the
            page faults of a fresh array.

        Returns
        -------
        Phi : ndarray of shape (n_samples, `n_features_out_`)
            The gradient blocks of the chosen layers (see ``layer_slices_``), in
            the dtype of ``X`` (float32 or float64; other inputs give float64),
            or ``out``'s. Each entry is written once; the output is read back
            (for finiteness) only when the factors do not bound it.
        """
        if "n_features_out_" not in self.__dict__:  # else check_is_fitted passes
            check_is_fitted(self)
        X = validate_fitted(self, X, _FLOATS)
        n, p = X.shape[0], self.n_features_out_
        if out is None:
            check_transform_memory(n, X.dtype, lambda: {
                name: getattr(self, name + "_").size for name in self.layer_slices_}, p)
            out = np.empty((n, p), dtype=X.dtype)
        else:
            _check_out(out, (n, p))
        dtype = out.dtype
        device = self._check_device()
        ops, P, to_device, to_host, _ = self._backend(dtype, device)
        finite = True
        if device is None:
            rows = chunk_rows(n, dtype.itemsize * self._row_items(),
                              self.working_memory)
            if (n * p * dtype.itemsize > _ONE_BATCH_BYTES
                    and _BATCH_BYTES // (p * dtype.itemsize) >= _MIN_ROWS):
                rows = min(rows, _BATCH_BYTES // (p * dtype.itemsize))
            if rows >= n:  # one batch
                finite = _fill(X.astype(dtype, copy=False), out, P,
                               self.layer_slices_, ops)
            for start in range(0, n if rows < n else 0, rows):
                batch = slice(start, start + rows)
                Xb = X[batch].astype(dtype, copy=False)
                finite &= _fill(Xb, out[batch], P, self.layer_slices_, ops)
        else:
            import torch

            buf = None
            for batch in self._batches(n, dtype.itemsize, self._row_items(extra=p)):
                Xb = to_device(X[batch].astype(dtype, copy=False))
                rows = Xb.shape[0]
                if buf is None or buf.shape[0] != rows:
                    buf = torch.empty((rows, p), dtype=P["W"].dtype, device=device)
                finite &= _fill(Xb, buf, P, self.layer_slices_, ops)
                out[batch] = to_host(buf)
        if not finite:
            check_finite_output(out, (X,), self.n_iter_, "The features")
        return out

    @np.errstate(over="ignore", invalid="ignore")  # overflow: check_finite_output
    def empirical_ntk(self, X, Y=None, *, by_layer=False):
        """The empirical NTK Gram of the chosen layers, without forming features.

        ``(D1 D1')∘(X X') s1² + (D2 D2')∘(H1 H1') s2² + H2 H2' s3²`` (the terms of
        the chosen ``layers``), which equals ``transform(X) @ transform(Y).T`` of
        the exact features (``n_components`` is not applied here) in
        ``O(n_X n_Y (d + m1 + m2))`` instead of ``O(n_X n_Y (m1 d + m2 m1))``.
        Use it as a precomputed kernel, e.g. ``SVC(kernel="precomputed")``.

        Parameters
        ----------
        X : array-like of shape (n_samples_X, n_features)
            Inputs.

        Y : array-like of shape (n_samples_Y, n_features) or None, default=None
            Second inputs; ``None`` means ``Y = X``.

        by_layer : bool, default=False
            Return a dict with one Gram per chosen layer instead of their sum.

        Returns
        -------
        K : ndarray of shape (n_samples_X, n_samples_Y) or dict of them
            The Gram, in the dtype of ``X``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=_FLOATS, reset=False)
        Y = X if Y is None else validate_data(self, Y, dtype=X.dtype, reset=False)
        names = tuple(self.layer_slices_)
        check_gram_memory(X.shape[0], Y.shape[0], Y is X, X.itemsize, X.dtype.name,
                          len(names) if by_layer else 1,
                          X.shape[1] + 2 * self.W_.shape[0] + 2 * self.u_.size)
        ops, P, to_device, to_host, cat = self._backend(X.dtype, self._check_device())
        def factors(Z):
            parts = [_backprop(to_device(Z[b]), P, ops)
                     for b in self._batches(Z.shape[0], Z.itemsize, self._row_items())]
            return [cat([part[i] for part in parts]) for i in range(5)]

        FX = factors(X)
        FY = FX if Y is X else factors(Y)
        shape = (X.shape[0], Y.shape[0])
        if by_layer:
            out = {name: np.empty(shape, dtype=X.dtype) for name in names}
        else:
            total = np.empty(shape, dtype=X.dtype)
        for tile in self._batches(X.shape[0], X.itemsize, 3 * Y.shape[0]):
            fx = [f[tile] for f in FX]
            acc = None
            for name in names:
                gx, gy = _gram_factors(name, *fx), _gram_factors(name, *FY)
                K = gx[0] @ gy[0].T
                if len(gx) == 2:
                    K *= gx[1] @ gy[1].T
                if by_layer:
                    out[name][tile] = to_host(K)
                elif acc is None:
                    acc = K
                else:
                    acc += K
            if not by_layer:
                total[tile] = to_host(acc)
        for K in out.values() if by_layer else (total,):
            check_finite_output(K, (X, Y), self.n_iter_, "The Gram's entries")
        return out if by_layer else total

    # ------------------------------------------------------------------ names, tags
    def get_feature_names_out(self, input_features=None):
        """Output feature names ``W_j_k``, ``V_i_j``, ``u_i`` (``W_sketch0``, ... sketched).

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Only checked against the names seen in ``fit``.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per output column.
        """
        check_is_fitted(self)
        check_feature_names_in(self, input_features)
        names = []
        for name, sl in self.layer_slices_.items():
            if name in self.sketch_:
                names += [f"{name}_sketch{i}" for i in range(sl.stop - sl.start)]
            elif name == "u":
                names += [f"u_{i}" for i in range(self.u_.size)]
            else:
                a, b = (self.W_ if name == "W" else self.V_).shape
                names += [f"{name}_{i}_{j}" for i in range(a) for j in range(b)]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.target_tags.required = self.train_steps > 0
        return tags
