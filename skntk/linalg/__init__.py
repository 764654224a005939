"""Linear algebra of the kernel solvers: pure numpy and scipy.

What lives here: the blocked in-place Cholesky factorisation and triangular
solves for Gram matrices past LAPACK's 32-bit limits (``_blocked.py``), the
FALKON preconditioned conjugate gradient of the Nystrom solver
(``_nystrom.py``), and the memory checks that refuse a fit before it starts
swapping (``_memory.py``).

May import: numpy, scipy and :mod:`skntk.utils`. Never an estimator, a
scikit-learn base class, the kernels' engine or torch: everything here works on
plain arrays, so it can be tested and reused without an estimator.
"""
