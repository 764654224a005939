"""Benchmark of :func:`skntk.ntk_kernel` for every activation against numpy's GEMM.

Run from the repository root::

    python benchmarks/bench_activations.py [--n 4000] [--d 784] [--repeat 2]

For each activation, the Gram of n rows (standard normal / sqrt(d) * 2, so
that the first-layer variance is about 1 at w_std = sqrt 2), depth 3,
w_std = sqrt 2, b_std = 0.1, float32 output, timed against ``X @ X.T`` of the
same float32 array, alternating GEMM and kernel in this process (best of
``--repeat`` each).
Targets: closed forms (identity, leaky_relu, abs, erf, gelu) within 2x the
GEMM; the series activations (tanh, logistic) within 10x.
"""

import argparse
import os
import sys
import time

import numpy as np

try:
    import _results
except ImportError:  # run on its own
    _results = None
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import skntk  # noqa: E402

CLOSED = ("identity", "leaky_relu", "abs", "erf", "gelu")
SERIES = ("tanh", "logistic")


def _best_pair(f, g, repeat):
    """Best-of-``repeat`` times of f and g, run alternately (f, g, f, g, ...)
    so that a burst of load from other processes hits both alike."""
    best = [np.inf, np.inf]
    for _ in range(repeat):
        for k, h in enumerate((f, g)):
            t = time.perf_counter()
            h()
            best[k] = min(best[k], time.perf_counter() - t)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--d", type=int, default=784)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((args.n, args.d)) * 0.7).astype(np.float32)
    kw = dict(depth=3, w_std=2 ** 0.5, b_std=0.1)
    # compile outside the timings: 64 rows run the engine's serial entry, 256
    # its parallel one (the first timed activation paid for compiling that,
    # 121x the GEMM in one run of run.py)
    for act in CLOSED + SERIES + ("relu",):
        for rows in (64, 256):
            skntk.ntk_kernel(X[:rows], activation=act, **kw)
    print(f"n={args.n} d={args.d} float32 depth=3: time / (X @ X.T)")
    for act in ("relu",) + CLOSED + SERIES:
        gemm, ours = _best_pair(lambda: X @ X.T,
                                lambda: skntk.ntk_kernel(X, activation=act, **kw),
                                args.repeat)
        target = "<= 10" if act in SERIES else "<= 2"
        print(f"  {act:12s} {ours:8.3f} s  gemm {gemm:6.3f} s  ratio {ours / gemm:6.2f}"
              f"  (target {target})", flush=True)
        if _results is not None:
            _results.record("activations", f"ntk_kernel {act} n={args.n} f32 depth 3",
                            ours, "X @ X.T", gemm, target=target)


if __name__ == "__main__":
    main()
