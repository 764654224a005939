"""Mirror a symmetric Gram's strict lower triangle onto its upper one.

numpy, not numba: a first kernel call compiles nothing for it, and blocked
numpy copies (which release the GIL) run as fast as the compiled copy did
(measured at n = 1000-4000). The activation engines write the lower triangle
only, one contiguous row at a time, then :func:`mirror_lower` fills the rest.
The ReLU engine writes the mirror position of each pair itself, in blocks
that keep the mirrored lines in L1 (``_engine.ROW_BLOCK``); done pair by pair
over whole rows, those strided writes had been slower than this pass at
n = 4000.
"""

import numpy as np

from ._threads import parallel_rows

BLOCK = 256
# strictly above the diagonal of a diagonal block
_UPPER = np.triu(np.ones((BLOCK, BLOCK), dtype=bool), 1)
# Below this many entries the copy stays on the calling thread (memory bound:
# threads help only once the matrix leaves the caches).
_SERIAL = 1 << 19


def _block_columns(K, lo, hi):
    """Upper part of block columns ``lo <= b < hi``: the blocks above the
    diagonal one and the diagonal block's upper triangle. Block columns
    write disjoint entries and read only the lower triangle."""
    n = len(K)
    for b in range(lo, hi):
        i0, i1 = b * BLOCK, min(n, (b + 1) * BLOCK)
        if i0:
            K[:i0, i0:i1] = K[i0:i1, :i0].T
        d = K[i0:i1, i0:i1]
        h = i1 - i0
        np.copyto(d, d.T, where=_UPPER[:h, :h])


def mirror_lower(K):
    """Copy the strict lower triangle of the square C-contiguous ``K`` onto
    its upper triangle, in place (the diagonal is left as it is).

    Examples
    --------
    >>> import numpy as np
    >>> K = np.array([[1.0, 0.0], [2.0, 3.0]])
    >>> mirror_lower(K)
    >>> K
    array([[1., 2.],
           [2., 3.]])
    """
    nb = -(-len(K) // BLOCK)
    # block column b holds about (b + 1) BLOCK^2 entries: the triangle's weights
    parallel_rows(lambda lo, hi: _block_columns(K, lo, hi), nb, K.size, _SERIAL,
                  offset=0)
