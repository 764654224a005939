"""skntk's non-ReLU kernels beside neural-tangents' (closed forms and
``ElementwiseNumerical``): time against each process's own GEMM, and accuracy.

Run from the repository root, with a second virtualenv holding neural-tangents
(``pip install neural-tangents==0.6.5 --no-deps "jax[cpu]==0.4.30" "numpy<2.1"
scipy frozendict``; see tests/fixtures/README.md)::

    python benchmarks/bench_nt_activations.py --nt-python /path/to/nt-venv/bin/python \\
        [--n 1000] [--d 784] [--depth 3] [--repeat 3] [--deg 25]

The same rows (standard normal / sqrt(d) * 2, float64, a fixed draw) go to
both. Architecture: ``stax.serial(*[Dense(1, W_std=sqrt 2, b_std=0.1), act] *
depth, Dense(1, W_std=sqrt 2, b_std=0.1))``, the NTK, float64 (neural-tangents
with ``jax_enable_x64``). neural-tangents runs in a child process (its own
numpy and jax); each side's time is the best of ``--repeat`` after a warm-up
call (jit compilation excluded), divided by its own process's float64 GEMM
``X @ X.T`` of the same rows, so the ratios compare although the processes do
not share a clock.

Accuracy, relative to ``sqrt(k(x, x) k(y, y))`` (the scale of the entries):
for erf and gelu, neural-tangents' closed form is the reference for both
skntk's closed form and neural-tangents' ``ElementwiseNumerical`` of the same
function; for tanh there is no closed form, and the table gives the largest
difference between skntk's series and ``ElementwiseNumerical`` (skntk's own
accuracy for tanh, <= 3e-13 against nested quadrature checked with 30-digit
mpmath, is tested in ``tests/kernels/test_activation_quadrature.py``).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

W_STD, B_STD = 2 ** 0.5, 0.1


def _best(f, repeat):
    f()  # warm-up: numba / jit compilation
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


def _gemm_time(X, repeat):
    return _best(lambda: X @ X.T, repeat)


def child(args):
    """In the neural-tangents venv: time and save its kernels."""
    import types

    sys.modules.setdefault("neural_tangents.experimental",
                           types.ModuleType("neural_tangents.experimental"))
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import neural_tangents as nt
    from jax.scipy.special import erf
    from neural_tangents import stax

    X = np.load(args.child_in)
    layers = {
        "erf (closed form)": stax.Erf(),
        "gelu (closed form)": stax.Gelu(),
        "erf (ElementwiseNumerical)": stax.ElementwiseNumerical(erf, deg=args.deg),
        "gelu (ElementwiseNumerical)": stax.ElementwiseNumerical(
            lambda x: 0.5 * x * (1 + erf(x / jnp.sqrt(2.0))), deg=args.deg),
        "tanh (ElementwiseNumerical)": stax.ElementwiseNumerical(jnp.tanh,
                                                                 deg=args.deg),
    }
    out, times = {}, {"gemm": _gemm_time(X, args.repeat)}
    for name, act in layers.items():
        dense = stax.Dense(1, W_std=W_STD, b_std=B_STD)
        _, _, kernel_fn = stax.serial(*[dense, act] * args.depth, dense)
        # nt.batch needs a batch size that divides n
        size = max(b for b in range(1, min(args.batch, len(X)) + 1)
                   if len(X) % b == 0)
        fn = nt.batch(kernel_fn, batch_size=size)
        result = {}

        def run():
            result["k"] = np.asarray(fn(X, None, "ntk"))

        times[name] = _best(run, args.repeat)
        out[name] = result["k"]
    np.savez(args.child_out, **out)
    print(json.dumps(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nt-python", help="python of a venv with neural-tangents")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--d", type=int, default=784)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--deg", type=int, default=25,
                        help="ElementwiseNumerical's Gauss-Hermite degree")
    parser.add_argument("--batch", type=int, default=200,
                        help="neural-tangents' nt.batch size (memory)")
    parser.add_argument("--child-in", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_in:
        return child(args)
    if not args.nt_python:
        parser.error("--nt-python is required (a venv with neural-tangents)")
    sys.path.insert(0, os.path.dirname(HERE))
    import skntk

    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.n, args.d)) / np.sqrt(args.d) * 2
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "X.npy"), os.path.join(tmp, "K.npz")
        np.save(src, X)
        proc = subprocess.run(
            [args.nt_python, os.path.abspath(__file__), "--child-in", src,
             "--child-out", dst, "--n", str(args.n), "--depth", str(args.depth),
             "--repeat", str(args.repeat), "--deg", str(args.deg),
             "--batch", str(args.batch)],
            capture_output=True, text=True)
        if proc.returncode:
            sys.exit(f"the neural-tangents child failed:\n{proc.stderr[-3000:]}")
        nt_times = json.loads(proc.stdout.strip().splitlines()[-1])
        with np.load(dst) as f:
            nt_k = {k: f[k] for k in f.files}

    gemm = _gemm_time(X, args.repeat)
    ours = {}
    times = {}
    for act in ("erf", "gelu", "tanh"):
        res = {}

        def run(act=act):
            res["k"] = skntk.ntk_kernel(X, activation=act, depth=args.depth,
                                        w_std=W_STD, b_std=B_STD, dtype=np.float64)

        times[act] = _best(run, args.repeat)
        ours[act] = res["k"]

    def rel(a, ref):
        d = np.sqrt(np.diag(ref))
        return float(np.max(np.abs(a - ref) / np.outer(d, d)))

    print(f"n={args.n}, d={args.d}, depth {args.depth}, W_std=sqrt 2, b_std=0.1, "
          f"float64, best of {args.repeat}; ElementwiseNumerical deg={args.deg}")
    print("| kernel | time / own GEMM | max error vs reference | reference |")
    print("|---|---:|---:|---|")
    for act in ("erf", "gelu"):
        ref = nt_k[f"{act} (closed form)"]
        print(f"| skntk {act} | {times[act] / gemm:.1f} | {rel(ours[act], ref):.1e} "
              f"| neural-tangents {act} closed form |")
        print(f"| neural-tangents {act} (closed form) | "
              f"{nt_times[f'{act} (closed form)'] / nt_times['gemm']:.1f} | - | - |")
        name = f"{act} (ElementwiseNumerical)"
        print(f"| neural-tangents {name} | {nt_times[name] / nt_times['gemm']:.1f} | "
              f"{rel(nt_k[name], ref):.1e} | neural-tangents {act} closed form |")
    name = "tanh (ElementwiseNumerical)"
    print(f"| skntk tanh | {times['tanh'] / gemm:.1f} | (<= 3e-13, tests) | nested "
          f"quadrature + mpmath |")
    print(f"| neural-tangents {name} | {nt_times[name] / nt_times['gemm']:.1f} | "
          f"{rel(nt_k[name], ours['tanh']):.1e} | skntk tanh |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
