"""The analytic NNGP and NTK of fully connected networks with any activation.

:func:`ntk_kernel` / :func:`ntk_kernel_diag` take the ``activation`` vocabulary
of :mod:`skntk.utils.activations`; ``"relu"`` goes to :func:`relu_kernel`
unchanged, every other activation to :mod:`skntk.kernels._engine_act`
(closed forms for the ReLU family, identity, erf and gelu; a Hermite series
for tanh, logistic and callables, whose per-row coefficients come from
:mod:`skntk.kernels._series`).
"""

import math

import numpy as np

from ..utils.activations import check_activation, check_elementwise
from ..utils.chunks import chunk_rows
from ._series import PY_QUAD, QUAD_PAIRS, TOL
from ._threads import parallel_rows
from ._relu import (
    _MIN_TILE_BYTES,
    _SERIAL_WORK,
    _TAU,
    _check_dtype,
    _check_hyper,
    _check_input,
    _check_xy,
    _finish,
    _relu_kernel,
    _Rows,
    relu_kernel_diag,
    tile_products,
)

__all__ = ["gram", "gram_act", "ntk_kernel", "ntk_kernel_diag"]

# the ReLU family p max(x, 0) + n min(x, 0): name -> (p, n) (leaky: n = slope)
_FAMILY = {"identity": (1.0, 1.0), "abs": (1.0, -1.0)}
_SMOOTH = {"erf": 1, "gelu": 2}


def _quad(rx, ry, sym):
    """The activation's quadrature code for the pairs the series does not
    reach (``_series.QUAD_CODES``, or :data:`PY_QUAD` for a callable), or 0: none
    needed, none for this activation (a warning then came with the rows), or
    too many pairs (a warning now)."""
    sx, sy = rx.series, ry.series
    pairs = sx.quad_pairs(sy, len(ry.Xs))
    if not sx.code or pairs == 0:
        return 0
    if sx.quad and sy.quad and pairs <= QUAD_PAIRS:
        return sx.code
    for rows in (sx,) if sym else (sx, sy):
        if rows.quad:  # (the others warned when they were built)
            rows.warn_unconverged()
    return 0


def _slopes(spec):
    if spec.name == "leaky_relu":
        return 1.0, spec.negative_slope
    return _FAMILY.get(spec.name)


def _erf_diag(q):
    sd = np.sqrt(1.0 + 4.0 * q)
    return (2.0 / np.pi) * np.arctan2(2.0 * q, sd), (4.0 / np.pi) / sd


def _gelu_diag(q):
    # the pair formula of _engine_act._gelu at c = q, 1 - cos = 0
    p = q * q
    qq = (1.0 + q) ** 2
    d2 = 1.0 + 2.0 * q
    d = np.sqrt(d2)
    a = np.arctan2(d, -q)
    e = (q * a + (q * q + p * d2) / (qq * d)) / (2 * np.pi)
    ed = a / (2 * np.pi) + q / d / (2 * np.pi) * (1.0 / d2 + (2.0 + 2.0 * q) / qq)
    return e, ed


