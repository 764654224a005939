"""The analytic NNGP and NTK of fully connected ReLU networks.

This is the single source of truth for the kernel: every estimator and
:class:`skntk.ReluNTK` call :func:`relu_kernel` / :func:`relu_kernel_diag`.
The elementwise work runs in :mod:`skntk.kernels._engine` (numba), imported lazily.
"""

import math
import sys
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_array

from ..utils.chunks import chunk_rows
from ._blas import syrk_lower
from ._mirror import mirror_lower
from ._threads import parallel_rows

__all__ = ["relu_kernel", "relu_kernel_diag"]

_KINDS = ("ntk", "nngp", "both")

# Rows whose largest entry lies outside these bounds are rescaled by an exact
# power of two before the GEMM, so that <x, y> neither overflows nor underflows.
_SAFE_RANGE = {np.dtype(np.float64): (1e-100, 1e100), np.dtype(np.float32): (1e-15, 1e15)}
# Cosines within tau of +-1 are recomputed from explicit row differences; the
# GEMM's rounding error delta gives an angle error of about delta / theta.
_TAU = {np.dtype(np.float64): 1e-4, np.dtype(np.float32): 1e-3}
_MIN_TILE_BYTES = 1 << 23
# Below this many elementwise operations (rows x columns x (depth + 1)) a tile
# stays on the calling thread: waking the thread pool costs about as much
# as the work (measured crossover on 2 cores: 1.5e5 - 2e5).
_SERIAL_WORK = 1 << 17


def _row_norms(Xs):
    """Euclidean norms of the rows of the C-contiguous ``Xs``, accumulated in
    float64 (NaN and inf propagate: they are where the caller finds them), by
    the engine's :func:`~skntk.kernels._engine.row_sq_norms`: at 1000 x 784
    float32 numpy's ``einsum(..., dtype=float64)`` took 0.7-0.9 ms, about 10%
    of the whole kernel call, and the compiled loop 0.07 ms. Its first
    compilation (0.15-0.2 s per precision) is done by the wheel build with the
    rest of the engine."""
    from . import _engine

    sq = np.empty(len(Xs))
    _engine.row_sq_norms(Xs, sq)
    return np.sqrt(sq)


# Deeper than this the recursion's cost (linear in depth) is the only thing
# that changes: the kernel of a ReLU net converges to a constant-angle limit.
MAX_DEPTH = 1000
# w_std and b_std are squared in float64
_MAX_STD = math.sqrt(sys.float_info.max)


