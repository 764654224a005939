"""The closed-form forward and backward pass of EmpiricalNTKFeatures' net.

For ``f(x) = s3 u' phi(s2 V phi(s1 W x))`` (``s1 = 1/sqrt(d)``, ``s2 = 1/sqrt(m1)``,
``s3 = 1/sqrt(m2)`` in NTK parameterization, all 1 in standard parameterization),
with ``h1 = phi(a1)``, ``a1 = s1 W x``, ``h2 = phi(a2)``, ``a2 = s2 V h1``::

    df/du = s3 h2
    df/dV = s2 delta2 h1'     delta2 = df/da2 = s3 u * phi'(a2)
    df/dW = s1 delta1 x'      delta1 = df/da1 = s2 (V' delta2) * phi'(a1)

``phi`` and ``phi'`` are ``P["activation"]``, from :meth:`_NumpyOps.activation`
(:func:`skntk.empirical._activation.numpy_pair`) or :meth:`_TorchOps.activation`
(:func:`skntk.utils.activations.torch_pair`); ``phi'(a)`` is an array of the
computation dtype (ReLU: ``(a > 0)`` cast to float).

Rows of a batch are handled together: two GEMMs forward, one back, then each
outer-product block is written once, in place, into the output (large blocks
by torch's multithreaded broadcasting multiply into a view of the output, the
bandwidth floor; small ones by numpy). No temporary of the output's size is
made, and the output is not read back: it is finite when the factors of every
block are finite and the product of their largest magnitudes is (``_fill``
says so; otherwise the caller scans it). The activation enters the backward
pass only through the derivative values ``phi'(a_l)`` of each hidden layer,
float arrays of the computation dtype (ReLU: ``(a > 0)`` cast to float). The
empirical NTK Gram never needs the features::

    Phi Phi' = s1^2 (D1 D1')∘(X X') + s2^2 (D2 D2')∘(H1 H1') + s3^2 H2 H2'.

The same closed forms run on numpy arrays (:class:`_NumpyOps`) and torch tensors
(:class:`_TorchOps`); torch is imported only inside the torch backend's calls.
"""

import math
import sys

import numpy as np

from ..utils.activations import torch_pair
from ._activation import numpy_pair

__all__ = ["_NumpyOps", "_TorchOps", "_backprop", "_backward", "_fill",
           "_gram_factors"]


# Outer-product blocks are written by torch's elementwise kernels (vectorised
# over the short last axis, on its intra-op threads) when torch is loaded
# anyway, or the block has at least this many entries; smaller blocks in a
# process without torch by numpy's einsum rather than importing torch for
# them. At (500, 25 x 25), interleaved best of 15, transform with out=: torch
# 1.06 ms, einsum 2.12 ms (np.copyto of the output 0.66-0.86 ms); einsum's
# inner loops are the 25 entries of a row, ~0.8 ns per entry. Both write the
# same products.
_TORCH_OUTER_MIN = 1 << 20


def _torch_outer_(out3, a, b):
    """``out3[i, j, l] = a[i, j] * b[i, l]`` through torch views of the numpy
    arrays (no copy): torch's elementwise kernels run on its intra-op threads."""
    import torch

    try:  # any view of positive strides (a memmap too); else numpy writes
        o = torch.from_numpy(out3)
    except (TypeError, ValueError, RuntimeError):
        return False
    torch.mul(torch.from_numpy(np.ascontiguousarray(a))[:, :, None],
              torch.from_numpy(np.ascontiguousarray(b))[:, None, :], out=o)
    return True


class _NumpyOps:
    activation = staticmethod(numpy_pair)

    @staticmethod
    def as_3d(block, m, k):
        """(b, m*k) column block of a row-major array -> (b, m, k) view (the
        last axis split in two is always a view; reshape costs 1 us against
        20 us for ``as_strided``)."""
        return block.reshape(block.shape[0], m, k)

    @staticmethod
    def outer_(out3, a, b):
        use_torch = "torch" in sys.modules or out3.size >= _TORCH_OUTER_MIN
        if not (use_torch and _torch_outer_(out3, a, b)):
            np.einsum("ik,ij->ijk", b, a, out=out3)  # 10% faster than a, b

    @staticmethod
    def mul_(out, a, b):
        np.multiply(a, b, out=out)

    @staticmethod
    def matmul_(out, a, b):
        np.matmul(a, b, out=out)


def torch_mul(a, b, out):
    import torch

    return torch.mul(a, b, out=out)


class _TorchOps:
    activation = staticmethod(torch_pair)

    @staticmethod
    def as_3d(block, m, k):
        return block.view(block.shape[0], m, k)

    @staticmethod
    def outer_(out3, a, b):
        torch_mul(a[:, :, None], b[:, None, :], out=out3)

    @staticmethod
    def mul_(out, a, b):
        torch_mul(a, b, out=out)

    @staticmethod
    def matmul_(out, a, b):
        out.copy_(a @ b)