class _ActRows:
    """Per-row quantities for the engine: the first layer from
    :class:`skntk.kernels._relu._Rows` (rescaling, unit rows), then
    ``rho[l] = sqrt(S_{l+1}(x, x))`` and the NNGP/NTK diagonal of this
    activation, the unit 2-vectors ``(v, u)`` of the ReLU family and the
    series coefficients of tanh, logistic and callables."""

    def __init__(self, X, dtype, depth, w_std, b_std, spec, name="X"):
        base = _Rows(X, dtype, depth, w_std, b_std, name)
        self.Xs, self.alpha, self.beta = base.Xs, base.alpha, base.beta
        n = len(self.Xs)
        rho = np.empty((depth + 1, n))
        rho[0] = base.rho[0]
        v = np.zeros_like(rho)
        u = np.zeros_like(rho)
        ntk = rho[0] ** 2
        slopes = _slopes(spec)
        self.series = None
        if slopes is None and spec.name not in _SMOOTH:
            from ._series import SeriesRows

            self.series = SeriesRows(spec, depth)
        w2, b2 = float(w_std) ** 2, float(b_std) ** 2
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for layer in range(depth):
                q = rho[layer] ** 2
                if slopes is not None:
                    f0 = 0.5 * (slopes[0] ** 2 + slopes[1] ** 2)
                    half = w_std * math.sqrt(f0) * rho[layer]
                    rho[layer + 1] = np.hypot(half, b_std)
                    pos = rho[layer + 1] > 0
                    den = np.where(pos, rho[layer + 1], 1.0)
                    v[layer + 1] = np.where(pos, half / den, 0.0)
                    u[layer + 1] = np.where(pos, b_std / den, 0.0)
                    ed = f0
                else:
                    if spec.name == "erf":
                        e, ed = _erf_diag(q)
                    elif spec.name == "gelu":
                        e, ed = _gelu_diag(q)
                    else:
                        e, ed = self.series.add_layer(q)
                    rho[layer + 1] = np.sqrt(w2 * e + b2)
                ntk = rho[layer + 1] ** 2 + w2 * ed * ntk
        self.rho, self.v, self.u = rho, v, u
        self.diag = (rho[-1] ** 2, ntk)
        if spec.name == "callable" and any(np.isnan(k).any() for k in self.diag):
            raise ValueError(
                f"activation returned NaN on the pre-activations of some rows of {name} "
                f"(first-layer variance up to {float(np.max(rho[0] ** 2)):.3g}; it was "
                "checked finite on [-10, 10] only): it must be finite on the whole "
                "real line. Rescale the input or fix the activation.")
        if not all(np.all(k <= np.finfo(dtype).max) for k in self.diag):
            raise ValueError(
                f"The kernel values of some rows of {name} overflow {dtype}; rescale "
                "the input, e.g. with sklearn.preprocessing.StandardScaler"
                + (", or use float64." if dtype == np.float32 else "."))

    def fits_float32(self, smooth):
        """Whether a float32 recursion stays far (margins of 1e8) from
        float32's overflow and subnormals for these rows, as
        :meth:`skntk.kernels._relu._Rows.fits_float32`; erf and gelu multiply
        up to four variances (``qi qj (1 + qi)(1 + qj)``), so their norms stay
        below 1e4."""
        from ._engine import in_range as ok

        return (ok(self.rho, 1e-15, 1e4 if smooth else 1e15) and ok(self.v, 1e-30, 1.0)
                and ok(self.u, 1e-30, 1.0) and ok(self.alpha, 1e-30, 1e30)
                and ok(self.beta, 1e-30, 1.0) and ok(self.diag[1], 0.0, 1e30))

    def engine_args(self, nterms, ct=np.float64):
        """(Xs, alpha, beta, rho, v, u) with the per-row arrays in ``ct``, and
        the series coefficients (float64)."""
        if self.series is None:
            h = g = t = np.zeros((1, 1, 1))
        else:
            h, g, t = self.series.coefficients(nterms)
        return (self.Xs,) + tuple(np.ascontiguousarray(a, dtype=ct) for a in (
            self.alpha, self.beta, self.rho, self.v, self.u)) + (h, g, t)


def _recursion_dtype(dtype, kind, w2, b2, rx, ry):
    """Precision of the elementwise recursion: the closed forms run in float32
    for float32 output (twice the vector lanes) unless some magnitude comes
    near float32's limits; the series (``kind`` 3) always in float64."""
    hyper_ok = all(v == 0 or 1e-30 <= v <= 1e30 for v in (w2, b2))
    smooth = kind != 0  # erf, gelu: products of variances
    use32 = (dtype == np.float32 and kind != 3 and hyper_ok and rx.fits_float32(smooth)
             and (ry is rx or ry.fits_float32(smooth)))
    return np.dtype(np.float32 if use32 else np.float64)


def _spec(activation, negative_slope):
    return check_elementwise(check_activation(activation, negative_slope))


