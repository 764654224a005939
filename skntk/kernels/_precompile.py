"""Compile the kernel engines' specialisations into numba's on-disk cache.

The wheel build runs this (``setup.py``), so that the first kernel call of a
fresh ``pip install`` (ReLU or any built-in activation) loads machine code from the package's ``__pycache__``
instead of compiling it (numba keys its cache on the source file's content,
the Python and numba versions and the CPU, so a copy built on another machine
or for another numba is ignored and compiled once as before). By hand::

    python -m skntk.kernels._precompile
"""

import numpy as np


# one activation per compiled family of the activation engine (its kind is a
# runtime argument within a family)
FAMILIES = ("leaky_relu", "erf", "tanh")


def precompile():
    """Compile (or load) the engines for both output precisions: ReLU, then
    one activation of each family (``FAMILIES``); return numba's cache hits
    and misses of each compiled function."""
    from . import _engine, _engine_act
    from ._act import ntk_kernel
    from ._relu import relu_kernel

    # the public call paths, so the signatures are those a user's call needs
    X = np.linspace(-1.0, 1.0, 24).reshape(8, 3)
    for dtype in (np.float64, np.float32):
        relu_kernel(X.astype(dtype))
    for activation in FAMILIES:
        for dtype in (np.float64, np.float32):
            ntk_kernel(X.astype(dtype), activation=activation)
    return {f.__name__: (sum(f.stats.cache_hits.values()),
                         sum(f.stats.cache_misses.values()))
            for f in (_engine.tile_rows, _engine.row_sq_norms, _engine_act._tile_abrelu,
                      _engine_act._tile_smooth, _engine_act._tile_series)}


if __name__ == "__main__":  # pragma: no cover
    print("skntk: kernel engine compiled into numba's cache (hits, misses): "
          f"{precompile()}")
