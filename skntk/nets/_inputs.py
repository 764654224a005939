"""Input checks of the network estimators: the widths of the hidden layers,
and X's range for float32 training (converted once, checked as it is
converted)."""

import math
from numbers import Integral

import numpy as np

from ..utils.warn import warn

__all__ = ["check_float32_range", "check_hidden_layer_sizes"]


def check_float32_range(X):
    """Training in float32 must not turn inputs into inf or 0 silently.

    Returns X (finite, validated) converted to a new float32 array, checked in
    row blocks of about 256 KiB as it is converted (one pass over X, no
    temporary of X's size): the conversion overflows to inf exactly when a
    value exceeds the float32 range, and a nonzero value is lost (0 or
    subnormal) exactly when the converted block has more entries below the
    smallest normal float32 than X has zeros.
    """
    info = np.finfo(np.float32)
    X32 = np.empty(X.shape, dtype=np.float32)
    step = max(1, (1 << 16) // max(1, X.shape[1]))
    big, lost = 0.0, False
    with np.errstate(over="ignore"):
        for start in range(0, X.shape[0], step):
            block = X[start:start + step]
            out = X32[start:start + step]
            np.copyto(out, block, casting="unsafe")
            a = np.abs(out)
            big = max(big, float(a.max(initial=0.0)))
            if not lost:
                lost = (np.count_nonzero(a < info.tiny)
                        != block.size - np.count_nonzero(block))
    if not math.isfinite(big):
        big = float(np.abs(X).max())
        raise ValueError(
            f"X has values up to {big:.3g}, which overflow dtype='float32' (max "
            f"{info.max:.3g}); scale X (e.g. StandardScaler) or use dtype='float64'.")
    if lost:
        absX = np.abs(X)
        smallest = float(absX[absX > 0].min())
        warn(
            f"X has nonzero values down to {smallest:.3g}, below the "
            f"smallest normal float32 ({info.tiny:.3g}): they are lost in "
            "dtype='float32' training; scale X (e.g. StandardScaler) or use "
            "dtype='float64'.", UserWarning)
    return X32


def check_hidden_layer_sizes(hidden_layer_sizes):
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
