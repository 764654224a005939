"""Cost of the lazy-training diagnostics (``record_drift=True``) of the nets.

Run from the repository root::

    python benchmarks/bench_drift.py [--quick] [--repeat K] [--threads T]

For each configuration, the same ``TorchMLPClassifier``/``TorchMLPRegressor``
fit (same data, seed, epochs) with ``record_drift=False`` and with
``record_drift=True`` at the default ``drift_probe_size="auto"``, the two fits
alternating in this process, best of ``--repeat``. The ratio is the fit's time
with the diagnostics over its time without. Issue 20's target: at most 20% of
training time at the default probe size (ratio <= 1.2). Off, the diagnostics
cost one ``is None`` per epoch (not measurable here).

The timing is the process's CPU time (``time.process_time``) with torch on
``--threads`` threads (default 1): on a shared machine CPU time is steadier
than wall time, and with one thread the two measure the same work.
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _results import record  # noqa: E402

try:
    import skntk  # noqa: F401
except ImportError:  # not installed: use the checkout this script lives in
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TARGET = 1.2

# (kind, n, d, hidden, outputs, epochs): small data (where the fixed per-epoch
# cost of the probe shows), a deeper net, and an image-sized input
CONFIGS = {
    "n=500 d=64 (256,) clf": ("classifier", 500, 64, (256,), 10, 10),
    "n=2000 d=64 (256,) clf": ("classifier", 2000, 64, (256,), 10, 10),
    "n=2000 d=64 (256,256) clf": ("classifier", 2000, 64, (256, 256), 10, 10),
    "n=4096 d=64 (256,256) clf": ("classifier", 4096, 64, (256, 256), 10, 10),
    "n=5000 d=784 (256,) clf": ("classifier", 5000, 784, (256,), 10, 5),
    "n=1000 d=20 (512,) reg": ("regressor", 1000, 20, (512,), 1, 10),
}
QUICK = ("n=500 d=64 (256,) clf", "n=2000 d=64 (256,256) clf",
         "n=5000 d=784 (256,) clf")


def make(kind, n, d, n_out, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    if kind == "classifier":
        y = rng.integers(0, n_out, n)
    else:
        y = X[:, 0] - 0.5 * X[:, 1] ** 2 + 0.1 * rng.standard_normal(n)
    return X, y


def fit_time(kind, hidden, epochs, X, y, record_drift):
    from skntk import TorchMLPClassifier, TorchMLPRegressor

    Est = TorchMLPClassifier if kind == "classifier" else TorchMLPRegressor
    est = Est(hidden, optimizer="adam", learning_rate_init=1e-3, batch_size=200,
              max_iter=epochs, n_iter_no_change=np.inf, random_state=0,
              record_drift=record_drift)
    t = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
        est.fit(X, y)
    return time.process_time() - t, est


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three configurations")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    names = QUICK if args.quick else tuple(CONFIGS)
    print(f"record_drift=True vs False, fit CPU time, torch threads "
          f"{torch.get_num_threads()}, best of {args.repeat}")
    print(f"| {'configuration':<28} | probe rows | off (s) | on (s) | on/off |")
    print(f"|{'-' * 30}|-----------:|--------:|-------:|-------:|")
    for name in names:
        kind, n, d, hidden, n_out, epochs = CONFIGS[name]
        X, y = make(kind, n, d, n_out)
        fit_time(kind, hidden, 1, X, y, True)  # warm-up (allocator, kernels)
        best = {False: np.inf, True: np.inf}
        probe = None
        for _ in range(args.repeat):
            for on in (False, True):
                t, est = fit_time(kind, hidden, epochs, X, y, on)
                best[on] = min(best[on], t)
                if on:
                    probe = est._drift.probe.shape[0]
        ratio = best[True] / best[False]
        record("drift", f"record_drift fit {name} {epochs} epochs", best[True],
               "the same fit, record_drift=False", best[False],
               target=f"<= {TARGET:g}")
        print(f"| {name:<28} | {probe:>10} | {best[False]:7.3f} | {best[True]:6.3f} "
              f"| {ratio:6.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