def _check_hyper(depth, w_std, b_std, kernel):
    if isinstance(depth, bool) or not isinstance(depth, Integral) or not (
            1 <= depth <= MAX_DEPTH):
        raise ValueError(f"depth must be an integer in [1, {MAX_DEPTH}] (the number "
                         f"of hidden ReLU layers), got {depth!r}.")
    for name, value in (("w_std", w_std), ("b_std", b_std)):
        if isinstance(value, bool) or not isinstance(value, Real) or not (
                math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite real number >= 0, got {value!r}.")
        if value >= _MAX_STD:
            raise ValueError(f"{name} must be < {_MAX_STD:.3g} (its square must be a "
                             f"finite float64), got {value!r}.")
    if kernel not in _KINDS:
        raise ValueError(f"kernel must be one of {_KINDS}, got {kernel!r}.")


def _check_dtype(dtype, *arrays):
    if dtype is None:
        same32 = all(a.dtype == np.float32 for a in arrays)
        return np.dtype(np.float32 if same32 else np.float64)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be None, numpy.float32 or numpy.float64, got {dtype}.")
    return dtype


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _check_input(X, name, finite=False):
    """X as a validated 2-D float array. A plain float ndarray is returned
    as it is (scikit-learn's checks cost as much as the whole kernel of 100
    rows) and its finiteness is left to :class:`_Rows`, which sees it in the
    row norms; ``finite=True`` runs scikit-learn's full check."""
    if (not finite and type(X) is np.ndarray and X.ndim == 2 and X.dtype in _FLOATS
            and X.dtype.isnative and X.shape[0] >= 1 and X.shape[1] >= 1):
        return X
    return check_array(X, dtype=[np.float64, np.float32], input_name=name,
                       accept_sparse=False, ensure_all_finite=True)


def _check_xy(X, Y):
    """Validated X and Y (Y is X when None), and whether the Gram is symmetric."""
    X = _check_input(X, "X")
    if Y is None:
        return X, X, True
    Y = _check_input(Y, "Y")
    if Y.shape[1] != X.shape[1]:
        raise ValueError(f"X has {X.shape[1]} features but Y has {Y.shape[1]}; "
                         "both must have the same number of columns.")
    return X, Y, False


def tile_products(Xs, Ys, i0, i1, cols, sym, out):
    """``out[i0:i1, :cols] = Xs[i0:i1] @ Ys[:cols].T``, the first layer's
    products of a tile, for both engines. A symmetric Gram's tile (``cols ==
    i1``) is the GEMM of the block left of its diagonal block and the lower
    triangle of the diagonal block by BLAS ``syrk`` (half the flops: at
    n = 2000 float32 the second of two tiles takes 25% fewer flops than one
    GEMM of its full rows), without numpy's copy of it onto the upper
    triangle (:func:`~skntk.kernels._blas.syrk_lower`): the engines read a
    symmetric tile's products left of its diagonal only.
    """
    if sym:
        if i0:
            np.matmul(Xs[i0:i1], Xs[:i0].T, out=out[i0:i1, :i0])
        syrk_lower(Xs[i0:i1], out[i0:i1, i0:i1])
    else:
        np.matmul(Xs[i0:i1], Ys[:cols].T, out=out[i0:i1, :cols])


class _Rows:
    """Per-row quantities of one side of the kernel.

    ``Xs`` is the GEMM operand (X, or X rescaled row-wise by exact powers of
    two); the first layer's augmented unit vector of row i is
    ``(alpha[i] * Xs[i], beta[i])``; ``rho[l, i] = sqrt(S_{l+1}(x_i, x_i))``;
    ``(v[l, i], u[l, i]) = (w_std rho[l - 1, i] / sqrt(2), b_std) / rho[l, i]``.
    """

    def __init__(self, X, dtype, depth, w_std, b_std, name="X"):
        Xs = np.asarray(X, dtype=dtype, order="C")
        lo, hi = _SAFE_RANGE[dtype]
        nrm = _row_norms(Xs)
        if not np.all(np.isfinite(nrm)):
            # NaN or inf in X (scikit-learn's error names them), or finite
            # entries whose squares overflow (fine: such rows are rescaled)
            _check_input(X, name, finite=True)
        scale = np.ones(len(Xs))
        # max|x| <= |x| <= sqrt(d) max|x|: only rows whose norm is outside
        # [lo sqrt(d), hi] (or 0, or inf) can have entries outside [lo, hi]
        maybe = ~((nrm >= lo * math.sqrt(max(1, Xs.shape[1]))) & (nrm <= hi))
        if np.any(maybe) and Xs.shape[1]:
            maxabs = np.zeros(len(Xs))
            maxabs[maybe] = np.max(np.abs(Xs[maybe]), axis=1)
            out = (maxabs > hi) | ((maxabs < lo) & (maxabs > 0))
            if np.any(out):
                # exact: multiplying by 2^-e changes no mantissa
                scale = np.where(out, np.ldexp(1.0, np.frexp(np.where(out, maxabs, 1.0))[1]),
                                 1.0)
                Xs = (Xs / scale[:, None].astype(dtype)).astype(dtype, copy=False)
                nrm = _row_norms(Xs)
        d = Xs.shape[1]
        wd = w_std / math.sqrt(d)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            rho_s = np.hypot(wd * nrm, b_std / scale)  # rho / scale
            pos = rho_s > 0
            # alpha * |Xs[i]| <= 1; for a zero row alpha multiplies zeros only
            self.alpha = np.where(pos & (nrm > 0), wd / np.where(pos, rho_s, 1.0), 0.0)
            self.beta = np.where(pos, (b_std / scale) / np.where(pos, rho_s, 1.0), 0.0)
            rho = np.empty((depth + 1, len(Xs)))
            rho[0] = rho_s * scale
            v = np.zeros_like(rho)
            u = np.zeros_like(rho)
            for layer in range(depth):
                half = w_std * rho[layer] / math.sqrt(2.0)
                rho[layer + 1] = np.hypot(half, b_std)
                pos = rho[layer + 1] > 0
                den = np.where(pos, rho[layer + 1], 1.0)  # both ratios are <= 1
                v[layer + 1] = np.where(pos, half / den, 0.0)
                u[layer + 1] = np.where(pos, b_std / den, 0.0)
        self.Xs = Xs
        self.rho = rho
        self.diag = _diag_from_rho(rho, w_std)  # (nngp, ntk)
        if not all(np.all(k <= np.finfo(dtype).max) for k in self.diag):
            raise ValueError(
                f"The kernel values of some rows overflow {dtype} (the largest row "
                f"norm is {np.max(nrm * scale):.3g}); rescale the input, e.g. with "
                "sklearn.preprocessing.StandardScaler"
                + (", or use float64." if dtype == np.float32 else "."))
        self.v = v
        self.u = u

    def fits_float32(self):
        """Whether the recursion can run in float32 for these rows: every
        norm, unit-vector entry and kernel value stays far from float32's
        overflow and from its subnormals (checked with margins of 1e8)."""
        from ._engine import in_range as ok

        return (ok(self.rho, 1e-15, 1e15) and ok(self.v, 1e-30, 1.0)
                and ok(self.u, 1e-30, 1.0) and ok(self.alpha, 1e-30, 1e30)
                and ok(self.beta, 1e-30, 1.0) and ok(self.diag[1], 0.0, 1e30))

    def engine_args(self, ct):
        """(Xs, alpha, beta, rho, v, u) with the per-row arrays in ``ct``."""
        return (self.Xs,) + tuple(np.ascontiguousarray(a, dtype=ct) for a in (
            self.alpha, self.beta, self.rho, self.v, self.u))


def _recursion_dtype(dtype, w2, b2, rx, ry):
    """Precision of the elementwise recursion: float32 for float32 output
    (twice the vector lanes) unless some magnitude would leave float32's
    comfortable range, else float64."""
    hyper_ok = all(v == 0 or 1e-30 <= v <= 1e30 for v in (w2, b2))
    use32 = (dtype == np.float32 and hyper_ok and rx.fits_float32()
             and (ry is rx or ry.fits_float32()))
    return np.dtype(np.float32 if use32 else np.float64)


def _diag_from_rho(rho, w_std):
    """Closed-form diagonal (nngp, ntk): at angle 0, E = S / 2 and Edot = 1 / 2."""
    with np.errstate(over="ignore"):  # callers check against the dtype's max
        ntk = rho[0] ** 2
        for layer in range(1, len(rho)):
            ntk = rho[layer] ** 2 + 0.5 * w_std**2 * ntk
        return rho[-1] ** 2, ntk


def relu_kernel(X, Y=None, *, kernel="ntk", depth=1, w_std=1.0, b_std=0.0,
                dtype=None, working_memory=None):
    """NTK or NNGP of a fully connected ReLU network of infinite width.

    The network has ``depth`` hidden ReLU layers, weights of standard
    deviation ``w_std`` and biases of standard deviation ``b_std`` in the NTK
    parameterization (neural-tangents' ``stax.serial(*[Dense(1, w_std, b_std),
    Relu()] * depth, Dense(1, w_std, b_std))``):

    .. math::

        S_1(x, y) = w^2 \\langle x, y\\rangle / d + b^2, \\quad T_1 = S_1, \\\\
        S_{l+1} = w^2 \\frac{\\sqrt{S_l(x,x) S_l(y,y)}}{2\\pi}
                  (\\sin\\theta_l + (\\pi - \\theta_l)\\cos\\theta_l) + b^2, \\\\
        T_{l+1} = S_{l+1} + w^2 T_l \\frac{\\pi - \\theta_l}{2\\pi},

    with :math:`\\cos\\theta_l = S_l(x,y) / \\sqrt{S_l(x,x) S_l(y,y)}`; the
    NNGP is :math:`S_{L+1}` and the NTK :math:`T_{L+1}`.

    Parameters
    ----------
    X : array-like of shape (n_samples_X, n_features)
        Input rows. Must be finite.
    Y : array-like of shape (n_samples_Y, n_features), default=None
        Second input; ``None`` computes the symmetric Gram of ``X`` (only one
        triangle is computed, the result is exactly symmetric).
    kernel : {"ntk", "nngp", "both"}, default="ntk"
        Which kernel to return; "both" returns the tuple ``(nngp, ntk)``.
    depth : int, default=1
        Number of hidden ReLU layers (>= 1).
    w_std, b_std : float, default=1.0, 0.0
        Standard deviations of the weights and the biases (>= 0).
    dtype : {None, numpy.float32, numpy.float64}, default=None
        Output and GEMM precision. ``None``: float32 when every input is
        float32, else float64. The elementwise recursion runs in the same
        precision (in float64 for float32 output whose magnitudes come within
        1e8 of float32's limits); explicit differences of nearly parallel
        rows are always summed in float64.
    working_memory : float, default=None
        Size in MiB of the block of output rows computed at a time (one GEMM
        written into the output, then one parallel pass turning it into
        kernel values in place; no memory besides the output is needed).
        ``None``: scikit-learn's ``working_memory``, at most an eighth of the
        output, at least 8 MiB.

    Returns
    -------
    K : ndarray of shape (n_samples_X, n_samples_Y), or a tuple of two
        The kernel matrix (``(nngp, ntk)`` when ``kernel="both"``).

    Notes
    -----
    The angle is computed from ``1 - cos`` and ``1 + cos`` carried to full
    relative precision (exactly 0 for duplicated and parallel rows, no
    ``arccos``), rows of norm 0 have angle pi / 2, and rows are rescaled by
    exact powers of two when their entries are tiny or huge, so any finite
    input whose kernel value is representable gives a finite result.

    References
    ----------
    Jacot, Gabriel and Hongler (2018), "Neural Tangent Kernel: Convergence and
    Generalization in Neural Networks", arXiv:1806.07572.
    Cho and Saul (2009), "Kernel Methods for Deep Learning".

    Examples
    --------
    >>> import numpy as np
    >>> from skntk import relu_kernel
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> relu_kernel(X, depth=1).round(4)  # e.g. k(e1, e2) = 1 / (4 pi)
    array([[0.5   , 0.0796, 0.4546],
           [0.0796, 0.5   , 0.4546],
           [0.4546, 0.4546, 1.    ]])
    """
    return _relu_kernel(X, Y, kernel=kernel, depth=depth, w_std=w_std, b_std=b_std,
                        dtype=dtype, working_memory=working_memory)


def _relu_kernel(X, Y=None, *, kernel="ntk", depth=1, w_std=1.0, b_std=0.0,
                 dtype=None, working_memory=None, lower_only=False, progress=None):
    """:func:`relu_kernel`, plus two options for the estimators.

    ``lower_only``: for a symmetric Gram, fill only the lower triangle and the
    diagonal (the upper triangle is left uninitialised), which is all a
    Cholesky or eigen solver reading the lower triangle needs. ``progress``:
    called as ``progress(done, total)`` (units: kernel entries) after each tile.
    """
    _check_hyper(depth, w_std, b_std, kernel)
    X, Y, sym = _check_xy(X, Y)
    if working_memory is not None and not (
            isinstance(working_memory, Real) and working_memory > 0):
        raise ValueError(f"working_memory must be a positive number of MiB or None, "
                         f"got {working_memory!r}.")
    dtype = _check_dtype(dtype, X, Y)
    from . import _engine

    rx = _Rows(X, dtype, depth, w_std, b_std)
    ry = rx if sym else _Rows(Y, dtype, depth, w_std, b_std, "Y")
    n, m = len(X), len(Y)
    want_ntk = kernel in ("ntk", "both")
    want_nngp = kernel in ("nngp", "both")
    out_ntk = np.empty((n, m), dtype) if want_ntk else np.empty((1, 1), dtype)
    out_nngp = np.empty((n, m), dtype) if want_nngp else np.empty((1, 1), dtype)
    # rows per tile: working_memory MiB, at most an eighth of the output
    # (progress is reported per tile), at least 8 MiB: below that one GEMM and
    # one thread-pool launch beat several smaller ones
    rows = chunk_rows(n, m * dtype.itemsize, working_memory,
                      min_bytes=_MIN_TILE_BYTES, max_fraction=8)
    # The GEMM of each tile is written straight into the output rows it
    # becomes: the engine reads row i of the products before it overwrites
    # row i with kernel values, so no buffer besides the output is needed.
    target = out_ntk if want_ntk else out_nngp
    w2, b2 = float(w_std) ** 2, float(b_std) ** 2
    ct = _recursion_dtype(dtype, w2, b2, rx, ry)
    C = _engine.C32 if ct == np.float32 else _engine.C64
    args_x = rx.engine_args(ct)
    args_y = args_x if sym else ry.engine_args(ct)
    w2c, b2c, tau = ct.type(w2), ct.type(b2), ct.type(_TAU[dtype])
    total = n * (n + 1) // 2 if sym else n * m
    # a symmetric Gram's upper triangle is written by the engine, pair by pair
    # (see _engine.ROW_BLOCK), unless only the lower one is asked for
    mirror = sym and not lower_only
    for i0 in range(0, n, rows):
        i1 = min(n, i0 + rows)
        cols = i1 if sym else m
        tile_products(rx.Xs, ry.Xs, i0, i1, cols, sym, target)
        # the engine reads the products from the output's full rows (C
        # contiguous: one compiled specialisation whatever the tile's shape)
        G = target[i0:i1]
        args = (*args_x, *args_y, w2c, b2c, tau, out_ntk, out_nngp, want_ntk,
                want_nngp, mirror, C)
        # (a scratch array per range: the engine allocates nothing, which
        # spares a first call compiling numpy's allocation)
        parallel_rows(lambda lo, hi: _engine.tile_rows(
                          G, i0, sym, lo, hi, *args,
                          np.empty((4, min(cols, _engine.COL_BLOCK)), ct)),
                      i1 - i0, (i1 - i0) * cols * (depth + 1), _SERIAL_WORK,
                      offset=i0 if sym else None)
        if progress is not None:
            progress(i1 * (i1 + 1) // 2 if sym else i1 * m, total)
    return _finish(out_nngp, out_ntk, want_nngp, want_ntk, sym, False, rx.diag, kernel)


def _finish(out_nngp, out_ntk, want_nngp, want_ntk, sym, mirror, diag, kernel):
    """The asked outputs: a symmetric Gram's upper triangle mirrored from its
    lower one (with ``mirror``: for an engine that wrote the lower one only,
    and a caller that needs both) and its diagonal set to the closed form
    ``diag`` (NNGP, NTK); a tuple (NNGP, NTK) for kernel="both"."""
    outs = []
    for want, out, k in ((want_nngp, out_nngp, 0), (want_ntk, out_ntk, 1)):
        if want:
            if sym:
                if mirror:
                    mirror_lower(out)
                np.fill_diagonal(out, diag[k])
            outs.append(out)
    return tuple(outs) if kernel == "both" else outs[0]


# Public within skntk: the estimators' entry point (lower_only, progress), so
# that no other subpackage imports a private name of this module.
gram = _relu_kernel


def relu_kernel_diag(X, *, kernel="ntk", depth=1, w_std=1.0, b_std=0.0, dtype=None):
    """Diagonal of :func:`relu_kernel` ``(X)`` in closed form, in O(n d).

    At angle 0 each ReLU layer halves the variance and the NTK derivative
    factor is 1/2: ``S_{l+1}(x, x) = w^2 S_l(x, x) / 2 + b^2`` and
    ``T_{l+1}(x, x) = S_{l+1}(x, x) + w^2 T_l(x, x) / 2``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    kernel, depth, w_std, b_std, dtype
        As in :func:`relu_kernel`.

    Returns
    -------
    diag : ndarray of shape (n_samples,), or a tuple ``(nngp, ntk)``

    Examples
    --------
    >>> import numpy as np
    >>> from skntk import relu_kernel_diag
    >>> relu_kernel_diag(np.array([[1.0, 1.0], [3.0, 4.0]]), depth=2)
    array([0.75 , 9.375])
    """
    _check_hyper(depth, w_std, b_std, kernel)
    X = _check_input(X, "X")
    dtype = _check_dtype(dtype, X)
    nngp, ntk = _Rows(X, dtype, depth, w_std, b_std).diag
    if kernel == "both":
        return nngp.astype(dtype), ntk.astype(dtype)
    return (ntk if kernel == "ntk" else nngp).astype(dtype)


def relu_kernel_with_gradient(X, Y=None, *, depth=1, w_std=1.0, b_std=0.0):
    """NNGP and NTK with their gradients w.r.t. log(w_std) and log(b_std).

    Returns ``K`` of shape (n, m, 2) (NNGP, NTK) and ``dK`` of shape
    (n, m, 2, 2) (kernel, hyperparameter). Float64 only; used by ReluNTK.
    """
    _check_hyper(depth, w_std, b_std, "both")
    X, Y, sym = _check_xy(X, Y)
    from . import _engine

    dtype = np.dtype(np.float64)
    rx = _Rows(X, dtype, depth, w_std, b_std)
    ry = rx if sym else _Rows(Y, dtype, depth, w_std, b_std, "Y")
    n, m = len(X), len(Y)
    K = np.empty((n, m, 2))
    dK = np.empty((n, m, 2, 2))
    G = rx.Xs @ ry.Xs.T
    args = (G, rx.Xs, rx.alpha, rx.beta, rx.rho, rx.v, rx.u, ry.Xs, ry.alpha, ry.beta,
            ry.rho, ry.v, ry.u, float(w_std) ** 2, float(b_std) ** 2, _TAU[dtype], sym, K,
            dK, _engine.C64)
    parallel_rows(lambda lo, hi: _engine.gram_with_gradient(*args, lo, hi), n,
                  n * m * (depth + 1) * 4, _SERIAL_WORK, offset=0 if sym else None)
    if sym:
        iu = np.triu_indices(n, 1)
        K[iu] = K[iu[1], iu[0]]
        dK[iu] = dK[iu[1], iu[0]]
        idx = np.arange(n)
        K[idx, idx, 0], K[idx, idx, 1] = rx.diag
    return K, dK
