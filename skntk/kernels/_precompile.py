"""Compile the kernel engines' specialisations into numba's on-disk cache.

The wheel build runs this (``setup.py``), so that the first kernel call of a
fresh ``pip install`` (ReLU or any built-in activation) loads machine code
from the package's ``__pycache__`` instead of compiling it. numba keys its
cache on the source file's content (from numba 0.68 on), the Python and numba
versions and the CPU, so a copy built on another machine or for another numba
is ignored and compiled once as before. Not covered: the quadrature fallback
of the series activations and ``ReluNTK``'s gradient (``eval_gradient=True``),
compiled on first use. By hand::

    python -m skntk.kernels._precompile
"""

import numpy as np

# one activation per compiled family of the activation engine (its kind is a
# runtime argument within a family)
FAMILIES = ("leaky_relu", "erf", "tanh")
# numba keys its cache on the source's content from 0.68 on; before, on its
# mtime, which pip does not keep: a shipped cache would never be used
MIN_NUMBA = (0, 68)


def numba_keys_on_content():
    """Whether this numba's cache survives pip's copy of the sources."""
    import numba

    return tuple(int(p) for p in numba.__version__.split(".")[:2]) >= MIN_NUMBA


def compiled_functions():
    """The engines' cached numba functions: the ReLU engine's, then one per
    activation family."""
    from . import _engine, _engine_act

    return (_engine.tile_rows, _engine.row_sq_norms, _engine_act._tile_abrelu,
            _engine_act._tile_smooth, _engine_act._tile_series)


def precompile():
    """Compile (or load) the engines for both output precisions: ReLU (also
    for read-only input, e.g. joblib's memory-mapped folds, which numba
    compiles separately), then one activation of each family
    (``FAMILIES``); return numba's cache hits and misses of each compiled
    function."""
    from ._act import ntk_kernel
    from ._relu import relu_kernel

    # the public call paths, so the signatures are those a user's call needs
    X = np.linspace(-1.0, 1.0, 24).reshape(8, 3)
    for dtype in (np.float64, np.float32):
        Xd = X.astype(dtype)
        relu_kernel(Xd)
        Xd.flags.writeable = False
        relu_kernel(Xd)
    for activation in FAMILIES:
        for dtype in (np.float64, np.float32):
            ntk_kernel(X.astype(dtype), activation=activation)
    return {f.__name__: (sum(f.stats.cache_hits.values()),
                         sum(f.stats.cache_misses.values()))
            for f in compiled_functions()}


if __name__ == "__main__":  # pragma: no cover
    if numba_keys_on_content():
        print("skntk: kernel engine compiled into numba's cache (hits, misses): "
              f"{precompile()}")
    else:
        print("skntk: numba < 0.68 keys its cache on file times, which pip does not "
              "keep: the engine compiles on first use")
