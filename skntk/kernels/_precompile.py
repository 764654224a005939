"""Compile the ReLU engine's specialisations into numba's on-disk cache.

The wheel build runs this (``setup.py``), so that the first kernel call of a
fresh ``pip install`` loads machine code from the package's ``__pycache__``
instead of compiling it (numba keys its cache on the source file's content,
the Python and numba versions and the CPU, so a copy built on another machine
or for another numba is ignored and compiled once as before). By hand::

    python -m skntk.kernels._precompile
"""

import numpy as np


def precompile():
    """Compile (or load) the engine for both output precisions; return
    numba's cache hits and misses of each compiled function."""
    from . import _engine
    from ._relu import relu_kernel

    # the public call path, so the signatures are those a user's call needs
    X = np.linspace(-1.0, 1.0, 24).reshape(8, 3)
    for dtype in (np.float64, np.float32):
        relu_kernel(X.astype(dtype))
    return {f.__name__: (sum(f.stats.cache_hits.values()),
                         sum(f.stats.cache_misses.values()))
            for f in (_engine.tile_rows, _engine.row_sq_norms)}


if __name__ == "__main__":  # pragma: no cover
    print("skntk: kernel engine compiled into numba's cache (hits, misses): "
          f"{precompile()}")
