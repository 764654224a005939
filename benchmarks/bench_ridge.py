"""Benchmark of NTKRegressor / NTKRegressorCV against baselines run alongside it.

Run from the repository root::

    python benchmarks/bench_ridge.py [--quick] [--sizes 1000 5000 10000] [--repeat K]

Data: Fashion-MNIST training images (d = 784, pixels in [-1, 1], regression
on the label) when the raw files are installed, else Gaussian inputs.
Everything runs in one process; every number that matters is a ratio to a
baseline timed in the same process.

Sections and targets
--------------------
1. fit: ``NTKRegressor(alpha).fit`` versus the floor
   ``relu_kernel(X)`` + ``scipy.linalg.cho_factor`` + ``cho_solve`` (target
   <= 1.3x), versus ``KernelRidge(kernel="precomputed")`` given the same
   Gram (Gram time added), and versus the seed notebook's explicit
   ``inv(K) @ y``.
2. predict: ``predict(X_test)`` versus ``relu_kernel(X_test, X) @ dual``.
3. model selection over 10 alphas: ``NTKRegressorCV`` (exact leave-one-out
   from one eigendecomposition) versus ``GridSearchCV(NTKRegressor(), cv=5)``
   (target >= 5x faster).
"""

import argparse
import math
import os
import platform
import sys
import time

import numpy as np
from scipy import linalg

try:
    import skntk
except ImportError:  # not installed: use the checkout this script lives in
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import skntk
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import GridSearchCV

from skntk import NTKRegressor, NTKRegressorCV, relu_kernel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _results import record  # noqa: E402

ALPHA = 1e-2
ALPHAS = np.logspace(-4, 2, 10)
FIT_TARGET = 1.3
CV_TARGET = 5.0
KW = dict(depth=2, w_std=1.0, b_std=0.1)


def best_time(fn, repeat):
    best, out = math.inf, None
    for _ in range(repeat):
        del out
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def load_data(n, n_test):
    try:
        from skntk.datasets import load_fashion_mnist

        X, y = load_fashion_mnist("train", scale="symmetric", return_X_y=True)
        source = "Fashion-MNIST"
    except Exception:  # files not installed: Gaussian inputs
        rng = np.random.default_rng(0)
        X = rng.normal(size=(n + n_test, 784))
        y = np.sign(X[:, 0]) + X[:, 1]
        source = "Gaussian"
    X = np.asarray(X[: n + n_test], dtype=np.float64)
    y = np.asarray(y[: n + n_test], dtype=np.float64)
    return X[:n], y[:n], X[n:], y[n:], source


def floor_fit(X, y):
    K = relu_kernel(X, **KW)
    K.flat[:: len(K) + 1] += ALPHA
    c = linalg.cho_factor(K, lower=True, overwrite_a=True, check_finite=False)
    return linalg.cho_solve(c, y, check_finite=False)


def seed_inv_fit(X, y):
    K = relu_kernel(X, **KW)
    K.flat[:: len(K) + 1] += ALPHA
    return np.linalg.inv(K) @ y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="n in {1000, 2000} and the CV section at n=1000")
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--cv-sizes", type=int, nargs="+", default=None)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    sizes = args.sizes or ([1000, 2000] if args.quick else [1000, 5000, 10000])
    cv_sizes = args.cv_sizes or ([1000] if args.quick else [1000, 2000])
    n_test = 1000
    print(f"skntk {skntk.__version__} | numpy {np.__version__} | "
          f"{platform.processor() or platform.machine()} | {os.cpu_count()} cpus")

    print("\n1-2. fit and predict, d = 784, depth 2, alpha = 1e-2 (seconds, best of "
          f"{args.repeat}; ratios are ours / baseline)")
    head = (f"{'n':>6} {'floor':>7} {'skntk':>7} {'ratio':>6} {'KR+gram':>8} "
            f"{'ratio':>6} {'inv':>7} {'ratio':>6} | {'pred':>6} {'floor':>6} "
            f"{'ratio':>6}")
    print(head)
    worst = 0.0
    for n in sizes:
        X, y, Xt, _, source = load_data(n, n_test)
        t_floor, coef = best_time(lambda: floor_fit(X, y), args.repeat)
        t_ours, reg = best_time(lambda: NTKRegressor(ALPHA, **KW).fit(X, y),
                                args.repeat)
        assert np.allclose(reg.dual_coef_, coef, rtol=1e-6, atol=1e-9)
        t_gram, K = best_time(lambda: relu_kernel(X, **KW), 1)
        t_kr, _ = best_time(
            lambda: KernelRidge(alpha=ALPHA, kernel="precomputed").fit(K, y),
            args.repeat)
        del K
        t_inv, _ = best_time(lambda: seed_inv_fit(X, y), 1)
        t_pred, _ = best_time(lambda: reg.predict(Xt), args.repeat)
        t_pfloor, _ = best_time(lambda: relu_kernel(Xt, X, **KW) @ coef, args.repeat)
        worst = max(worst, t_ours / t_floor)
        record("ridge", f"fit n={n}", t_ours, "gram + cho_factor", t_floor,
               target=f"<= {FIT_TARGET:g}")
        record("ridge", f"fit n={n}", t_ours, "gram + KernelRidge(precomputed)",
               t_gram + t_kr)
        record("ridge", f"fit n={n}", t_ours, "gram + seed's inv(K) @ y", t_inv)
        record("ridge", f"predict n={n}, 1000 test", t_pred,
               "relu_kernel(Xt, X) @ dual", t_pfloor)
        print(f"{n:>6} {t_floor:7.2f} {t_ours:7.2f} {t_ours / t_floor:6.2f} "
              f"{t_gram + t_kr:8.2f} {t_ours / (t_gram + t_kr):6.2f} {t_inv:7.2f} "
              f"{t_ours / t_inv:6.2f} | {t_pred:6.3f} {t_pfloor:6.3f} "
              f"{t_pred / t_pfloor:6.2f}")
    print(f"data: {source}; fit target <= {FIT_TARGET}x the floor: "
          f"{'met' if worst <= FIT_TARGET else 'MISSED'} (worst {worst:.2f}x)")

    print("\n3. choosing alpha among 10 values (seconds)")
    print(f"{'n':>6} {'NTKRegressorCV':>15} {'GridSearchCV(cv=5)':>19} {'speedup':>8}")
    for n in cv_sizes:
        X, y, *_ = load_data(n, 0)
        t_cv, cv = best_time(lambda: NTKRegressorCV(alphas=ALPHAS, **KW).fit(X, y), 1)
        t_gs, gs = best_time(lambda: GridSearchCV(
            NTKRegressor(**KW), {"alpha": ALPHAS}, cv=5,
            scoring="neg_mean_squared_error").fit(X, y), 1)
        record("ridge", f"choose alpha, 10 values, n={n} (speedup)", t_cv,
               "GridSearchCV(cv=5)", t_gs, target=f">= {CV_TARGET:g}",
               higher_is_better=True)
        print(f"{n:>6} {t_cv:15.2f} {t_gs:19.2f} {t_gs / t_cv:8.1f}   "
              f"(alpha_: LOO {cv.alpha_:.3g}, 5-fold {gs.best_params_['alpha']:.3g})")
    print(f"target: NTKRegressorCV >= {CV_TARGET}x faster than GridSearchCV")


if __name__ == "__main__":
    main()
