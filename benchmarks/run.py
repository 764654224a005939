"""Run every skntk benchmark and print one table of ratios to baselines.

Run from the repository root::

    python benchmarks/run.py [--quick] [--only kernel ridge empirical mlp]
                             [--json benchmarks-results.json]

Every benchmark times skntk and its baselines (numpy GEMM, scipy's Cholesky,
KernelRidge on a precomputed Gram, the seeds' loops, a hand-written torch
loop, ...) in this same process, so the ratios are comparable on a shared or
noisy machine even when the seconds are not. Each script's own detailed
output is printed first; the summary table comes last and is written as JSON.
The 60,000-image Fashion-MNIST run is separate (``fashion_mnist_full.py``).
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
                                      "--repeat", "2"], []),
    "mlp": ("bench_mlp", ["--quick"], []),
    "activations": ("bench_activations", ["--n", "1000", "--repeat", "1"], []),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (minutes)")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), default=None)
    parser.add_argument("--json", default="benchmarks-results.json",
                        help="where to write the rows (default: %(default)s)")
    args = parser.parse_args(argv)
    import numpy as np

    import skntk

    t_start = time.perf_counter()
    for name in args.only or BENCHMARKS:
        module_name, quick, full = BENCHMARKS[name]
        print(f"\n#### {name} ({module_name}.py {' '.join(quick if args.quick else full)})",
              flush=True)
        module = importlib.import_module(module_name)
        module.main(quick if args.quick else full)

    rows = _results.ROWS
    print("\n#### summary: ratios against baselines timed in this run")
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
    meta = dict(skntk=skntk.__version__, numpy=np.__version__,
                python=platform.python_version(), machine=platform.machine(),
                cpus=os.cpu_count(), quick=args.quick,
                seconds=round(time.perf_counter() - t_start, 1))
    with open(args.json, "w") as f:
        json.dump(dict(meta=meta, rows=rows), f, indent=1)
    print(f"\nwrote {args.json} ({len(rows)} rows, {meta['seconds']} s)")


if __name__ == "__main__":
    main()
