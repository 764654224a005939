"""Exact NTK classification of all of Fashion-MNIST (60,000 x 10 classes).

Run from the repository root::

    python benchmarks/fashion_mnist_full.py tune [--n-train 6000 --n-val 4000]
    python benchmarks/fashion_mnist_full.py final --depth D --b-std B --rel-alpha A \\
        --preprocess P [--n-train 60000]

``tune`` chooses the preprocessing, depth, b_std and alpha on a split of the
*training* file only (the first n-train images fit, the last n-val images
validate), with one eigendecomposition per kernel so every alpha is cheap.
``final`` fits ``NTKClassifier(dtype="float32")`` (exact Cholesky, or
``--solver nystrom --n-components M``) on the training images and
reports test accuracy (the test file is touched only here), wall time and
peak resident memory.
"""

import argparse
import resource
import sys
import time

import numpy as np
from scipy import linalg

from skntk import NTKClassifier, relu_kernel
from skntk.datasets import load_fashion_mnist


def preprocess(X, how):
    X = np.asarray(X, dtype=np.float64)
    if how == "unit":  # pixels in [0, 1]
        return X
    if how == "center":  # subtract the training mean image
        return X - MEAN
    if how == "center-norm":  # centred, then each image scaled to norm sqrt(d)
        Z = X - MEAN
        return Z * (np.sqrt(Z.shape[1]) / np.linalg.norm(Z, axis=1, keepdims=True))
    if how == "standardize":
        return (X - MEAN) / STD
    raise ValueError(how)


def tune(args):
    X, y = load_fashion_mnist("train", scale="unit", return_X_y=True)
    global MEAN, STD
    Xtr, ytr = X[: args.n_train], y[: args.n_train]
    Xv, yv = X[-args.n_val:], y[-args.n_val:]
    MEAN, STD = Xtr.mean(0), Xtr.std(0) + 0.05
    Y = np.where(ytr[:, None] == np.arange(10), 1.0, -1.0)
    best = (0, None)
    for how in args.preprocess:
        A, B = preprocess(Xtr, how), preprocess(Xv, how)
        for depth in args.depths:
            for b_std in args.b_stds:
                t0 = time.perf_counter()
                K = relu_kernel(A, depth=depth, b_std=b_std)
                Kv = relu_kernel(B, A, depth=depth, b_std=b_std)
                lam, Q = linalg.eigh(K, overwrite_a=True, check_finite=False,
                                     driver="evd")
                scale = np.mean(lam)  # = mean of the Gram's diagonal
                KvQ, QtY = Kv @ Q, Q.T @ Y
                accs = []
                for rel in args.alphas:
                    g = 1.0 / (np.maximum(lam, 0) + rel * scale)
                    acc = np.mean((KvQ @ (g[:, None] * QtY)).argmax(1) == yv)
                    accs.append(acc)
                    if acc > best[0]:
                        best = (acc, dict(preprocess=how, depth=depth, b_std=b_std,
                                          alpha=rel * scale, rel_alpha=rel))
                print(f"{how:>12} depth={depth} b_std={b_std:<4} "
                      + " ".join(f"{r:g}:{a:.4f}" for r, a in zip(args.alphas, accs))
                      + f"  ({time.perf_counter() - t0:.0f} s)", flush=True)
    print("best validation accuracy", best, flush=True)


def final(args):
    global MEAN, STD
    t0 = time.perf_counter()
    X, y = load_fashion_mnist("train", scale="unit", return_X_y=True)
    Xt, yt = load_fashion_mnist("test", scale="unit", return_X_y=True)
    X, y = X[: args.n_train], y[: args.n_train]
    MEAN, STD = X.mean(0), X.std(0) + 0.05
    A = preprocess(X, args.preprocess).astype(np.float32)
    B = preprocess(Xt, args.preprocess).astype(np.float32)
    del X, Xt
    from skntk import relu_kernel_diag

    # alpha is given relative to the mean of the Gram's diagonal, as in `tune`
    alpha = args.rel_alpha * float(np.mean(relu_kernel_diag(A, depth=args.depth,
                                                            b_std=args.b_std)))
    clf = NTKClassifier(alpha=alpha, depth=args.depth, b_std=args.b_std,
                        dtype="float32", verbose=1, solver=args.solver,
                        n_components=args.n_components, random_state=0,
                        device=args.device)
    clf.fit(A, y)
    t_fit = time.perf_counter() - t0
    acc = np.mean(clf.predict(B) == yt)
    t_all = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"n_train={len(y)} depth={args.depth} b_std={args.b_std} alpha={alpha:.4g} "
          f"(= {args.rel_alpha:g} x mean diagonal) solver={args.solver}"
          + (f" n_components={args.n_components} (CG iterations {clf.n_iter_})"
             if args.solver == "nystrom" else "") + " "
          f"preprocess={args.preprocess} dtype=float32 device={args.device} "
          f"jitter={clf.jitter_:.3g}")
    print(f"test accuracy {acc:.4f} | load+fit {t_fit:.0f} s | total {t_all:.0f} s | "
          f"peak RSS {peak:.2f} GiB")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tune")
    t.add_argument("--n-train", type=int, default=6000)
    t.add_argument("--n-val", type=int, default=4000)
    t.add_argument("--preprocess", nargs="+",
                   default=["unit", "center", "center-norm", "standardize"])
    t.add_argument("--depths", type=int, nargs="+", default=[1, 2, 3, 5])
    t.add_argument("--b-stds", type=float, nargs="+", default=[0.0, 0.5])
    t.add_argument("--alphas", type=float, nargs="+",
                   default=[1e-4, 1e-3, 1e-2, 3e-2, 1e-1, 3e-1])
    f = sub.add_parser("final")
    f.add_argument("--n-train", type=int, default=60000)
    f.add_argument("--depth", type=int, required=True)
    f.add_argument("--b-std", type=float, required=True)
    f.add_argument("--rel-alpha", type=float, required=True,
                   help="alpha relative to the mean of the Gram's diagonal")
    f.add_argument("--preprocess", required=True)
    f.add_argument("--solver", default="cholesky", choices=["cholesky", "nystrom"])
    f.add_argument("--n-components", type=int, default=1000,
                   help="Nyström centres (with --solver nystrom)")
    f.add_argument("--device", default=None,
                   help="torch device for the Gram and its factor (e.g. cuda); "
                        "default: skntk's CPU engine")
    args = p.parse_args(argv)
    (tune if args.cmd == "tune" else final)(args)


if __name__ == "__main__":
    sys.exit(main())
