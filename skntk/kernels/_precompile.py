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
    """Compile (or load) the engine for both output precisions; return the
    names of the cached files' folder and the compiled signatures."""
    from . import _engine
    from ._relu import relu_kernel

    # the public call path, so the signatures are those a user's call needs
    X = np.linspace(-1.0, 1.0, 24).reshape(8, 3)
    for dtype in (np.float64, np.float32):
        relu_kernel(X.astype(dtype))
    return _engine.tile_rows.stats, [str(s) for s in _engine.tile_rows.signatures]


if __name__ == "__main__":  # pragma: no cover
    stats, sigs = precompile()
    print(f"skntk: kernel engine compiled for {len(sigs)} signatures "
          f"(cache hits {dict(stats.cache_hits)}, misses {dict(stats.cache_misses)})")