def ntk_kernel(X, Y=None, *, activation="relu", negative_slope=None, kernel="ntk",
               depth=1, w_std=1.0, b_std=0.0, dtype=None):
    """NTK or NNGP of a fully connected network of infinite width, any activation.

    The network is neural-tangents' ``stax.serial(*[Dense(1, w_std, b_std),
    act] * depth, Dense(1, w_std, b_std))`` in the NTK parameterization, the
    convention of :func:`skntk.relu_kernel`:

    .. math::

        S_1(x, y) = w^2 \\langle x, y\\rangle / d + b^2, \\quad T_1 = S_1, \\\\
        S_{l+1} = w^2 E[\\phi(u) \\phi(v)] + b^2, \\quad
        T_{l+1} = S_{l+1} + w^2 T_l E[\\phi'(u) \\phi'(v)],

    with :math:`(u, v)` centred Gaussian of covariance
    :math:`\\begin{pmatrix} S_l(x,x) & S_l(x,y) \\\\ S_l(x,y) & S_l(y,y)\\end{pmatrix}`.
    Closed forms: identity, ``"leaky_relu"`` and ``"abs"`` (arc-cosine
    formulas with slopes), ``"erf"`` (Williams' arcsine formula), ``"gelu"``;
    ``"relu"`` is :func:`skntk.relu_kernel`. ``"tanh"``, ``"logistic"`` and
    callables use the dual-activation (Hermite) series, truncated per pair,
    accurate to about 1e-10 relative to :math:`\\sqrt{k(x,x) k(y,y)}`. Where
    the first layer's variance ``w_std**2 |x|**2 / d + b_std**2`` is too
    large for the series (above about 3 for tanh, 12 for logistic), the
    pairs it does not reach are computed by adaptive quadrature, as
    accurate, when they are at most 128 (a callable's in numpy, calling it
    on batches of nodes); beyond (inputs that are not standardised), a
    warning gives the series' error bound (see the user guide, "Kernels of
    every activation").

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_features)
    Y : array-like of shape (n_samples_Y, n_features), default=None
        ``None`` computes the symmetric Gram of ``X``.
    activation : str, callable or Activation, default="relu"
        One of ``"relu"``, ``"tanh"``, ``"logistic"``, ``"identity"``,
        ``"erf"``, ``"gelu"``, ``"leaky_relu"``, ``"abs"``, or an elementwise
        function on torch tensors (see :class:`skntk.utils.activations.Activation`).
    negative_slope : float, default=None
        Slope of ``"leaky_relu"`` for x < 0 (``None``: 0.01); only for it.
    kernel : {"ntk", "nngp", "both"}, default="ntk"
    depth : int, default=1
        Number of hidden layers.
    w_std, b_std : float, default=1.0, 0.0
    dtype : {None, numpy.float32, numpy.float64}, default=None
        Output and GEMM precision (``None``: float32 when every input is
        float32). The closed forms' recursion runs in the output's precision
        (in float64 for float32 output whose magnitudes come near float32's
        limits); the series' in float64.

    Returns
    -------
    K : ndarray of shape (n_samples_X, n_samples_Y), or the tuple (nngp, ntk)

    Examples
    --------
    >>> import numpy as np
    >>> from skntk import ntk_kernel
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> ntk_kernel(X, activation="identity", depth=2)  # <x, y> / d * (depth + 1)
    array([[1.5, 0. ],
           [0. , 1.5]])
    """
    spec = _spec(activation, negative_slope)
    if spec.name == "relu":
        return _relu_kernel(X, Y, kernel=kernel, depth=depth, w_std=w_std,
                            b_std=b_std, dtype=dtype)
    return gram_act(X, Y, spec, kernel=kernel, depth=depth, w_std=w_std, b_std=b_std,
                    dtype=dtype)


