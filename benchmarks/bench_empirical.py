"""Benchmark of EmpiricalNTKFeatures (not a test): transform against the floor set by
memory bandwidth, the seed's per-sample loop and torch.func ``vmap(jacrev)``, and the
structured empirical NTK Gram against ``Phi Phi'`` of materialised features.

    python benchmarks/bench_empirical.py            # the table of the notes
    python benchmarks/bench_empirical.py --rows 32  # smaller, less memory
    python benchmarks/bench_empirical.py --threads 1  # on a shared, loaded machine

On a machine whose cores are busy with other work, multithreaded BLAS spins and
can be 20x slower than one thread: compare timings taken with the same ``--threads``.

Times are the best of ``--repeat`` runs (wall clock). The copy floor is
``Phi.copy()`` of an array of the output's size (allocation and page faults
included, as in ``transform``).

The rows of issue 21 time ``transform`` (float64, all layers) against
``np.copyto`` of an array of the output's size into a preallocated one, the two
interleaved, at (n, d, m) = (2000, 25, 25), (2000, 784, 128) and
(500, 784, 512) (m the width of both hidden layers; 0.02, 1.9 and 2.7 GB of
output; three arrays of that size are alive at once). Target <= 2x.
Each size is timed twice: ``transform(X)`` (a new output: its page faults
are included, and on a VM they can cost more than the copy itself) and
``transform(X, out=buf)`` into a preallocated array (the copy's memory
traffic). ``--quick-transform`` divides n by 4.
"""

import argparse
import os
import sys
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch.func import jacrev, vmap

from skntk import EmpiricalNTKFeatures

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _results import record  # noqa: E402


