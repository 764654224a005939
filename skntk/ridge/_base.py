"""The shared core of the kernel ridge estimators: parameters, fit, predict.

All the linear algebra happens in ``fit``: the Gram matrix is computed once by
:func:`skntk.kernels.gram` (the single source of truth for the kernel),
``alpha`` is added to the diagonal of our own copy, and the factorisation is
cached, either the Cholesky factor ``L_`` (``solver="cholesky"``) or the
eigenpairs ``eigenvalues_``/``eigenvectors_`` (``solver="eigh"``). ``predict``
is one cross-kernel block and one matrix product; ``predict(X,
return_std=True)`` reuses the cached factor. No explicit inverse is ever formed.

Everything else a fit leaves for predict is one immutable :class:`_Solution`.
The maths on plain arrays is in :mod:`skntk.linalg`; the torch device fit in
:mod:`skntk.ridge._device`, imported only when ``device`` is set.
"""

import contextlib
import math
import sys
import time
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Optional

import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator, MultiOutputMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ..kernels import MAX_DEPTH, gram, ntk_kernel_diag
from ..linalg import (
    JITTER,
    check_eigh_size,
    check_gram_memory,
    check_memory,
    cho_solve_upper,
    cholesky_upper_inplace,
    eigh_lower,
    factor_with_jitter,
    falkon,
    solve_triangular_lower,
    spectral_coef,
    spectral_filter,
    sym_norm1_from_lower,
    warn_if_ill_conditioned,
    warn_if_singular,
)
from ..utils.activations import NAMES, Activation, check_activation
from ..utils.chunks import row_chunks
from ..utils.compat import Interval, StrOptions, check_sample_weight
from ..utils.versions import VersionedStateMixin
from ..utils.warn import warn
from ._diagnostics import DiagnosticsMixin

# Conjugate gradient iterations of solver="nystrom" (FALKON needs tens).
_NYSTROM_MAX_ITER = 500


@dataclass(frozen=True, eq=False)
class _Solution:
    """What a fit leaves for predict, besides the public fitted attributes.

    The factor itself stays in the public ``L_`` (kind "cholesky") or
    ``eigenvalues_``/``eigenvectors_`` (kind "eigh"), or the dual weights on
    ``centers_`` (kind "nystrom"): one reference each, so that pickles and
    joblib files hold each n x n array once.
    """

    kind: str  # "cholesky", "eigh" or "nystrom"
    alpha: float  # the ridge of the fit (``alpha_`` of the CV estimators)
    n_train: int  # columns of the kernel blocks at predict (m centres for nystrom)
    # False: K + alpha I was indefinite, solved exactly through eigh (no floor)
    clamp: bool = True
    training_time: Optional[float] = None  # finite gradient-flow time; None: converged
    n_outputs_total: Optional[float] = None  # N of the loss 0.5 sum((f - y)^2) / N
    sqrt_sw: Optional[np.ndarray] = None  # square roots of the sample weights
    Qty: Optional[np.ndarray] = None  # Q' (sqrt_sw * y), kind "eigh"
    y_kinv_y: Optional[np.ndarray] = None  # y' (K + alpha I)^-1 y per target


