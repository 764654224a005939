"""numpy's own BLAS ``syrk``, for the diagonal blocks of a symmetric Gram.

numpy computes ``B @ B.T`` with BLAS ``syrk`` (half the flops of a GEMM),
then copies the triangle it computed onto the other one in a strided loop:
at n = 1000-2000, d = 784 float32 that copy is 10-18% of the product's time
(numpy's matmul against ``syrk`` alone, interleaved: 9.9 against 9.2 ms and
35.8 against 30.0 ms). The engines read only the lower triangle of a
symmetric tile's products, so :func:`syrk_lower` calls ``cblas_?syrk`` of
the OpenBLAS that numpy's wheels bundle (scipy-openblas, 64-bit integers)
directly, through ctypes: the very library, and thread pool, that numpy's
matmul uses (scipy's BLAS is another library with its own threads, which
fought numpy's over the cores when tried). Where numpy was built against
another BLAS (conda's MKL, a system OpenBLAS, Accelerate) the library is not
found, and ``B @ B.T`` computes the block as before.
"""

import ctypes
import glob
import os
import threading

import numpy as np

__all__ = ["numpy_syrk", "syrk_lower"]

# cblas.h
_ROW_MAJOR, _LOWER, _NO_TRANS = 101, 122, 111
_SYMBOLS = {np.dtype(np.float32): ("scipy_cblas_ssyrk64_", ctypes.c_float),
            np.dtype(np.float64): ("scipy_cblas_dsyrk64_", ctypes.c_double)}

_LOCK = threading.Lock()
_FUNCS = None  # {dtype: cblas function}, {} where numpy's BLAS is another one


def _numpy_openblas():
    """Path of the scipy-openblas (ILP64) library inside numpy's install, or
    None: numpy's build configuration must name it, and exactly one file of
    that name must lie in numpy's library folder (``numpy.libs`` on Linux and
    Windows, ``numpy/.dylibs`` on macOS)."""
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
    except (AttributeError, KeyError, TypeError):
        return None
    if blas.get("name") != "scipy-openblas" or "USE64BITINT" not in str(
            blas.get("openblas configuration", "")):
        return None
    here = os.path.dirname(os.path.abspath(np.__file__))
    found = [p for folder in (os.path.join(os.path.dirname(here), "numpy.libs"),
                              os.path.join(here, ".dylibs"))
             for p in glob.glob(os.path.join(folder, "*scipy_openblas64_*"))]
    return found[0] if len(found) == 1 else None


def _load():
    """The cblas ``syrk`` functions of numpy's BLAS, found once per process."""
    global _FUNCS
    with _LOCK:
        if _FUNCS is None:
            funcs = {}
            path = _numpy_openblas()
            try:
                # numpy has loaded this file already: dlopen returns the same
                # library, with the same thread pool
                lib = ctypes.CDLL(path) if path else None
                for dtype, (name, scalar) in _SYMBOLS.items():
                    f = getattr(lib, name) if lib is not None else None
                    if f is not None:
                        f.restype = None
                        f.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int,
                                      ctypes.c_int64, ctypes.c_int64, scalar,
                                      ctypes.c_void_p, ctypes.c_int64, scalar,
                                      ctypes.c_void_p, ctypes.c_int64]
                        funcs[dtype] = f
            except (OSError, AttributeError):
                funcs = {}
            _FUNCS = funcs
        return _FUNCS


def numpy_syrk(dtype):
    """Whether :func:`syrk_lower` calls BLAS ``syrk`` directly for ``dtype``
    (numpy's bundled OpenBLAS was found), rather than numpy's ``B @ B.T``."""
    return np.dtype(dtype) in _load()


def syrk_lower(B, out):
    """Write ``B @ B.T`` into ``out``: its lower triangle and diagonal at
    least (``out``'s strict upper triangle is left as it is, or written too
    where numpy's matmul is used).

    Parameters
    ----------
    B : ndarray of shape (n, k), C-contiguous, float32 or float64
    out : ndarray of shape (n, n), the same dtype, rows contiguous (a block
        of a larger C-contiguous array)

    Examples
    --------
    >>> import numpy as np
    >>> B = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> out = np.zeros((2, 2))
    >>> syrk_lower(B, out)
    >>> np.tril(out)
    array([[ 5.,  0.],
           [11., 25.]])
    """
    n, k = B.shape
    f = _load().get(B.dtype)
    item = B.dtype.itemsize
    if (f is None or n == 0 or k == 0 or out.dtype != B.dtype or out.shape != (n, n)
            or not B.flags.c_contiguous or out.strides[1] != item
            or out.strides[0] % item or out.strides[0] < n * item
            or not out.flags.writeable):
        np.matmul(B, B.T, out=out)
        return
    # (beta = 0: BLAS never reads out; ctypes releases the GIL during the call)
    f(_ROW_MAJOR, _LOWER, _NO_TRANS, n, k, 1.0, B.ctypes.data, k, 0.0, out.ctypes.data,
      out.strides[0] // item)
