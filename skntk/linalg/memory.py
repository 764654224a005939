"""The memory checks of the solvers: a Gram matrix's estimate checked before
the big allocations, and the wording of the MemoryError that refuses a fit
before it starts swapping. The budget itself (``SKNTK_MAX_MEMORY``) is
:mod:`skntk.utils.memory`'s."""

import numpy as np

from ..utils.memory import available_memory, check_memory, format_bytes

__all__ = ["available_memory", "check_device_memory", "check_gram_memory",
           "check_memory", "format_bytes"]


def check_gram_memory(n, dtype, copies, options):
    """:func:`check_memory` for ``copies`` n x n arrays of ``dtype`` (the Gram
    matrix and the solver's workspace)."""
    dtype = np.dtype(dtype)
    check_memory(copies * n * n * dtype.itemsize,
                 f"The {n} x {n} {dtype.name} Gram matrix"
                 + (f" and the solver's workspace ({copies} such arrays)"
                    if copies > 1 else ""), options)


def check_device_memory(nbytes, free, what, where, options):
    """Raise MemoryError when ``what`` needs more than the ``free`` bytes of
    the device ``where``."""
    if nbytes > free:
        raise MemoryError(
            f"{what} need {nbytes / 2**30:.1f} GiB on {where}, which has "
            f"{free / 2**30:.1f} GiB free. {options}")
