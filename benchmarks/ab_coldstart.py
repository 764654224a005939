"""First calls in a fresh environment, checkouts interleaved.

    git worktree add --detach /tmp/old <commit>
    python benchmarks/ab_coldstart.py /tmp/old . [--what relu,erf,tanh,fit] [--rounds 4]

Each measurement is a new Python process with an empty ``NUMBA_CACHE_DIR``,
run from the checkout's folder (so ``import skntk`` is that checkout's); the
checkouts alternate within each round, so a phase of the machine (this one's
speed moves by 20-30% from one hour to the next) hits both alike. Measured
with it: the stop-28 cold-start table of ``benchmarks/RESULTS.md``.

Kinds (``--what``), each timed from after ``import numpy, skntk`` (the numba
import and its first-compile set-up included, as ``bench_coldstart.py``
measures it):

- ``relu``: ``relu_kernel`` of 100 x 20 standard normal rows, depth 3;
- ``erf``, ``leaky``, ``tanh``: ``ntk_kernel`` of 100 load_digits rows (divided
  by 16 for tanh: standardised inputs, no quadrature), depth 3 (2 for tanh);
- ``fit``: ``NTKClassifier().fit`` on load_digits.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, time
import numpy as np
import skntk
what = sys.argv[1]
if what != "relu":
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
t = time.perf_counter()
if what == "relu":
    skntk.relu_kernel(np.random.default_rng(0).standard_normal((100, 20)), depth=3)
elif what == "erf":
    skntk.ntk_kernel(X[:100], activation="erf", depth=3)
elif what == "leaky":
    skntk.ntk_kernel(X[:100], activation="leaky_relu", negative_slope=0.1, depth=3)
elif what == "tanh":
    skntk.ntk_kernel(X[:100] / 16, activation="tanh", depth=2)
elif what == "fit":
    skntk.NTKClassifier().fit(X, y)
print(json.dumps(time.perf_counter() - t))
"""


def first_call(tree, what):
    """Seconds of the first ``what`` call in a new process, empty numba cache."""
    with tempfile.TemporaryDirectory(prefix="skntk-numba-") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        env.pop("PYTHONPATH", None)
        out = subprocess.run([sys.executable, "-c", CHILD, what], env=env, cwd=tree,
                             check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="+", help="checkouts (folders holding skntk/)")
    parser.add_argument("--what", default="relu",
                        help="comma-separated: relu, erf, leaky, tanh, fit")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args(argv)
    trees = [os.path.abspath(t) for t in args.trees]
    for t in trees:
        if not os.path.isdir(os.path.join(t, "skntk")):
            parser.error(f"{t} holds no skntk/ package")
    times = {(t, w): [] for t in trees for w in args.what.split(",")}
    for r in range(args.rounds):
        for w in args.what.split(","):
            for t in trees:
                times[t, w].append(first_call(t, w))
                print(f"round {r + 1}: {w:<6} {t}: {times[t, w][-1]:.2f} s", flush=True)
    print(f"\n{'first call':<8} {'checkout':<40} {'min':>6} {'median':>7} {'max':>6}")
    for (t, w), ts in times.items():
        ts = sorted(ts)
        print(f"{w:<8} {t[-40:]:<40} {ts[0]:>6.2f} {ts[len(ts) // 2]:>7.2f} {ts[-1]:>6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
