"""The checks of EmpiricalNTKFeatures' inputs and outputs.

The memory checks: ``transform``'s feature matrix and ``empirical_ntk``'s Grams
are estimated before they are allocated and refused, with the options that
would fit, when they exceed the budget of
:func:`skntk.utils.memory.available_memory` (``SKNTK_MAX_MEMORY`` or the
system's available memory); the temporaries of one batch of rows are bounded
separately, by ``working_memory``. The targets of the training loss, the
finiteness of what is returned (features, Grams), and the inputs of a fitted
estimator (:func:`validate_fitted`).
"""

import os
from itertools import combinations

import numpy as np
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from ..utils.memory import available_memory, check_memory

__all__ = ["check_finite_output", "check_gram_memory", "check_transform_memory",
           "encode_target", "validate_fitted"]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def validate_fitted(est, X, dtype):
    """``validate_data(est, X, dtype=dtype, reset=False)``, with a shortcut
    for what it would return unchanged: a finite, native float32 / float64
    2-D ndarray with the fitted number of columns, for an estimator fitted
    without feature names (scikit-learn's checks cost 0.3 ms, as much as a
    transform of 500 small rows). Anything else, errors included, goes
    through scikit-learn."""
    if (type(X) is np.ndarray and X.ndim == 2 and X.dtype in _FLOATS
            and X.dtype.isnative and X.shape[0] >= 1
            and X.shape[1] == getattr(est, "n_features_in_", -1)
            and not hasattr(est, "feature_names_in_")
            and np.isfinite(X.min() + X.max())):  # NaN and inf propagate
        return X
    return validate_data(est, X, dtype=dtype, reset=False)


def encode_target(y, loss):
    """``y`` of the training ``loss`` as float64: the targets of
    ``"squared_error"``, or -1 / +1 (the larger class) for ``"log_loss"``."""
    if loss == "squared_error":
        try:
            target = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                "loss='squared_error' needs numeric targets y; got values such as "
                f"{np.asarray(y).ravel()[0]!r}. Use loss='log_loss' for two "
                "classes.") from None
        if not np.all(np.isfinite(target)):
            raise ValueError("Input y contains NaN or infinity; "
                             "loss='squared_error' needs finite targets.")
        return target
    check_classification_targets(y)
    classes = np.unique(y)
    if classes.size != 2:
        raise ValueError(
            f"loss='log_loss' needs y with two classes; got {classes.size}. "
            "Use loss='squared_error' for other targets.")
    return np.where(y == classes[1], 1.0, -1.0)


def check_finite_output(out, inputs, trained, what):
    """Refuse ``out`` (features or Gram of the arrays ``inputs``) that
    overflowed its dtype."""
    if np.all(np.isfinite(out)):
        return
    scale = max(float(np.max(np.abs(X))) for X in inputs if X.size)
    raise ValueError(
        f"{what} overflow {out.dtype.name} (the largest |x| in X is {scale:.3g})"
        + (", with parameters grown by train_steps" if trained else "")
        + ": rescale X, e.g. with sklearn.preprocessing.StandardScaler"
        + (", or pass float64 input." if out.dtype == np.float32 else "."))

# outputs up to this size skip the system's available memory (not
# SKNTK_MAX_MEMORY): a machine that cannot hold them fails in numpy anyway,
# and reading /proc/meminfo (50 us) is 1% of transform's 6 ms at 20 MB
_SMALL_OUTPUT = 64 * 2**20

_ESTIMATE = "or SKNTK_MAX_MEMORY if the estimate is wrong for this machine."


def _largest_sketch(sizes, columns):
    """The largest ``n_components`` whose sketched blocks fit in ``columns``
    columns (0 if none does); it must stay below the largest block."""
    best, lo, hi = 0, 1, max(sizes) - 1
    while lo <= hi:
        k = (lo + hi) // 2
        if sum(min(s, k) for s in sizes) <= columns:
            best, lo = k, k + 1
        else:
            hi = k - 1
    return best


def check_transform_memory(n, dtype, sizes, n_features_out):
    """Raise MemoryError before ``transform`` allocates ``n`` rows of
    ``n_features_out`` features of numpy ``dtype`` that do not fit.

    ``sizes()`` maps each chosen layer to its number of exact features.
    """
    itemsize = dtype.itemsize
    nbytes = n * n_features_out * itemsize
    if nbytes <= _SMALL_OUTPUT and not os.environ.get("SKNTK_MAX_MEMORY"):
        return  # reading /proc/meminfo would cost more than writing the output
    dtype_name, sizes = dtype.name, sizes()  # dtype.name: 5 us of Python
    available = available_memory()
    if available is None or nbytes <= available:
        return
    columns = available // max(1, n * itemsize)
    options = []
    k = _largest_sketch(list(sizes.values()), columns)
    if k:
        options.append(f"n_components={k} or less (a sketch of each block)")
    subsets = [names for r in range(len(sizes) - 1, 0, -1)
               for names in combinations(sizes, r)
               if sum(sizes[name] for name in names) <= columns]
    if subsets:
        options.append("layers=" + " or ".join(
            f"{names!r} ({sum(sizes[n] for n in names)} features)"
            for names in subsets))
    rows = available // max(1, n_features_out * itemsize)
    if rows:
        options.append(f"at most {rows} rows per call to transform "
                       "(transform X in slices)")
    if itemsize == 8:
        options.append("float32 input (half the memory)")
    check_memory(nbytes, f"transform's {n} x {n_features_out} {dtype_name} "
                 "feature matrix",
                 "Options that fit: " + "; ".join(options + [_ESTIMATE]))


def check_gram_memory(n_x, n_y, same, itemsize, dtype_name, grams, row_items):
    """Raise MemoryError before ``empirical_ntk`` allocates ``grams`` Grams of
    ``n_x x n_y`` and the factors of the rows (``row_items`` numbers a row of
    ``X``, and of ``Y`` unless ``same``) that do not fit."""
    nbytes = (grams * n_x * n_y + (n_x + (0 if same else n_y)) * row_items) * itemsize
    available = available_memory()
    if available is None or nbytes <= available:
        return
    options = []
    # rows of X against the whole Y, passed as a separate array
    rows = (available // itemsize - n_y * row_items) // (grams * n_y + row_items)
    if rows > 0:
        options.append(f"at most {rows} rows of X per call (with the same Y)")
    if grams > 1:
        options.append("by_layer=False (one Gram instead of one per layer)")
    if itemsize == 8:
        options.append("float32 input (half the memory)")
    options.append("transform with n_components set, whose features' inner "
                   "products estimate this Gram")
    what = (f"{grams} {n_x} x {n_y} {dtype_name} Grams (by_layer=True)"
            if grams > 1 else f"The {n_x} x {n_y} {dtype_name} Gram")
    check_memory(nbytes, f"empirical_ntk: {what} and the factors of the rows",
                 "Options: " + "; ".join(options + [_ESTIMATE]))