class _BaseNTKRidge(DiagnosticsMixin, VersionedStateMixin, MultiOutputMixin,
                    BaseEstimator):
    """Shared fit/predict machinery; the estimators stay thin."""

    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="left")],
        "kernel": [StrOptions({"ntk", "nngp", "precomputed"})],
        "activation": [StrOptions(set(NAMES)), callable, Activation],
        "negative_slope": [None, Real],
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
        "copy_X": ["boolean"],
    }

    def __init__(self, alpha=1.0, *, kernel="ntk", depth=1, w_std=1.0, b_std=0.0,
                 solver="auto", training_time=None, n_components=1000, tol=1e-6,
                 random_state=None, dtype=None, device=None, verbose=0, copy_X=True,
                 activation="relu", negative_slope=None):
        self.alpha = alpha
        self.kernel = kernel
        self.activation = activation
        self.negative_slope = negative_slope
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
        self.copy_X = copy_X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags

    # ---- kernel blocks (one source of truth: relu_kernel) ------------------ #

    def _kernel_kwargs(self):
        return dict(kernel=self.kernel, depth=self.depth, w_std=self.w_std,
                    b_std=self.b_std, activation=self.activation,
                    negative_slope=self.negative_slope)

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

    def _store_X(self, X):
        """``X_fit_``: the training inputs in the fit's dtype, a copy unless
        ``copy_X=False`` and X already has that dtype (None when precomputed)."""
        if self.kernel == "precomputed":
            return None
        return np.array(X, dtype=self._work_dtype(), order="C",
                        copy=True if self.copy_X else None)

    def _check_kernel_scale(self, X, stats=None):
        """Refuse training data whose kernel values underflow the fit's dtype.

        Below ``2**16`` times the work dtype's smallest normal number (about
        1.5e-303 in float64, 7.7e-34 in float32) the Gram's entries come
        within a few factorisation steps of the subnormals, where they lose
        precision or flush to 0: predictions were NaN (rows of norm 1e-155)
        or silently 0. With ``b_std = 0`` the ReLU kernels are positively
        homogeneous of degree 2 (k(cx, cy) = c^2 k(x, y)), so such values
        come from inputs of norm below about 1e-151 (float64) or 1e-17
        (float32); the fix is to rescale them. Above the floor the fit is
        exact: ``tests/test_reliability.py`` checks scale invariance at 1e-150.
        """
        dtype = self._work_dtype()
        fi = np.finfo(dtype)
        floor = float(fi.tiny) * 2.0**16
        if stats is None:  # else (largest kernel diagonal, any X != 0) of a Dask fit
            diag = (np.abs(np.diagonal(X)) if self.kernel == "precomputed" else
                    ntk_kernel_diag(X, **self._kernel_kwargs(), dtype=np.float64))
            stats = (float(np.max(diag)) if diag.size else 0.0, np.any(X))
        top = stats[0]
        # an all-zero X (or Gram) has the exact kernel 0: nothing underflowed
        if top >= floor or not stats[1]:
            return
        what = ("the precomputed Gram matrix's diagonal" if self.kernel == "precomputed"
                else "the kernel of the training inputs")
        raise ValueError(
            f"The scale of X underflows the kernel's {dtype.name} range: the "
            f"largest value on {what} is {top:.3g}, below {floor:.3g}, where "
            f"{dtype.name} loses precision (subnormal numbers) and the solve would "
            "give NaN or 0 predictions. Rescale X, e.g. with "
            "sklearn.preprocessing.StandardScaler"
            + ("" if self.kernel == "precomputed" else
               " (with b_std=0 the kernel scales as the square of the inputs' "
               "norm), or use larger w_std / b_std")
            + (", or dtype='float64'." if dtype == np.float32 else "."))

    def _check_square(self, X):
        if self.kernel == "precomputed" and X.shape[0] != X.shape[1]:
            raise ValueError(
                "With kernel='precomputed', X must be the square Gram matrix of the "
                f"training samples, got shape {X.shape}.")

    def _memory_options(self, dtype):
        """The sentence of a MemoryError listing what would fit (the CV
        estimators, which have neither dtype nor solver, override it)."""
        return "Options: " + ("dtype='float32' (half the memory), "
                              if dtype == np.float64 else "") + (
            "solver='nystrom' (O(n * n_components) memory), fewer training "
            "samples, or SKNTK_MAX_MEMORY if the estimate is wrong for this "
            "machine.")

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
        check_gram_memory(n, dtype, copies, self._memory_options(dtype))
        if self.kernel == "precomputed":
            return np.array(X, dtype=dtype, order="C", copy=True)
        t0 = time.perf_counter()
        with self._gram_progress(n) as progress:
            K = gram(X, **self._kernel_kwargs(), dtype=dtype, lower_only=True,
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
            n_train = self._solution.n_train
            if X.shape[1] != n_train:
                raise ValueError(
                    f"With kernel='precomputed', X at predict time must be the kernel "
                    "between the test and the training samples, of shape "
                    f"(n_test, {n_train}); got {X.shape}.")
            return np.asarray(X, dtype=dtype)
        return gram(X, self.X_fit_, **self._kernel_kwargs(), dtype=dtype)

    def _row_chunks(self, n_rows):
        """Row slices whose test-by-train kernel block fits working_memory."""
        row_bytes = self._solution.n_train * self._work_dtype().itemsize
        return list(row_chunks(n_rows, row_bytes))

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
                f"(n_test, {self._solution.n_train}).") from None

    def __sklearn_is_fitted__(self):
        # fitted means solved: a fit that raised after validate_data leaves
        # n_features_in_ behind, but no solution (NotFittedError, not an
        # AttributeError, at predict)
        return "_solution" in vars(self)

    def _start_fit(self):
        """Forget the previous solution: a fit that raises leaves no model."""
        vars(self).pop("_solution", None)
        self._check_finite_hyper()
        check_activation(self.activation, self.negative_slope)

    def _fit_targets(self, X, y, sample_weight, *, alpha):
        """Factor the Gram of X once and solve for targets y (n, k)."""
        self._start_fit()
        solver = self._resolved_solver()
        dtype = self._work_dtype()
        n = X.shape[0]
        self._check_kernel_scale(X)
        y_in = y
        sw = None
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X, dtype=np.float64,
                                                ensure_non_negative=True)
            sw = np.sqrt(sample_weight)
            y = y * sw[:, None]
        with np.errstate(over="ignore"):
            y = np.asarray(y, dtype=dtype)
        if not np.isfinite(y).all():  # finite on input: the cast overflowed
            raise ValueError(
                f"y has values up to {float(np.nanmax(np.abs(y_in))):.3g}, which "
                f"overflow dtype={np.dtype(dtype).name!r} (max "
                f"{np.finfo(dtype).max:.3g}); scale y or use dtype='float64'.")
        t = self.training_time
        if solver == "eigh":
            check_eigh_size(n)
        if self.device is not None and solver != "cholesky":
            raise ValueError(
                f"device={self.device!r} computes the Gram matrix and its Cholesky "
                "factor with torch: it needs solver='cholesky' (or 'auto') and "
                f"training_time=None, got solver={self.solver!r}, "
                f"training_time={self.training_time!r}. Use device=None for the "
                "other solvers.")
        if solver == "nystrom":
            return self._fit_nystrom(X, y, sw, alpha)
        self.X_fit_ = self._store_X(X)
        self.centers_ = self.support_ = self.n_iter_ = self.n_components_ = None
        # N of the loss normalisation: the number of (weighted) target entries
        n_outputs_total = y.shape[1] * (n if sw is None else float(sw @ sw))
        clamp, Qty, on_device = True, None, None
        if self.device is not None:
            if check_activation(self.activation, self.negative_slope).name != "relu":
                raise ValueError(
                    f"device={self.device!r} computes the ReLU kernel only (its torch "
                    f"twin); activation={self.activation!r} needs device=None.")
            from ._device import fit_on_device  # imports torch

            on_device = fit_on_device(self, X, y, sw, alpha)
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
                coef = cho_solve_upper(self.L_.T, y)
                self.eigenvalues_ = self.eigenvectors_ = None
            else:
                clamp = solver != "cholesky"  # indefinite: exact solve through eigh
                lam, Q = self._eigh(K)
                del K
                Qty = Q.T @ y
                if clamp and t is None:
                    warn_if_singular(lam, alpha)
                coef = spectral_coef(lam, Q, Qty, alpha, t, n_outputs_total, clamp)
        self._solution = _Solution(
            kind="eigh" if self.L_ is None else "cholesky", alpha=alpha, n_train=n,
            clamp=clamp, training_time=t, n_outputs_total=n_outputs_total,
            sqrt_sw=sw, Qty=Qty,
            # y' (K + alpha I)^-1 y per target, for the generalization bound
            y_kinv_y=np.einsum("ij,ij->j", y, coef) if t is None else None)
        if sw is not None:
            coef *= sw[:, None]
        return coef

    def _fit_nystrom(self, X, y, sw, alpha):
        """Nyström kernel ridge on n_components uniformly sampled centres (FALKON)."""
        n, m = X.shape[0], self.n_components
        if m > n:
            # as scikit-learn's Nystroem: clamp, with a warning
            warn(f"n_components={m} > n_samples={n}: using all {n} training "
                 "samples as centres (n_components_), which is exact kernel ridge "
                 "at a higher cost than solver='cholesky'.", UserWarning)
            m = n
        self.n_components_ = m
        dtype = self._work_dtype()
        check_memory((n * m + 3 * m * m) * dtype.itemsize,
                     f"solver='nystrom' with n_components={m} on {n} samples",
                     "Options: a smaller n_components, or dtype='float32'.")
        rng = check_random_state(self.random_state)
        idx = np.sort(rng.choice(n, size=m, replace=False))
        centers = np.ascontiguousarray(X[idx], dtype=dtype)
        t0 = time.perf_counter()
        kw = dict(**self._kernel_kwargs(), dtype=dtype)
        K_nm = gram(X, centers, **kw)
        if sw is not None:
            K_nm *= sw[:, None].astype(dtype)
        K_mm = gram(centers, **kw)
        self._log(f"kernel blocks {n} x {m} in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        beta, n_iter = falkon(K_nm, K_mm, y, alpha, max_iter=_NYSTROM_MAX_ITER,
                              tol=self.tol)
        self._log(f"conjugate gradients: {n_iter} iterations in "
                  f"{time.perf_counter() - t0:.1f} s")
        if n_iter == _NYSTROM_MAX_ITER:
            warn(f"Conjugate gradients did not reach tol={self.tol} in "
                 f"{n_iter} iterations; increase alpha or tol.", ConvergenceWarning)
        self.X_fit_ = self.centers_ = centers
        self.support_ = idx
        self.n_iter_ = n_iter
        self.L_ = self.eigenvalues_ = self.eigenvectors_ = None
        self.jitter_ = 0.0
        # the kernel blocks at predict time have one column per centre
        self._solution = _Solution(kind="nystrom", alpha=alpha, n_train=m)
        return beta

    def _eigh(self, K):
        """Eigenpairs of the Gram K (overwritten), cached as the fitted
        ``eigenvalues_``/``eigenvectors_``."""
        t0 = time.perf_counter()
        lam, Q = eigh_lower(K)
        self._log(f"eigendecomposition in {time.perf_counter() - t0:.1f} s")
        self.eigenvalues_, self.eigenvectors_ = lam, Q
        self.L_, self.jitter_ = None, 0.0
        return lam, Q

    def _cholesky(self, K, X, sw, alpha):
        """Cholesky factor of K + (alpha + jitter) I, escalating jitter if needed
        (:func:`skntk.linalg.factor_with_jitter`); ``(None, 0.0)`` with K
        refilled with the (weighted) Gram when K + alpha I is indefinite."""
        n = K.shape[0]
        diag = K.diagonal().copy()
        K.flat[:: n + 1] += alpha
        anorm = sym_norm1_from_lower(K)
        scale = float(np.mean(np.abs(diag))) or 1.0
        fresh, attempts = None, 0
        t0 = time.perf_counter()

        def try_factor(jitter):
            nonlocal fresh, attempts
            attempts += 1
            if attempts > 1:  # the first attempt factors K + alpha I as it stands
                if fresh is None:
                    # The failed factorisation overwrote K: rebuild the Gram
                    # once, keep it intact, and refill K (the caller's buffer)
                    # from it for each attempt: at most two n x n arrays alive.
                    fresh = self._weighted_gram(X, sw, copies=2)
                np.copyto(K, fresh)
                K.flat[:: n + 1] += alpha + jitter
            try:
                # K.T is a Fortran-ordered view of the same memory, which LAPACK
                # factors in place (a C-ordered K would be copied); its upper
                # triangle is K's lower one. K.T = U'U, and L_ = U.T (a view).
                return cholesky_upper_inplace(K.T)
            except linalg.LinAlgError:
                return None

        U, jitter = factor_with_jitter(try_factor, alpha, scale)
        if U is not None:
            if attempts == 1:
                self._log(f"Cholesky factorisation in {time.perf_counter() - t0:.1f} s")
                warn_if_ill_conditioned(U, anorm, alpha)
            return U.T, jitter
        warn(
            f"The Gram matrix plus alpha * I (alpha={alpha!r}) is not positive "
            f"definite, even with jitter {JITTER[-1] * scale:.3g} on its diagonal: "
            "it is not a valid kernel matrix (a precomputed kernel that is not "
            "positive semi-definite?). Solving the indefinite system exactly through "
            "its eigendecomposition instead (as KernelRidge falls back to least "
            "squares); return_std is unavailable.", UserWarning)
        np.copyto(K, fresh)  # the Gram again, for the eigen solver
        return None, 0.0

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
        sol = self._solution
        if self.kernel == "precomputed":
            raise ValueError("return_std=True needs k(x, x), which a precomputed "
                             "kernel does not provide; use kernel='ntk' or 'nngp'.")
        if sol.training_time is not None:
            raise ValueError("return_std=True gives the converged GP posterior; it "
                             "is not defined with a finite training time.")
        if not sol.clamp:
            raise ValueError("return_std=True needs a positive definite Gram matrix "
                             "plus alpha * I; this fit's was indefinite.")
        if sol.kind == "nystrom":
            raise ValueError("return_std=True is not available with "
                             "solver='nystrom'; use solver='cholesky'.")
        var = ntk_kernel_diag(X, **self._kernel_kwargs(), dtype=np.float64)
        for rows in self._row_chunks(X.shape[0]):
            B = self._cross_kernel(X[rows]).T
            if sol.sqrt_sw is not None:
                B = B * sol.sqrt_sw[:, None].astype(B.dtype)
            if sol.kind == "cholesky":
                V = solve_triangular_lower(self.L_, B)
                var[rows] -= np.einsum("ij,ij->j", V, V)
            else:
                P = self.eigenvectors_.T @ B
                g = spectral_filter(self.eigenvalues_, sol.alpha, None, 1)
                var[rows] -= np.einsum("ij,i,ij->j", P, g, P)
        neg = var < 0
        if np.any(neg):
            warn("Predicted variances smaller than 0 (rounding); setting "
                 "them to 0.", UserWarning)
            var[neg] = 0.0
        return np.sqrt(var)

    def _staged(self, X, training_times):
        check_is_fitted(self)
        sol = self._solution
        if sol.kind != "eigh":
            raise ValueError("staged_predict needs the eigendecomposition: refit "
                             "with solver='eigh' (or set training_time).")
        if not sol.clamp:
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
            if sol.sqrt_sw is not None:
                Kx = Kx * sol.sqrt_sw[None, :].astype(Kx.dtype)
            KQ[rows] = Kx @ Q
        for t in times:
            g = spectral_filter(self.eigenvalues_, sol.alpha, t,
                                sol.n_outputs_total).astype(Q.dtype)
            yield (KQ @ (g[:, None] * sol.Qty)).astype(np.float64, copy=False)
