"""Run every skntk benchmark and print one table of ratios to baselines.

Run from the repository root::

    python benchmarks/run.py [--quick] [--check]
                             [--only kernel ridge empirical mlp coldstart activations drift]
                             [--json benchmarks-results.json]

Every benchmark times skntk and its baselines (numpy GEMM, scipy's Cholesky,
KernelRidge on a precomputed Gram, the seeds' loops, a hand-written torch
loop, ``np.copyto`` into an array of the output's size, ...) in this same
process, so the ratios are comparable on a shared or noisy machine even when
the seconds are not. Each script's own detailed output is printed first; the
summary table comes last and is written as JSON. The 60,000-image
Fashion-MNIST run is separate (``fashion_mnist_full.py``).

``--check`` makes the run a regression check: every row with a target that
misses it is measured a second time (its benchmark script is run again), and
the command exits with status 1, printing the rows that missed twice in a row,
when there are any. The machine is noisy: one miss is not a regression, two
consecutive ones are. Run it before committing a change to a hot path (it is
not a CI test: timings on shared CI machines are not reliable).
"""

import argparse
import importlib
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))

import _results  # noqa: E402

BENCHMARKS = {  # name -> (module, argv for --quick, argv for the full run)
    "kernel": ("bench_kernel", ["--quick"], []),
    "ridge": ("bench_ridge", ["--quick"], []),
    "empirical": ("bench_empirical", ["--rows", "16", "--gram-rows", "300",
                                      "--repeat", "2", "--quick-transform"], []),
    "mlp": ("bench_mlp", ["--quick"], []),
    "coldstart": ("bench_coldstart", [], []),
    "activations": ("bench_activations", ["--n", "1000", "--repeat", "1"], []),
    "drift": ("bench_drift", ["--quick", "--repeat", "3"], []),
}


def run_benchmark(name, quick):
    """Run one benchmark script's ``main``; return the rows it recorded."""
    module_name, quick_argv, full_argv = BENCHMARKS[name]
    argv = quick_argv if quick else full_argv
    print(f"\n#### {name} ({module_name}.py {' '.join(argv)})", flush=True)
    module = importlib.import_module(module_name)
    start = len(_results.ROWS)
    module.main(list(argv))
    return _results.ROWS[start:]


def _key(row):
    return row["benchmark"], row["case"], row["baseline"]


def check_rows(first, run_again):
    """The rows that missed their target in ``first`` and again in the
    re-measurement: ``run_again(names)`` re-runs the benchmarks of the given
    names and returns their new rows. Returns ``(failed, remeasured)``: the
    pairs (first row, second row) that missed twice, and every re-measured
    pair."""
    missed = {}
    for name, rows in first.items():
        for r in rows:
            if r["met"] is False:
                missed.setdefault(name, []).append(r)
    if not missed:
        return [], []
    second = run_again(list(missed))
    failed, remeasured = [], []
    for name, rows in missed.items():
        again = {_key(r): r for r in second.get(name, [])}
        for r in rows:
            r2 = again.get(_key(r))
            remeasured.append((r, r2))
            # a row the second run did not produce counts as missed again
            if r2 is None or r2["met"] is False:
                failed.append((r, r2))
    return failed, remeasured


def print_table(rows):
    width = max(len(r["case"]) for r in rows)
    bw = max(len(r["baseline"]) for r in rows)
    print(f"| {'benchmark':<9} | {'case':<{width}} | {'baseline':<{bw}} | "
          f"{'ratio':>8} | {'is':<13} | target | met |")
    print(f"|{'-' * 11}|{'-' * (width + 2)}|{'-' * (bw + 2)}|{'-' * 10}|{'-' * 15}|"
          f"--------|-----|")
    for r in rows:
        met = {True: "yes", False: "NO", None: ""}[r["met"]]
        print(f"| {r['benchmark']:<9} | {r['case']:<{width}} | {r['baseline']:<{bw}} | "
              f"{r['ratio']:8.2f} | {r['ratio_is']:<13} | {r['target'] or '':<6} | "
              f"{met:<3} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (minutes)")
    parser.add_argument("--check", action="store_true",
                        help="re-measure every row that misses its target once and "
                             "exit with status 1 if it misses again")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), default=None)
    parser.add_argument("--json", default="benchmarks-results.json",
                        help="where to write the rows (default: %(default)s)")
    args = parser.parse_args(argv)
    import numpy as np

    import skntk

    t_start = time.perf_counter()
    names = args.only or list(BENCHMARKS)
    first = {name: run_benchmark(name, args.quick) for name in names}
    rows = [r for name in names for r in first[name]]
    print("\n#### summary: ratios against baselines timed in this run")
    print_table(rows)

    failed = []
    if args.check:
        def run_again(again):
            print(f"\n#### --check: measuring {', '.join(again)} again (rows that "
                  "missed their target)", flush=True)
            return {name: run_benchmark(name, args.quick) for name in again}

        failed, remeasured = check_rows(first, run_again)
        for r, r2 in remeasured:
            r["remeasured_ratio"] = None if r2 is None else r2["ratio"]
            r["missed_twice"] = any(r is f for f, _ in failed)
    meta = dict(skntk=skntk.__version__, numpy=np.__version__,
                python=platform.python_version(), machine=platform.machine(),
                cpus=os.cpu_count(), quick=args.quick, check=args.check,
                seconds=round(time.perf_counter() - t_start, 1))
    with open(args.json, "w") as f:
        json.dump(dict(meta=meta, rows=rows), f, indent=1)
    print(f"\nwrote {args.json} ({len(rows)} rows, {meta['seconds']} s)")
    if not args.check:
        return 0
    if not failed:
        print("\n--check: every row with a target met it (at the first "
              "measurement or at the second).")
        return 0
    print(f"\n--check: {len(failed)} row(s) missed the target in two consecutive "
          "measurements:")
    for r, r2 in failed:
        again = "not produced" if r2 is None else f"{r2['ratio']:.2f}"
        print(f"  MISSED {r['benchmark']} | {r['case']} | vs {r['baseline']} | "
              f"ratio {r['ratio']:.2f} then {again} ({r['ratio_is']}), "
              f"target {r['target']}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
