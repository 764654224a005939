"""Kernel ridge regression and classification with the analytic ReLU NTK/NNGP.

All the linear algebra happens in ``fit``: the Gram matrix is computed once by
:func:`skntk.relu_kernel` (the single source of truth for the kernel), ``alpha``
is added to the diagonal of our own copy, and the factorisation is cached,
either the Cholesky factor ``L_`` (``solver="cholesky"``) or the eigenpairs
``eigenvalues_``/``eigenvectors_`` (``solver="eigh"``). ``predict`` is one
cross-kernel block and one matrix product; ``predict(X, return_std=True)``
reuses the cached factor. No explicit inverse is ever formed.
"""

import contextlib
import math
import sys
import time
from numbers import Integral, Real

import numpy as np
from scipy import linalg
from sklearn import get_config
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MultiOutputMixin,
    RegressorMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ..linalg import _blocked
from ..linalg._memory import check_memory
from ..kernels._relu import MAX_DEPTH, _relu_kernel, relu_kernel_diag
from ..utils.warn import warn

__all__ = ["NTKClassifier", "NTKClassifierCV", "NTKRegressor", "NTKRegressorCV"]

# Relative jitter (times the mean of the Gram's diagonal) tried, in order, when
# K + alpha * I is not numerically positive definite.
_JITTER = (1e-12, 1e-10, 1e-8, 1e-6, 1e-4)
# LAPACK's 32-bit (LP64) workspace size of eigh (driver "evd", 1 + 6n + 2n^2
# elements) overflows from n = 32767 on.
_EIGH_MAX_N = 32766
# Conjugate gradient iterations of solver="nystrom" (FALKON needs tens).
_NYSTROM_MAX_ITER = 500


# --------------------------------------------------------------------------- #
# The spectral filters: dual coefficients are Q diag(g(lambda)) Q' y.
# --------------------------------------------------------------------------- #


def _filter(lam, alpha, t, n_outputs_total, clamp=True):
    """g(lambda) for ridge (t=None) or gradient flow up to time t.

    Gradient flow on the loss 0.5 * sum((f - y)^2) / N with N = y.size
    (neural-tangents' ``predict.gradient_descent_mse``) from f = 0 gives, on
    the training inputs, f_t = K g_t(K) y with
    g_t(lambda) = (1 - exp(-t (lambda + alpha) / N)) / (lambda + alpha).
    As t -> inf this is the ridge filter 1 / (lambda + alpha).

    Eigenvalues are floored at 0 (a kernel's Gram is positive semi-definite;
    below 0 is rounding), except with ``clamp=False``: the exact pseudo-inverse
    of an indefinite matrix, for a precomputed kernel that is not PSD.
    """
    if not clamp:
        lam = lam + alpha
        tiny = np.finfo(np.float64).eps * len(lam) * np.max(np.abs(lam))
        out = np.zeros_like(lam)
        ok = np.abs(lam) > tiny
        out[ok] = 1.0 / lam[ok]
        return out
    lam = np.maximum(lam, 0.0) + alpha
    if t is None or math.isinf(t):
        # the pseudo-inverse: directions with (numerically) zero eigenvalue
        # (duplicated rows, alpha = 0) get weight 0, not infinity
        tiny = np.finfo(lam.dtype).eps * len(lam) * max(float(lam.max()), 0.0)
        out = np.zeros_like(lam)
        ok = lam > tiny
        out[ok] = 1.0 / lam[ok]
        return out
    s = t / n_outputs_total
    out = np.empty_like(lam)
    pos = lam > 0
    out[pos] = -np.expm1(-s * lam[pos]) / lam[pos]
    out[~pos] = s  # the limit lambda -> 0
    return out