def gram_act(X, Y, spec, *, kernel="ntk", depth=1, w_std=1.0, b_std=0.0, dtype=None,
             lower_only=False, working_memory=None):
    """:func:`ntk_kernel` for a validated non-ReLU ``spec`` (public within
    skntk: the estimators' entry point, with ``lower_only`` as in
    :func:`skntk.kernels.gram`)."""
    _check_hyper(depth, w_std, b_std, kernel)
    X, Y, sym = _check_xy(X, Y)
    dtype = _check_dtype(dtype, X, Y)
    from . import _engine_act

    rx = _ActRows(X, dtype, depth, w_std, b_std, spec)
    ry = rx if sym else _ActRows(Y, dtype, depth, w_std, b_std, spec, "Y")
    nterms = np.zeros(depth, dtype=np.int64)
    if rx.series is not None:
        nterms = np.maximum(rx.series.nterms, ry.series.nterms)
    slopes = _slopes(spec)
    kind = (_engine_act.ABRELU if slopes is not None else
            _SMOOTH.get(spec.name, _engine_act.SERIES))
    p, q = slopes if slopes is not None else (0.0, 0.0)
    w2, b2 = float(w_std) ** 2, float(b_std) ** 2
    ct = _recursion_dtype(dtype, kind, w2, b2, rx, ry)
    quad = _quad(rx, ry, sym) if kind == _engine_act.SERIES else 0
    A = _engine_act.A32 if ct == np.float32 else _engine_act.A64
    sl = np.array([p * p + q * q, (p - q) ** 2, (p + q) ** 2, p * q], dtype=ct)
    n, m = len(X), len(Y)
    want_ntk = kernel in ("ntk", "both")
    want_nngp = kernel in ("nngp", "both")
    # the GEMM of each tile is written into the output rows it becomes (in
    # the output's dtype); the engine overwrites them with kernel values
    out_ntk = np.empty((n, m), dtype) if want_ntk else np.empty((1, 1), dtype)
    out_nngp = np.empty((n, m), dtype) if want_nngp else np.empty((1, 1), dtype)
    target = out_ntk if want_ntk else out_nngp
    rows = chunk_rows(n, m * dtype.itemsize, working_memory,
                      min_bytes=_MIN_TILE_BYTES, max_fraction=8)
    args_x = rx.engine_args(nterms, ct)
    args_y = args_x if sym else ry.engine_args(nterms, ct)
    # (float32 output's GEMM is float32: its cosines are refined within 1e-3 of
    # +-1 when the recursion runs in float32, as in the ReLU engine)
    tau = ct.type(_TAU[ct])
    work = max(int(nterms.max()) if len(nterms) else 0, 1) * (depth + 1)
    nwork = 8 if kind == _engine_act.SERIES else 4  # scratch rows of the engine
    for i0 in range(0, n, rows):
        i1 = min(n, i0 + rows)
        cols = i1 if sym else m
        tile_products(rx.Xs, ry.Xs, i0, i1, cols, sym, target)
        G = target[i0:i1]  # full rows: C contiguous, one compiled specialisation
        args = (*args_x, *args_y, kind, sl, nterms, TOL, max(quad, 0), ct.type(w2),
                ct.type(b2), tau, out_ntk, out_nngp, want_ntk, want_nngp, A)
        # (a scratch array per range, as in the ReLU engine)
        parallel_rows(lambda lo, hi: _engine_act.tile_rows(G, i0, sym, lo, hi, *args,
                                                           np.empty((nwork, cols), ct)),
                      i1 - i0, (i1 - i0) * cols * work, _SERIAL_WORK,
                      offset=i0 if sym else None)
    if quad == PY_QUAD:
        from ._quad_callable import callable_pairs

        callable_pairs(rx, ry, sym, w2, b2, out_ntk, out_nngp, want_ntk, want_nngp)
    return _finish(out_nngp, out_ntk, want_nngp, want_ntk, sym, not lower_only,
                   rx.diag, kernel)


def gram(X, Y=None, *, activation="relu", negative_slope=None, kernel="ntk", depth=1,
         w_std=1.0, b_std=0.0, dtype=None, working_memory=None, lower_only=False,
         progress=None):
    """:func:`ntk_kernel` plus the estimators' options ``lower_only`` and
    ``progress`` (see :func:`skntk.kernels._relu._relu_kernel`): public within
    skntk, the one entry point of the ridge estimators for every activation.
    For non-ReLU activations ``progress`` is called once, at the end."""
    spec = _spec(activation, negative_slope)
    if spec.name == "relu":
        return _relu_kernel(X, Y, kernel=kernel, depth=depth, w_std=w_std, b_std=b_std,
                            dtype=dtype, working_memory=working_memory,
                            lower_only=lower_only, progress=progress)
    out = gram_act(X, Y, spec, kernel=kernel, depth=depth, w_std=w_std, b_std=b_std,
                   dtype=dtype, lower_only=lower_only, working_memory=working_memory)
    if progress is not None:
        n = len(X)
        total = n * (n + 1) // 2 if Y is None else n * len(Y)
        progress(total, total)
    return out


def ntk_kernel_diag(X, *, activation="relu", negative_slope=None, kernel="ntk",
                    depth=1, w_std=1.0, b_std=0.0, dtype=None):
    """Diagonal of :func:`ntk_kernel` ``(X)``, in O(n d) (closed forms; one
    Gaussian expectation per row and layer for tanh, logistic and callables).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    activation, negative_slope, kernel, depth, w_std, b_std, dtype
        As in :func:`ntk_kernel`.

    Returns
    -------
    diag : ndarray of shape (n_samples,), or the tuple (nngp, ntk)

    Examples
    --------
    >>> import numpy as np
    >>> from skntk import ntk_kernel_diag
    >>> ntk_kernel_diag(np.array([[3.0, 4.0]]), activation="abs", depth=2)
    array([37.5])
    """
    spec = _spec(activation, negative_slope)
    if spec.name == "relu":
        return relu_kernel_diag(X, kernel=kernel, depth=depth, w_std=w_std,
                                b_std=b_std, dtype=dtype)
    _check_hyper(depth, w_std, b_std, kernel)
    X = _check_input(X, "X")
    dtype = _check_dtype(dtype, X)
    nngp, ntk = _ActRows(X, dtype, depth, w_std, b_std, spec).diag
    if kernel == "both":
        return nngp.astype(dtype), ntk.astype(dtype)
    return (ntk if kernel == "ntk" else nngp).astype(dtype)