def best_of(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


# ---------------------------------------------------------------- the seed's loops
def relu(A):
    return np.maximum(A, 0)


def drelu(A):
    return (A > 0).astype(float)


def map_to_df_dW(X, u, V, W):  # seed cell 7, samples are columns
    m = X.shape[1]
    out = np.zeros((W.size, m))
    for s in range(m):
        x = X[:, s]
        a = drelu(V @ relu(W @ x))
        b = drelu(W @ x)
        c = np.tensordot(a, b, axes=0) * V
        d = np.squeeze(u.T @ c)
        out[:, s] = np.ndarray.flatten(np.tensordot(d, x, axes=0))
    return out


def map_to_df_dV(X, u, V, W):  # seed cell 8
    m = X.shape[1]
    out = np.zeros((W.size, m))
    for s in range(m):
        x = X[:, s]
        a = drelu(V @ relu(W @ x))
        b = relu(W @ x)
        c = np.squeeze(u) * np.squeeze(a)
        out[:, s] = np.ndarray.flatten(np.tensordot(c, b, axes=0))
    return out


def map_to_df_du(X, u, V, W):  # seed cell 9
    return relu(V @ relu(W @ X))


# ---------------------------------------------------------------- torch.func
def torch_vmap_jacrev(est, X):
    """Per-sample gradients of the same net (NTK parameterization) by torch.func."""
    W, V, u = (torch.as_tensor(p) for p in (est.W_, est.V_, est.u_))
    s1, s2, s3 = (1 / np.sqrt(n) for n in (W.shape[1], V.shape[1], u.shape[0]))

    def f(params, x):
        W, V, u = params
        return s3 * (u @ torch.relu(s2 * (V @ torch.relu(s1 * (W @ x)))))

    def run():
        grads = vmap(jacrev(f), in_dims=(None, 0))((W, V, u), torch.as_tensor(X))
        return torch.cat([g.reshape(X.shape[0], -1) for g in grads], dim=1).numpy()

    return run


TRANSFORM_SIZES = ((2000, 25, 25), (2000, 784, 128), (500, 784, 512))
TRANSFORM_TARGET = 2.0


def bench_transform(repeat, quick):
    """transform against np.copyto into a preallocated array of its output's size:
    into a new array (its page faults included), and into a preallocated ``out``
    (the same memory traffic as the copy)."""
    rng = np.random.default_rng(0)
    print("| (n, d, m) | output GB | transform (ms) | transform out= (ms) "
          "| np.copyto (ms) | ratio | ratio out= |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for n, d, m in TRANSFORM_SIZES:
        n = n // 4 if quick else n
        X = rng.standard_normal((n, d))
        est = EmpiricalNTKFeatures((m, m), random_state=0).fit(X)
        src = est.transform(X)
        dst = np.empty_like(src)
        np.copyto(dst, src)  # fault the destination's pages in once
        est.transform(X, out=dst)
        t_tr, t_out, t_copy = np.inf, np.inf, np.inf
        for _ in range(max(repeat, 3)):
            t0 = time.perf_counter()
            Phi = est.transform(X)
            t_tr = min(t_tr, time.perf_counter() - t0)
            del Phi
            t0 = time.perf_counter()
            est.transform(X, out=dst)
            t_out = min(t_out, time.perf_counter() - t0)
            t0 = time.perf_counter()
            np.copyto(dst, src)
            t_copy = min(t_copy, time.perf_counter() - t0)
        print(f"| ({n}, {d}, {m}) | {src.nbytes / 1e9:.2f} | {1e3 * t_tr:.1f} | "
              f"{1e3 * t_out:.1f} | {1e3 * t_copy:.1f} | {t_tr / t_copy:.2f} | "
              f"{t_out / t_copy:.2f} |")
        record("empirical", f"transform (n,d,m)=({n},{d},{m}) float64", t_tr,
               "np.copyto into preallocated", t_copy,
               target=f"<= {TRANSFORM_TARGET:g}")
        record("empirical", f"transform out= (n,d,m)=({n},{d},{m}) float64", t_out,
               "np.copyto into preallocated", t_copy,
               target=f"<= {TRANSFORM_TARGET:g}")
        del src, dst


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=64,
                        help="rows at d=784, width 512 (5.3 MB of features each)")
    parser.add_argument("--seed-rows", type=int, default=2000,
                        help="rows at the seed's sizes (d = m = 25)")
    parser.add_argument("--gram-rows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick-transform", action="store_true",
                        help="the issue-21 transform rows at n / 4")
    parser.add_argument("--transform-only", action="store_true",
                        help="only the issue-21 transform rows")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and torch threads (default: their own default)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
        with threadpool_limits(limits=args.threads):
            run(args)
    else:
        run(args)


def run(args):
    bench_transform(args.repeat, args.quick_transform)
    if args.transform_only:
        return
    rng = np.random.default_rng(0)
    rows = []

    # ---- d = 784, width 512: the output is the cost
    d, m, n = 784, 512, args.rows
    X = rng.standard_normal((n, d))
    est = EmpiricalNTKFeatures((m, m), random_state=0).fit(X)
    Phi = est.transform(X)
    t_copy = best_of(Phi.copy, args.repeat)
    t_tr = best_of(lambda: est.transform(X), args.repeat)
    t_vmap = best_of(torch_vmap_jacrev(est, X), args.repeat)
    np.testing.assert_allclose(torch_vmap_jacrev(est, X)(), Phi, atol=1e-12)
    gb = Phi.nbytes / 1e9
    rows += [
        (f"copy of the output ({n} x {Phi.shape[1]} float64, {gb:.2f} GB)", t_copy, ""),
        ("transform (all layers)", t_tr,
         f"{t_tr / t_copy:.2f}x the copy; {n / t_tr:,.0f} rows/s, "
         f"{Phi.size / t_tr / 1e6:,.0f} M features/s"),
        ("torch.func vmap(jacrev), same net", t_vmap,
         f"transform is {t_vmap / t_tr:.1f}x faster"),
    ]
    k = 1024
    sk = EmpiricalNTKFeatures((m, m), n_components=k, random_state=0).fit(X)
    t_sk = best_of(lambda: sk.transform(X), args.repeat)
    rows.append((f"transform, sketch n_components={k} per block", t_sk,
                 f"{n / t_sk:,.0f} rows/s, output {sk.n_features_out_} columns"))

    # ---- the structured Gram against Phi Phi'
    t_phiphi = best_of(lambda: est.transform(X) @ est.transform(X).T, args.repeat)
    t_gram = best_of(lambda: est.empirical_ntk(X), args.repeat)
    np.testing.assert_allclose(est.empirical_ntk(X), Phi @ Phi.T, rtol=1e-10)
    rows += [
        (f"Phi Phi' of materialised features (n={n})", t_phiphi, ""),
        (f"empirical_ntk (structured, n={n})", t_gram,
         f"{t_phiphi / t_gram:.0f}x faster than Phi Phi'"),
    ]
    Xg = rng.standard_normal((args.gram_rows, d))
    t_gram_big = best_of(lambda: est.empirical_ntk(Xg), 1)
    rows.append((f"empirical_ntk (structured, n={args.gram_rows})", t_gram_big,
                 f"Phi would be {args.gram_rows * Phi.shape[1] * 8 / 1e9:.1f} GB"))
    del Phi

    # ---- the seed's sizes: d = m = 25, per-sample loops
    d = m = 25
    n = args.seed_rows
    Xs = rng.standard_normal((n, d))
    seed_est = EmpiricalNTKFeatures((m, m), parameterization="standard",
                                    random_state=0).fit(Xs)
    W, V, u = seed_est.W_, seed_est.V_, seed_est.u_[:, None]
    Phi_s = seed_est.transform(Xs)
    ref = np.hstack([map_to_df_dW(Xs.T, u, V, W).T, map_to_df_dV(Xs.T, u, V, W).T,
                     map_to_df_du(Xs.T, u, V, W).T])
    np.testing.assert_allclose(Phi_s, ref, atol=1e-12)
    t_copy_s = best_of(Phi_s.copy, args.repeat)
    t_loop = best_of(lambda: (map_to_df_dW(Xs.T, u, V, W), map_to_df_dV(Xs.T, u, V, W),
                              map_to_df_du(Xs.T, u, V, W)), 1)
    t_tr_s = best_of(lambda: seed_est.transform(Xs), args.repeat)
    rows += [
        (f"seed sizes: copy of the output ({n} x {Phi_s.shape[1]})", t_copy_s,
         f"floor allows {t_loop / t_copy_s:.0f}x over the loop"),
        ("seed sizes: the seed's per-sample loops (cells 7-9)", t_loop, ""),
        ("seed sizes: transform", t_tr_s,
         f"{t_loop / t_tr_s:.0f}x faster than the loop; "
         f"{t_tr_s / t_copy_s:.2f}x the copy"),
    ]

    record("empirical", "transform d=784 width 512", t_tr, "copy of the output",
           t_copy, target="<= 3")
    record("empirical", "transform d=784 width 512 (speedup)", t_tr,
           "torch.func vmap(jacrev)", t_vmap, target=">= 1", higher_is_better=True)
    record("empirical", f"structured Gram n={args.rows} (speedup)", t_gram,
           "Phi Phi' of features", t_phiphi, target=">= 10", higher_is_better=True)
    record("empirical", "transform at seed sizes (speedup)", t_tr_s,
           "seed per-sample loops", t_loop, target=">= 10", higher_is_better=True)
    width = max(len(r[0]) for r in rows)
    from threadpoolctl import threadpool_info
    blas = [f"{i['internal_api']} {i['num_threads']} threads" for i in threadpool_info()
            if i["user_api"] == "blas"]
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
          f"numpy {np.__version__} ({', '.join(blas)})")
    print(f"| {'what':<{width}} | time (ms) | note |")
    print(f"|{'-' * (width + 2)}|----------:|------|")
    for name, t, note in rows:
        print(f"| {name:<{width}} | {1e3 * t:9.1f} | {note} |")


if __name__ == "__main__":
    main()
