"""Before/after of issue 21 in one process: an old checkout against this one.

    git worktree add --detach /tmp/old <commit>
    python benchmarks/ab_issue21.py --old /tmp/old [--threads 1] [--repeat 5]

The old checkout's ``skntk`` is copied to a temporary folder as the package
``skntk_old`` (skntk's imports are relative, so both load side by side), and
every timing interleaves old, new and the baseline (the hand-written torch loop;
``np.copyto`` into a preallocated array of the output's size), best of
``--repeat``. Prints the ratios to the baseline.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))


def best(fns, repeat):
    """Best-of-``repeat`` seconds of each callable, the calls interleaved."""
    times = {name: np.inf for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name] = min(times[name], time.perf_counter() - t0)
    return times


def fits(old, new, repeat):
    import bench_mlp as b

    for name, cfg in b.FIT_CONFIGS.items():
        X, y = b.make_data(cfg)

        def fitter(pkg, epochs):
            Est = pkg.TorchMLPRegressor if cfg["kind"] == "regressor" else (
                pkg.TorchMLPClassifier)

            def run():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    Est(cfg["hidden"], optimizer="sgd", learning_rate_init=cfg["lr"],
                        batch_size=cfg["batch"], max_iter=epochs,
                        n_iter_no_change=np.inf, random_state=0).fit(X, y)
            return run

        for epochs in (1, 5):
            fns = {"old": fitter(old, epochs), "new": fitter(new, epochs),
                   "hand": lambda: b.fit_by_hand(cfg, X, y, epochs)}
            for fn in fns.values():
                fn()  # warm up
            t = best(fns, repeat)
            print(f"| {name} n={cfg['n']} | {epochs}-epoch fit | "
                  f"{t['hand']:.4f} s | {t['old'] / t['hand']:.2f}x | "
                  f"{t['new'] / t['hand']:.2f}x |", flush=True)


def transforms(old, new, repeat, quick):
    import bench_empirical as be

    rng = np.random.default_rng(0)
    for n, d, m in be.TRANSFORM_SIZES:
        n = n // 4 if quick else n
        X = rng.standard_normal((n, d))
        eo = old.EmpiricalNTKFeatures((m, m), random_state=0).fit(X)
        en = new.EmpiricalNTKFeatures((m, m), random_state=0).fit(X)
        src = en.transform(X)
        np.testing.assert_array_equal(src, eo.transform(X))
        dst = np.empty_like(src)
        np.copyto(dst, src)
        t = best({"old": lambda: eo.transform(X), "new": lambda: en.transform(X),
                  "copyto": lambda: np.copyto(dst, src)}, repeat)
        print(f"| ({n}, {d}, {m}) | transform | {t['copyto']:.4f} s | "
              f"{t['old'] / t['copyto']:.2f}x | {t['new'] / t['copyto']:.2f}x |",
              flush=True)
        del src, dst


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, help="checkout of the old version")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--only", choices=["fits", "transform"], default=None)
    parser.add_argument("--quick", action="store_true", help="transform rows at n / 4")
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="skntk-old-")
    shutil.copytree(os.path.join(args.old, "skntk"), os.path.join(tmp, "skntk_old"))
    sys.path.insert(0, tmp)
    import torch

    import skntk
    import skntk_old

    if args.threads:
        torch.set_num_threads(args.threads)
        import threadpoolctl

        threadpoolctl.threadpool_limits(args.threads)
    print(f"torch threads {torch.get_num_threads()}, best of {args.repeat}, "
          f"load {os.getloadavg()[0]:.1f}")
    print("| case | what | baseline | old / baseline | new / baseline |")
    print("|---|---|---:|---:|---:|")
    if args.only in (None, "fits"):
        fits(skntk_old, skntk, args.repeat)
    if args.only in (None, "transform"):
        transforms(skntk_old, skntk, args.repeat, args.quick)
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