def _sym_norm1_from_lower(K):
    """1-norm of the symmetric matrix whose lower triangle K holds, in row
    blocks of at most 1/16 of K (the upper triangle of K is not read)."""
    n = K.shape[0]
    budget = min(get_config()["working_memory"] * 2**20, K.nbytes // 16)
    rows = max(1, int(budget // (8 * n)))
    row_sums = np.zeros(n)
    col_sums = np.zeros(n)
    for i0 in range(0, n, rows):
        i1 = min(n, i0 + rows)
        block = np.abs(K[i0:i1, :i1], dtype=np.float64)
        block[:, i0:i1] = np.tril(block[:, i0:i1])
        row_sums[i0:i1] += block.sum(axis=1)
        col_sums[:i1] += block.sum(axis=0)
    return float(np.max(row_sums + col_sums - np.abs(np.diagonal(K))))


def _solve_triangular_lower(L, B):
    if _blocked.is_large(L.shape[0]):  # L = U', U = L.T is Fortran-ordered
        return _blocked.solve_upper(L.T, B, trans=True)
    return linalg.solve_triangular(L, B, lower=True, check_finite=False)


def _cho_solve_upper(U, Y):
    """(U'U)^-1 Y for the Fortran-ordered upper factor U."""
    if _blocked.is_large(U.shape[0]):
        return _blocked.solve_upper(U, _blocked.solve_upper(U, Y, trans=True))
    return linalg.cho_solve((U, False), Y, check_finite=False)


def _cholesky_upper_inplace(A):
    """U with A = U'U, in the memory of the Fortran-ordered A (upper triangle
    read; the strict lower one is zeroed)."""
    n = A.shape[0]
    if not _blocked.is_large(n):
        return linalg.cholesky(A, lower=False, overwrite_a=True, check_finite=False)
    _blocked.cholesky_upper_inplace(A)
    for j0 in range(0, n, 2048):  # zero below the diagonal, column block by block
        j1 = min(n, j0 + 2048)
        for j in range(j0, j1):
            A[j + 1:, j] = 0
    return A


def _warn_jitter(alpha, jitter):
    """The warning of a fit that had to add jitter (points at the user's fit)."""
    warn(
        f"The Gram matrix plus alpha * I (alpha={alpha!r}) is not numerically "
        f"positive definite (duplicate or nearly parallel samples?); added "
        f"jitter={jitter:.3g} to its diagonal. Increase alpha to at least "
        "that to silence this warning.", UserWarning)


class _BaseNTKRidge(MultiOutputMixin, BaseEstimator):
    """Shared fit/predict machinery; the estimators stay thin."""

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "kernel": [StrOptions({"ntk", "nngp", "precomputed"})],
        "depth": [Interval(Integral, 1, MAX_DEPTH, closed="both")],
        "w_std": [Interval(Real, 0, None, closed="left")],
        "b_std": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"auto", "cholesky", "eigh", "nystrom"})],
        "training_time": [None, Interval(Real, 0, None, closed="left")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "dtype": [None, StrOptions({"float32", "float64"}), type],
        "device": [None, str],
        "verbose": ["verbose"],
    }

    def __init__(self, alpha=1.0, *, kernel="ntk", depth=1, w_std=1.0, b_std=0.0,
                 solver="auto", training_time=None, n_components=1000, tol=1e-6,
                 random_state=None, dtype=None, device=None, verbose=0):
        self.alpha = alpha
        self.kernel = kernel
        self.depth = depth
        self.w_std = w_std
        self.b_std = b_std
        self.solver = solver
        self.training_time = training_time
        self.n_components = n_components
        self.tol = tol
        self.random_state = random_state
        self.dtype = dtype
        self.device = device
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags

    # ---- kernel blocks (one source of truth: relu_kernel) ------------------ #

    def _kernel_kwargs(self):
        return dict(kernel=self.kernel, depth=self.depth, w_std=self.w_std,
                    b_std=self.b_std)

    def _work_dtype(self):
        """float64 unless dtype asks for float32 (Gram, factor, dual weights)."""
        dtype = np.dtype(np.float64 if self.dtype is None else self.dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be None, 'float32' or 'float64' (or the "
                             f"numpy types), got {self.dtype!r}.")
        return dtype

    def _log(self, message):
        if self.verbose:
            print(f"[{type(self).__name__}] {message}", file=sys.stderr, flush=True)

    def _check_finite_hyper(self):
        for name in ("w_std", "b_std", "alpha"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be finite, got {getattr(self, name)!r}.")
        if self.training_time is not None and math.isnan(self.training_time):
            raise ValueError("training_time must be None or a number >= 0, got nan.")

    def _check_square(self, X):
        if self.kernel == "precomputed" and X.shape[0] != X.shape[1]:
            raise ValueError(
                "With kernel='precomputed', X must be the square Gram matrix of the "
                f"training samples, got shape {X.shape}.")

    def _train_gram(self, X, copies=1):
        """A new Gram matrix (work dtype) that fit may overwrite.

        Only its lower triangle and diagonal are meaningful: the solvers read
        the lower triangle (as the upper triangle of the Fortran-ordered
        transpose). ``copies``: n x n arrays the solver will hold at once,
        for the memory check made before allocating.
        """
        n = X.shape[0]
        self._check_square(X)
        dtype = self._work_dtype()
        if isinstance(self, _BaseNTKRidgeCV):
            options = ("Options: fewer training samples, NTKRegressor/NTKClassifier "
                       "with dtype='float32' or solver='nystrom', or SKNTK_MAX_MEMORY "
                       "if the estimate is wrong for this machine.")
        else:
            options = "Options: " + ("dtype='float32' (half the memory), "
                                     if dtype == np.float64 else "") + (
                "solver='nystrom' (O(n * n_components) memory), fewer training "
                "samples, or SKNTK_MAX_MEMORY if the estimate is wrong for this "
                "machine.")
        check_memory(copies * n * n * dtype.itemsize,
                     f"The {n} x {n} {dtype.name} Gram matrix"
                     + (f" and the solver's workspace ({copies} such arrays)"
                        if copies > 1 else ""), options)
        if self.kernel == "precomputed":
            return np.array(X, dtype=dtype, order="C", copy=True)
        t0 = time.perf_counter()
        with self._gram_progress(n) as progress:
            K = _relu_kernel(X, **self._kernel_kwargs(), dtype=dtype, lower_only=True,
                             progress=progress)
        self._log(f"Gram matrix {n} x {n} ({dtype.name}) in "
                  f"{time.perf_counter() - t0:.1f} s")
        return K

    @contextlib.contextmanager
    def _gram_progress(self, n):
        """A ``progress(done, total)`` callback drawing a bar over the Gram's
        n (n + 1) / 2 entries when ``verbose``, else None."""
        if not self.verbose:
            yield None
            return
        from tqdm.auto import tqdm

        bar = tqdm(total=n * (n + 1) // 2, unit="entries", unit_scale=True,
                   desc="Gram matrix", leave=False)
        try:
            yield lambda done, total: bar.update(done - bar.n)
        finally:
            bar.close()

    def _cross_kernel(self, X):
        dtype = self._work_dtype()
        if self.kernel == "precomputed":
            n_train = self._n_train
            if X.shape[1] != n_train:
                raise ValueError(
                    f"With kernel='precomputed', X at predict time must be the kernel "
                    "between the test and the training samples, of shape "
                    f"(n_test, {n_train}); got {X.shape}.")
            return np.asarray(X, dtype=dtype)
        return _relu_kernel(X, self.X_fit_, **self._kernel_kwargs(), dtype=dtype)

    def _row_chunks(self, n_rows):
        """Row slices whose test-by-train kernel block fits working_memory."""
        itemsize = self._work_dtype().itemsize
        budget = get_config()["working_memory"] * 2**20
        step = max(1, int(budget // max(1, self._n_train * itemsize)))
        return [slice(i, min(n_rows, i + step)) for i in range(0, n_rows, step)]

    # ---- fit ---------------------------------------------------------------- #

    def _resolved_solver(self):
        if self.solver == "auto":
            return "cholesky" if self.training_time is None else "eigh"
        if self.solver in ("cholesky", "nystrom") and self.training_time is not None:
            raise ValueError(
                "training_time needs the eigendecomposition of the Gram matrix: use "
                f"solver='eigh' or solver='auto' (got solver={self.solver!r}).")
        if self.solver == "nystrom" and self.kernel == "precomputed":
            raise ValueError("solver='nystrom' computes kernel blocks itself; it does "
                             "not take kernel='precomputed'.")
        return self.solver

    def _input_dtypes(self):
        # a float32 precomputed Gram is not upcast (twice its memory) on the way in
        return [np.float64, np.float32] if self.kernel == "precomputed" else np.float64

    def _validate_X(self, X, reset):
        try:
            return validate_data(self, X, reset=reset, dtype=self._input_dtypes(),
                                 ensure_min_samples=2 if reset else 1)
        except ValueError as exc:
            if reset or self.kernel != "precomputed" or "is expecting" not in str(exc):
                raise
            raise ValueError(
                f"{exc} With kernel='precomputed', X at predict time must be the "
                "kernel between the test and the training samples, of shape "
                f"(n_test, {self._n_train}).") from None

    def _fit_targets(self, X, y, sample_weight, *, alpha):
        """Factor the Gram of X once and solve for targets y (n, k)."""
        self._check_finite_hyper()
        solver = self._resolved_solver()
        dtype = self._work_dtype()
        n = X.shape[0]
        self._n_train = n
        self.X_fit_ = None if self.kernel == "precomputed" else X
        sw = None
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                                 ensure_non_negative=True)
            sw = np.sqrt(sample_weight)
            y = y * sw[:, None]
        y = np.asarray(y, dtype=dtype)
        self._t_fit = self.training_time
        if solver == "eigh":
            self._check_eigh_size(n)
        if self.device is not None and solver != "cholesky":
            raise ValueError(
                f"device={self.device!r} computes the Gram matrix and its Cholesky "
                "factor with torch: it needs solver='cholesky' (or 'auto') and "
                f"training_time=None, got solver={self.solver!r}, "
                f"training_time={self.training_time!r}. Use device=None for the "
                "other solvers.")
        if solver == "nystrom":
            return self._fit_nystrom(X, y, sw, alpha)
        self.centers_ = self.support_ = self.n_iter_ = None
        self._nystrom = False
        self._sqrt_sw = sw
        # N of the loss normalisation: the number of (weighted) target entries
        self._n_outputs_total = y.shape[1] * (n if sw is None else float(sw @ sw))
        self._clamp = True
        on_device = self._fit_torch(X, y, sw, alpha) if self.device is not None else None
        if on_device is not None:
            self.L_, self.jitter_, coef = on_device
            self.eigenvalues_ = self.eigenvectors_ = None
        else:  # on the host
            K = self._weighted_gram(X, sw, copies=1 if solver == "cholesky" else 3)
            if solver == "cholesky":
                # on failure _cholesky refills K with the (weighted) Gram
                self.L_, self.jitter_ = self._cholesky(K, X, sw, alpha)
            if solver == "cholesky" and self.L_ is not None:
                del K
                # L_.T is the Fortran-ordered upper factor: solved without a copy
                coef = _cho_solve_upper(self.L_.T, y)
                self.eigenvalues_ = self.eigenvectors_ = None
            else:
                if solver == "cholesky":  # indefinite: exact solve through eigh
                    self._clamp = False
                lam, Q = self._eigh(K)
                del K
                self._Qty = Q.T @ y
                if self._clamp:
                    self._warn_if_singular(lam, alpha)
                coef = self._spectral_coef(alpha, self.training_time)
        # y' (K + alpha I)^-1 y per target, for the generalization bound
        self._y_kinv_y = (np.einsum("ij,ij->j", y, coef)
                          if self.training_time is None else None)
        if sw is not None:
            coef *= sw[:, None]
        return coef

    def _fit_torch(self, X, y, sw, alpha):
        """The Gram matrix and its Cholesky factor with torch on ``device``;
        the factor and the dual weights come back to the host, where
        predictions run. Returns ``(L_, jitter, dual weights of y)``, or None
        when K + alpha I is not positive definite even with jitter: the
        caller then solves on the host."""
        from ..kernels import _torch as _torch_kernel

        self._check_square(X)
        dev = _torch_kernel.resolve_kernel_device(self.device)
        dtype = self._work_dtype()
        n = X.shape[0]
        check_memory(n * n * dtype.itemsize, f"The {n} x {n} {dtype.name} Cholesky "
                     "factor (copied back from the device)",
                     "Options: dtype='float32', solver='nystrom', fewer training "
                     "samples, or SKNTK_MAX_MEMORY if the estimate is wrong.")
        if dev.type == "cuda":
            free = _torch_kernel.cuda_free_bytes(dev)
            if 2 * n * n * dtype.itemsize > free:
                raise MemoryError(
                    f"The {n} x {n} {dtype.name} Gram matrix and its Cholesky factor "
                    f"need {2 * n * n * dtype.itemsize / 2**30:.1f} GiB on {dev}, "
                    f"which has {free / 2**30:.1f} GiB free. Options: "
                    "dtype='float32', solver='nystrom', fewer training samples.")
        import torch

        t0 = time.perf_counter()
        if self.kernel == "precomputed":
            K = torch.tensor(np.ascontiguousarray(X, dtype=dtype), device=dev)
        else:
            with self._gram_progress(n) as progress:
                K = _torch_kernel.gram_lower(X, **self._kernel_kwargs(), dtype=dtype,
                                             device=dev, progress=progress)
        if sw is not None:
            w = torch.tensor(sw, dtype=K.dtype, device=dev)
            K *= w[:, None]
            K *= w[None, :]
        self._log(f"Gram matrix {n} x {n} ({dtype.name}) on {dev} in "
                  f"{time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        scale = float(K.diagonal().abs().mean()) or 1.0
        anorm = _torch_kernel.sym_norm1_lower(K, alpha)
        L, jitter = _torch_kernel.cholesky_lower(
            K, alpha, (0.0,) + tuple(rel * scale for rel in _JITTER))
        if L is None:
            del K
            warn(
                f"The Gram matrix plus alpha * I (alpha={alpha!r}) is not positive "
                f"definite, even with jitter {_JITTER[-1] * scale:.3g}: solving on the "
                "host instead, whose solver falls back to an exact "
                "eigendecomposition for indefinite matrices.", UserWarning)
            return None
        if jitter:
            _warn_jitter(alpha, jitter)
        del K
        Y = torch.tensor(y, device=dev)
        coef = torch.cholesky_solve(Y, L).cpu().numpy()
        # C-ordered lower (torch factors are column-major): L_.T is the Fortran
        # upper factor that the host solves read without a copy
        L_host = L.contiguous().cpu().numpy()
        del L
        self._log(f"Cholesky factorisation and solve on {dev} in "
                  f"{time.perf_counter() - t0:.1f} s")
        if not jitter:  # as on the host: LAPACK's estimate from the factor
            self._warn_if_ill_conditioned(L_host.T, anorm, alpha)
        return L_host, jitter, coef

    def _fit_nystrom(self, X, y, sw, alpha):
        """Nyström kernel ridge on n_components uniformly sampled centres (FALKON)."""
        from ..linalg._nystrom import falkon

        n, m = X.shape[0], self.n_components
        if m > n:
            raise ValueError(f"n_components={m} is larger than the number of "
                             f"training samples ({n}); use n_components <= {n}, or "
                             "an exact solver ('cholesky') for data this small.")
        dtype = self._work_dtype()
        check_memory((n * m + 3 * m * m) * dtype.itemsize,
                     f"solver='nystrom' with n_components={m} on {n} samples",
                     "Options: a smaller n_components, or dtype='float32'.")
        rng = check_random_state(self.random_state)
        idx = np.sort(rng.choice(n, size=m, replace=False))
        centers = X[idx]
        t0 = time.perf_counter()
        kw = dict(**self._kernel_kwargs(), dtype=dtype)
        K_nm = _relu_kernel(X, centers, **kw)
        if sw is not None:
            K_nm *= sw[:, None].astype(dtype)
        K_mm = _relu_kernel(centers, **kw)
        self._log(f"kernel blocks {n} x {m} in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        beta, n_iter = falkon(K_nm, K_mm, y, alpha, max_iter=_NYSTROM_MAX_ITER,
                              tol=self.tol)
        self._log(f"conjugate gradients: {n_iter} iterations in "
                  f"{time.perf_counter() - t0:.1f} s")
        if n_iter == _NYSTROM_MAX_ITER:
            warn(f"Conjugate gradients did not reach tol={self.tol} in "
                          f"{n_iter} iterations; increase alpha or tol.",
                          ConvergenceWarning)
        self.X_fit_ = self.centers_ = centers
        self.support_ = idx
        self.n_iter_ = n_iter
        self._n_train = m  # columns of the kernel blocks at predict time
        self._sqrt_sw = None
        self.L_ = self.eigenvalues_ = self.eigenvectors_ = None
        self.jitter_ = 0.0
        self._clamp = True
        self._nystrom = True
        self._t_fit = None
        self._y_kinv_y = None
        return beta

    def _check_eigh_size(self, n):
        if n > _EIGH_MAX_N:
            raise ValueError(
                f"The eigendecomposition (solver='eigh', training_time, the CV "
                f"estimators) supports at most {_EIGH_MAX_N} training samples here "
                f"(LAPACK's 32-bit workspace size overflows), got {n}. Use "
                "solver='cholesky' or solver='nystrom', or fewer samples.")

    def _eigh(self, K):
        # K.T: a Fortran-ordered view of K, decomposed without a copy; its upper
        # triangle is K's lower one, the part the Gram routine fills
        self._check_eigh_size(K.shape[0])
        t0 = time.perf_counter()
        lam, Q = linalg.eigh(K.T, lower=False, overwrite_a=True, check_finite=False,
                             driver="evd")
        self._log(f"eigendecomposition in {time.perf_counter() - t0:.1f} s")
        self.eigenvalues_, self.eigenvectors_ = lam, Q
        self.L_, self.jitter_ = None, 0.0
        return lam, Q

    def _spectral_coef(self, alpha, t):
        g = _filter(self.eigenvalues_, alpha, t, self._n_outputs_total, self._clamp)
        g = g.astype(self.eigenvectors_.dtype)
        return self.eigenvectors_ @ (g[:, None] * self._Qty)

    def _warn_if_singular(self, lam, alpha):
        tiny = np.finfo(lam.dtype).eps * max(abs(lam[-1]), 1e-300) * len(lam)
        if self.training_time is None and lam[0] + alpha <= tiny:
            warn(
                f"The Gram matrix plus alpha * I is singular (smallest eigenvalue "
                f"{lam[0] + alpha:.3g} with alpha={alpha!r}); eigenvalues below "
                f"{tiny:.3g} were floored at 0, so the solution is "
                "ill-determined. Increase alpha.", UserWarning)

    def _cholesky(self, K, X, sw, alpha):
        """Cholesky factor of K + (alpha + jitter) I, escalating jitter if needed."""
        n = K.shape[0]
        diag = K.diagonal().copy()
        K.flat[:: n + 1] += alpha
        anorm = _sym_norm1_from_lower(K)
        t0 = time.perf_counter()
        try:
            # K.T is a Fortran-ordered view of the same memory, which LAPACK
            # factors in place (a C-ordered K would be copied); its upper
            # triangle is K's lower one. K.T = U'U, and L_ = U.T (a view).
            U = _cholesky_upper_inplace(K.T)
            self._log(f"Cholesky factorisation in {time.perf_counter() - t0:.1f} s")
            self._warn_if_ill_conditioned(U, anorm, alpha)
            return U.T, 0.0
        except linalg.LinAlgError:
            pass
        # The failed factorisation overwrote K: rebuild the Gram once, keep it
        # intact, and refill K (the caller's buffer) from it for each attempt,
        # so at most two n x n arrays are alive.
        fresh = self._weighted_gram(X, sw, copies=2)
        scale = float(np.mean(np.abs(diag))) or 1.0
        for rel in _JITTER:
            jitter = rel * scale
            np.copyto(K, fresh)
            K.flat[:: n + 1] += alpha + jitter
            try:
                U = _cholesky_upper_inplace(K.T)
            except linalg.LinAlgError:
                continue
            del fresh
            _warn_jitter(alpha, jitter)
            return U.T, jitter
        warn(
            f"The Gram matrix plus alpha * I (alpha={alpha!r}) is not positive "
            f"definite, even with jitter {_JITTER[-1] * scale:.3g} on its diagonal: "
            "it is not a valid kernel matrix (a precomputed kernel that is not "
            "positive semi-definite?). Solving the indefinite system exactly through "
            "its eigendecomposition instead (as KernelRidge falls back to least "
            "squares); return_std is unavailable.", UserWarning)
        np.copyto(K, fresh)  # the Gram again, for the eigen solver
        return None, 0.0

    def _warn_if_ill_conditioned(self, U, anorm, alpha):
        """Warn when K + alpha I is numerically singular (LAPACK's pocon)."""
        if _blocked.is_large(U.shape[0]):  # pocon's LP64 indexing: skipped
            return
        pocon = linalg.get_lapack_funcs("pocon", (U,))
        rcond, info = pocon(U, anorm, uplo="U")
        eps = np.finfo(U.dtype).eps
        # the relative error bound of the solve, eps / rcond, exceeds 1%
        if info == 0 and rcond < 100 * eps:
            warn(
                f"The Gram matrix plus alpha * I (alpha={alpha!r}) is nearly singular "
                f"(reciprocal condition number {rcond:.2g}, {U.dtype.name} eps "
                f"{eps:.2g}): the dual weights, and predictions away from the "
                "training points, may carry large rounding errors. Increase alpha.",
                UserWarning)

    def _weighted_gram(self, X, sw, copies=1):
        K = self._train_gram(X, copies)
        if sw is not None:
            sw = sw.astype(K.dtype)
            with np.errstate(all="ignore"):  # the unused upper triangle
                K *= sw[:, None]
                K *= sw[None, :]
        return K

    # ---- predict ------------------------------------------------------------ #

    def _decision(self, X):
        """(validated X, kernel block @ dual_coef_), in row chunks of the kernel."""
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        coef = self.dual_coef_
        out = np.empty((X.shape[0],) + coef.shape[1:], dtype=np.float64)
        for rows in self._row_chunks(X.shape[0]):
            out[rows] = self._cross_kernel(X[rows]) @ coef
        return X, out

    def _posterior_std(self, X):
        """GP posterior std at X: sqrt(k(x, x) - k_x' (K + alpha I)^-1 k_x)."""
        if self.kernel == "precomputed":
            raise ValueError("return_std=True needs k(x, x), which a precomputed "
                             "kernel does not provide; use kernel='ntk' or 'nngp'.")
        if self._t_fit is not None:
            raise ValueError("return_std=True gives the converged GP posterior; it "
                             "is not defined with a finite training time.")
        if not self._clamp:
            raise ValueError("return_std=True needs a positive definite Gram matrix "
                             "plus alpha * I; this fit's was indefinite.")
        if self._nystrom:
            raise ValueError("return_std=True is not available with "
                             "solver='nystrom'; use solver='cholesky'.")
        var = relu_kernel_diag(X, **self._kernel_kwargs(), dtype=np.float64)
        for rows in self._row_chunks(X.shape[0]):
            B = self._cross_kernel(X[rows]).T
            if self._sqrt_sw is not None:
                B = B * self._sqrt_sw[:, None].astype(B.dtype)
            if self.L_ is not None:
                V = _solve_triangular_lower(self.L_, B)
                var[rows] -= np.einsum("ij,ij->j", V, V)
            else:
                P = self.eigenvectors_.T @ B
                g = _filter(self.eigenvalues_, self._alpha_fit, None, 1)
                var[rows] -= np.einsum("ij,i,ij->j", P, g, P)
        neg = var < 0
        if np.any(neg):
            warn("Predicted variances smaller than 0 (rounding); setting "
                          "them to 0.", UserWarning)
            var[neg] = 0.0
        return np.sqrt(var)

    def _staged(self, X, training_times):
        check_is_fitted(self)
        if self.eigenvectors_ is None:
            raise ValueError("staged_predict needs the eigendecomposition: refit "
                             "with solver='eigh' (or set training_time).")
        if not self._clamp:
            raise ValueError("staged_predict needs a positive semi-definite Gram "
                             "matrix; this fit's was indefinite.")
        times = [float(t) for t in training_times]
        if any(not (t >= 0) for t in times):
            raise ValueError(f"training_times must all be >= 0, got {times}.")
        X = self._validate_X(X, reset=False)
        Q = self.eigenvectors_
        KQ = np.empty((X.shape[0], Q.shape[1]), dtype=Q.dtype)
        for rows in self._row_chunks(X.shape[0]):
            Kx = self._cross_kernel(X[rows])
            if self._sqrt_sw is not None:
                Kx = Kx * self._sqrt_sw[None, :].astype(Kx.dtype)
            KQ[rows] = Kx @ Q
        for t in times:
            g = _filter(self.eigenvalues_, self._alpha_fit, t,
                        self._n_outputs_total).astype(Q.dtype)
            yield (KQ @ (g[:, None] * self._Qty)).astype(np.float64, copy=False)

    # ---- diagnostics -------------------------------------------------------- #

    def gram_min_eigenvalue(self):
        """Smallest eigenvalue of the (weighted) training Gram matrix K.

        Read from the cached factorisation, without recomputing the Gram: free
        with ``solver="eigh"``; with Cholesky, a Lanczos iteration on
        (K + alpha I)^-1 applied through two triangular solves per step.

        Returns
        -------
        float
        """
        check_is_fitted(self)
        if self._nystrom:
            raise ValueError("gram_min_eigenvalue needs the exact Gram matrix; "
                             "solver='nystrom' never forms it.")
        if self.eigenvalues_ is not None:
            return float(self.eigenvalues_[0])
        from scipy.sparse.linalg import LinearOperator, eigsh

        U = self.L_.T  # Fortran-ordered upper factor
        n = U.shape[0]

        def solve(v):
            return _cho_solve_upper(U, v)

        op = LinearOperator((n, n), matvec=solve, dtype=U.dtype)
        v0 = np.ones(n)
        mu = eigsh(op, k=1, which="LA", v0=v0, return_eigenvectors=False,
                   tol=1e-10)[0]
        return float(1.0 / mu - self._alpha_fit - self.jitter_)

    def generalization_bound(self):
        """sqrt(y' (K + alpha I)^-1 y / n) per target, from the cached solve.

        With ``alpha=0`` this is the bound of the seed notebook (Arora et al.,
        2019: the population loss of a wide two-layer net trained by gradient
        descent scales with it). Computed at fit time from ``dual_coef_``.

        Returns
        -------
        float or ndarray of shape (n_targets,)
        """
        check_is_fitted(self)
        if self._y_kinv_y is None:
            raise ValueError("generalization_bound needs the converged exact "
                             "solution (no finite training time, not "
                             "solver='nystrom').")
        b = np.sqrt(np.maximum(self._y_kinv_y, 0.0) / self._n_train)
        return float(b[0]) if b.shape == (1,) else b


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
        Number of hidden ReLU layers of the network.
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
        Number of Nyström centres m (solver "nystrom" only; at most n).
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

    Attributes
    ----------
    X_fit_ : ndarray of shape (n_samples, n_features)
        Training inputs (not stored with kernel="precomputed").
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
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # few Nyström centres (n_components) may underfit scikit-learn's check data
        tags.regressor_tags.poor_score = self.solver == "nystrom"
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Compute the Gram matrix, factor it once and solve for the dual weights.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or (n_samples, n_samples)
            Training inputs, or their Gram matrix with kernel="precomputed".
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights (>= 0): sample i gets ridge alpha / w_i.

        Returns
        -------
        self : NTKRegressor
        """
        X, y = validate_data(self, X, y, dtype=self._input_dtypes(), multi_output=True,
                             y_numeric=True, ensure_min_samples=2)
        y2 = np.asarray(y, dtype=np.float64)
        ravel = y2.ndim == 1
        if ravel:
            y2 = y2[:, None]
        self._alpha_fit = float(self.alpha)
        coef = self._fit_targets(X, y2, sample_weight, alpha=self._alpha_fit)
        self.dual_coef_ = coef.ravel() if ravel else coef
        return self

    def predict(self, X, return_std=False):
        """Predict with the cached dual weights (one kernel block, one GEMM).

        Parameters
        ----------
        X : array-like of shape (n_test, n_features), or (n_test, n_samples)
            Test inputs, or their kernel with the training samples when
            kernel="precomputed".
        return_std : bool, default=False
            Also return the GP posterior standard deviation (noise-free, i.e.
            of the latent function; the closed-form kernel diagonal minus what
            the training data explain, from the cached factor).

        Returns
        -------
        y_pred : ndarray of shape (n_test,) or (n_test, n_targets)
        y_std : ndarray of shape (n_test,), only when return_std is True
        """
        X, pred = self._decision(X)
        if return_std:
            return pred, self._posterior_std(X)
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
            ``classes_[1]``), else (n_test, n_classes).
        """
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
        """
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
tol, random_state, dtype, device, verbose
        As in :class:`NTKRegressor`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    dual_coef_ : ndarray of shape (n_samples, 1) or (n_samples, n_classes)
    X_fit_, L_, jitter_, eigenvalues_, eigenvectors_, n_features_in_
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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Code the labels +-1, factor the Gram once and solve.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or (n_samples, n_samples)
            Training inputs, or their Gram matrix with kernel="precomputed".
        y : array-like of shape (n_samples,)
            Class labels (any type `numpy.unique` sorts).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : NTKClassifier
        """
        X, y = validate_data(self, X, y, dtype=self._input_dtypes(),
                             ensure_min_samples=2)
        Y = self._encode(y)
        self._alpha_fit = float(self.alpha)
        self.dual_coef_ = self._fit_targets(X, Y, sample_weight, alpha=self._alpha_fit)
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


# --------------------------------------------------------------------------- #
# Leave-one-out model selection from one eigendecomposition (the RidgeCV way)
# --------------------------------------------------------------------------- #


class _BaseNTKRidgeCV(_BaseNTKRidge):
    _parameter_constraints: dict = {
        key: value for key, value in _BaseNTKRidge._parameter_constraints.items()
        if key not in ("alpha", "solver", "training_time", "dtype", "device", "verbose")
    }
    _parameter_constraints.update(
        alphas=["array-like", Interval(Real, 0, None, closed="neither")],
        training_times=[None, "array-like"],
        store_cv_results=["boolean"],
    )
    # class-level: the CV estimators always use the eigen solver, converged,
    # in float64 (leave-one-out residuals divide by small numbers)
    solver = "eigh"
    training_time = None
    dtype = None
    device = None
    verbose = 0

    def __init__(self, alphas=(1e-3, 1e-2, 1e-1, 1.0, 10.0), *, training_times=None,
                 kernel="ntk", depth=1, w_std=1.0, b_std=0.0, store_cv_results=False):
        self.alphas = alphas
        self.training_times = training_times
        self.kernel = kernel
        self.depth = depth
        self.w_std = w_std
        self.b_std = b_std
        self.store_cv_results = store_cv_results

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

    def _loo_fit(self, X, Y, score_fn):
        """Eigendecompose K once; LOO residuals for every alpha; keep the best.

        For ridge, the leave-one-out residual of sample i is c_i / G_ii with
        c = G y and G = (K + alpha I)^-1 = Q diag(1 / (lambda + alpha)) Q',
        so each alpha costs O(n^2), after one O(n^3) eigendecomposition.
        """
        self._check_finite_hyper()
        alphas = self._alpha_grid()
        times = self._time_grid()
        n = X.shape[0]
        self._n_train = n
        self.X_fit_ = None if self.kernel == "precomputed" else X
        self._check_eigh_size(n)
        lam, Q = self._eigh(self._train_gram(X, copies=3))
        self._sqrt_sw = None
        self._clamp = True
        self._n_outputs_total = Y.size
        self._Qty = Q.T @ Y
        self._nystrom = False
        if times is not None:
            return self._gcv_fit(Y, lam, alphas, times)
        self._t_fit = self.training_time_ = None
        scores, errors = [], []
        for alpha in alphas:
            g = _filter(lam, alpha, None, 1)
            coef = Q @ (g[:, None] * self._Qty)
            G_diag = np.concatenate([(Q[r] ** 2) @ g for r in self._row_blocks(n)])
            resid = coef / G_diag[:, None]  # y_i - (LOO prediction of i)
            scores.append(score_fn(Y, resid))
            errors.append(resid**2)
        scores_arr = np.asarray(scores)
        ties = np.flatnonzero(scores_arr == scores_arr.max())
        best = int(ties[np.argmin(alphas[ties])])  # ties go to the smallest alpha
        self.alpha_ = self._alpha_fit = float(alphas[best])
        self.best_score_ = float(scores[best])
        if self.store_cv_results:
            cv = np.stack(errors, axis=-1)  # (n, k, n_alphas)
            self.cv_results_ = cv[:, 0, :] if Y.shape[1] == 1 else cv
        self._warn_if_singular(lam, self.alpha_)
        coef = self._spectral_coef(self.alpha_, None)
        self._y_kinv_y = np.einsum("ij,ij->j", Y, coef)
        return coef

    def _gcv_fit(self, Y, lam, alphas, times):
        """Generalized cross-validation over the (alpha, training time) grid.

        The fitted values of gradient flow are H y with H = Q diag(h) Q',
        h = lambda g_t(lambda); GCV = mean((y - H y)^2) / (1 - tr(H) / n)^2.
        Exact leave-one-out has no closed form for finite times (leaving a
        sample out changes the whole flow), so GCV, its rotation-invariant
        version, is the criterion; each grid point costs O(n k) after the
        eigendecomposition.
        """
        n = len(lam)
        gcv = np.empty((len(alphas), len(times)))
        for a, alpha in enumerate(alphas):
            for j, t in enumerate(times):
                h = np.maximum(lam, 0.0) * _filter(lam, alpha, t, self._n_outputs_total)
                resid = Y - self.eigenvectors_ @ (h[:, None] * self._Qty)
                gcv[a, j] = np.mean(resid**2) / max(1.0 - h.sum() / n, 1e-12) ** 2
        a, j = np.unravel_index(np.argmin(gcv), gcv.shape)
        self.alpha_ = self._alpha_fit = float(alphas[a])
        self.training_time_ = float(times[j])
        # t = inf is the converged ridge solution (std and bound available)
        self._t_fit = None if math.isinf(self.training_time_) else self.training_time_
        self.best_score_ = -float(gcv[a, j])
        if self.store_cv_results:
            self.cv_results_ = gcv
        coef = self._spectral_coef(self.alpha_, self._t_fit)
        self._y_kinv_y = (np.einsum("ij,ij->j", Y, coef) if self._t_fit is None
                          else None)
        return coef


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
    kernel, depth, w_std, b_std
        As in :class:`NTKRegressor`.
    store_cv_results : bool, default=False
        Keep the squared leave-one-out residuals in ``cv_results_`` (with
        ``training_times``: the GCV values, shape (n_alphas, n_times)).

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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Choose alpha by leave-one-out and fit with it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or (n_samples, n_samples)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)

        Returns
        -------
        self : NTKRegressorCV
        """
        X, y = validate_data(self, X, y, dtype=self._input_dtypes(), multi_output=True,
                             y_numeric=True, ensure_min_samples=2)
        Y = np.asarray(y, dtype=np.float64)
        ravel = Y.ndim == 1
        Y = Y[:, None] if ravel else Y
        coef = self._loo_fit(X, Y, lambda Y, r: -float(np.mean(r**2)))
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
    kernel, depth, w_std, b_std
        As in :class:`NTKRegressor`.
    scoring : {None, "accuracy"}, default=None
        None: leave-one-out squared error of the coding; "accuracy": fraction
        of samples whose leave-one-out prediction is right (ties go to the
        smallest alpha).
    store_cv_results : bool, default=False

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
                 store_cv_results=False):
        super().__init__(alphas, training_times=training_times, kernel=kernel,
                         depth=depth, w_std=w_std, b_std=b_std,
                         store_cv_results=store_cv_results)
        self.scoring = scoring

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Choose alpha by leave-one-out and fit with it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), or (n_samples, n_samples)
        y : array-like of shape (n_samples,)

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

            def score(Y, resid):
                loo = Y - resid
                return float(np.mean(
                    self._labels(loo.ravel() if loo.shape[1] == 1 else loo) == truth))
        else:
            def score(Y, resid):
                return -float(np.mean(resid**2))
        self.dual_coef_ = self._loo_fit(X, Y, score)
        return self