def _backprop(Xb, P, ops):
    """Forward and backward pass of a batch of rows (closed form, no autograd).

    Returns the scaled layer inputs ``Xs = s1 X``, ``H1s = s2 H1``, ``H2s = s3 H2``
    and the back-propagated ``D1 = df/da1``, ``D2 = df/da2``; the gradient blocks
    are ``D1 (x) Xs``, ``D2 (x) H1s`` and ``H2s``.
    """
    s1, s2, s3 = P["scales"]
    phi_, dphi = P["activation"]  # phi_ may overwrite its argument: dphi first
    A1 = Xb @ P["W"].T
    if s1 != 1.0:
        A1 *= s1
    dphi1 = dphi(A1)  # phi'(a1), floats of the computation dtype
    H1 = phi_(A1)
    A2 = H1 @ P["V"].T
    if s2 != 1.0:
        A2 *= s2
    dphi2 = dphi(A2)
    H2 = phi_(A2)
    D1, D2 = _backward((dphi1, dphi2), P)
    Xs = Xb * s1 if s1 != 1.0 else Xb
    H1s = H1 * s2 if s2 != 1.0 else H1
    H2s = H2 * s3 if s3 != 1.0 else H2
    return Xs, D1, H1s, D2, H2s


def _backward(dphi, P):
    """``D1 = df/da1``, ``D2 = df/da2`` from the derivative values
    ``dphi = (phi'(a1), phi'(a2))`` (float arrays of the computation dtype, the
    only activation-dependent input of the backward pass and of the writes)."""
    dphi1, dphi2 = dphi
    D2 = dphi2 * P["u_s3"]
    D1 = D2 @ P["V"]
    if P["scales"][1] != 1.0:
        D1 *= P["scales"][1]
    D1 *= dphi1
    return D1, D2


_DOT_MAX = 8192
_FMAX = {4: float(np.finfo(np.float32).max), 8: float(np.finfo(np.float64).max)}


def _largest(f):
    """``max |f|`` (NaN if ``f`` has a NaN), without a temporary ``|f|``."""
    return max(float(f.max()), -float(f.min())) if f.shape[0] * f.shape[1] else 0.0


def _bounded(*factors):
    """True when every entry of the product of ``factors`` (elementwise or
    outer) is provably finite: each factor finite and the product of their
    largest magnitudes below the dtype's largest value.

    For small C-contiguous numpy factors the root of the sum of squares (one
    BLAS dot, 3 us against 8-10 us for max and min, kept below OpenBLAS's
    threading threshold of 10000 entries: a second thread stalls on a busy
    machine) bounds ``max |f|`` first; only when that bound is not finite or
    too large are the exact maxima taken, so the answer is the exact test's."""
    f0 = factors[0]
    if isinstance(f0, np.ndarray):
        fmax = _FMAX[f0.itemsize]
        bound = 1.0
        for f in factors:
            if f.size > _DOT_MAX or not f.flags.c_contiguous:
                break
            # a sum of squares is >= fl(max f^2) in any order of summation
            bound *= math.sqrt(float(np.vdot(f, f))) * (1 + 1e-6)
        else:
            if bound < fmax:  # False for inf and NaN
                return True
    else:  # torch's torch.float32 / torch.float64
        fmax = _FMAX[4 if str(f0.dtype).endswith("float32") else 8]
    bound = 1.0
    for f in factors:
        m = _largest(f)
        if not math.isfinite(m):
            return False
        bound *= m
    return bound < fmax


def _fill(Xb, out, P, slices, ops):
    """Write the chosen gradient blocks (or sketches) of rows ``Xb`` into ``out``;
    True when the written values are provably finite (see ``_bounded``)."""
    Xs, D1, H1s, D2, H2s = _backprop(Xb, P, ops)
    pairs = {"W": (D1, Xs), "V": (D2, H1s)}
    finite = True
    for name, sl in slices.items():
        block = out[:, sl]
        sketch = P["sketch"].get(name)
        if name == "u":
            if sketch is None:
                block[...] = H2s
                finite = finite and _bounded(H2s)
            else:
                ops.matmul_(block, H2s, sketch[0])
                finite = finite and _bounded(block)
        else:
            a, b = pairs[name]
            if sketch is None:
                ops.outer_(ops.as_3d(block, a.shape[1], b.shape[1]), a, b)
            else:
                a, b = a @ sketch[0], b @ sketch[1]
                ops.mul_(block, a, b)
            finite = finite and _bounded(a, b)
    return finite


def _gram_factors(name, Xs, D1, H1s, D2, H2s):
    """The layer's Gram is (F[0] G[0]')∘(F[1] G[1]') (or F[0] G[0]' for "u")."""
    return {"W": (D1, Xs), "V": (D2, H1s), "u": (H2s,)}[name]
