"""Nyström (FALKON) on Dask: Fashion-MNIST expanded with shifted copies (issue 19).

Not a test. Run from the repository root (with ``PYTHONPATH=.`` so that the
workers import this checkout)::

    python benchmarks/fashion_mnist_dask.py scaling --rows 60000 200000 600000 \\
        --n-components 1000 --iters 3
    python benchmarks/fashion_mnist_dask.py fit --rows 600000 --n-components 2000
    python benchmarks/fashion_mnist_dask.py fit --rows 60000 --n-components 2000 --numpy

The expanded training set is the 60,000 training images followed by copies
shifted by up to 2 pixels in each direction (zero padding; the shift of each
row drawn from a generator seeded by its chunk), generated chunk by chunk on
the workers: it is never in memory at once. Pixels in [0, 1], float32; depth 3,
b_std 0, alpha = 0.01 x the mean kernel diagonal (the hyperparameters of
``fashion_mnist_full.py``). The cluster is a ``LocalCluster`` of ``--workers``
worker processes with one thread and ``--memory-limit`` each.

``scaling`` times conjugate gradient iterations of :func:`skntk.linalg.falkon_dask`
(kernel blocks recomputed each iteration; at the smallest size also cached).
``fit`` fits :class:`skntk.NTKClassifier` (``solver="nystrom"``) and reports
test accuracy on the untouched 10,000 test images. Both print the peak resident
memory of each worker process and of the client (``ru_maxrss``).
"""

import argparse
import functools
import logging
import resource
import time

import numpy as np

from skntk import NTKClassifier, relu_kernel_diag
from skntk.datasets import load_fashion_mnist
from skntk.kernels import gram

N_BASE = 60_000
SIDE = 28


def _peak_rss_gib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def shifted_chunk(base, r0, r1, seed=0):
    """Rows r0..r1 of the expanded set: row r is image r % 60000, shifted
    (copy r // 60000 > 0) by up to 2 pixels; float32 in [0, 1]."""
    rows = np.arange(r0, r1)
    img = base[rows % N_BASE].reshape(-1, SIDE, SIDE)
    rng = np.random.default_rng([seed, r0])
    shifts = rng.integers(-2, 3, size=(len(rows), 2))
    shifts[rows < N_BASE] = 0  # the first copy is the original training set
    padded = np.pad(img, ((0, 0), (2, 2), (2, 2)))
    out = np.empty((len(rows), SIDE, SIDE), np.float32)
    for k, (dy, dx) in enumerate(shifts):
        out[k] = padded[k, 2 + dy: 2 + dy + SIDE, 2 + dx: 2 + dx + SIDE]
    return out.reshape(len(rows), -1) / np.float32(255)


def expanded(client, base, labels, n_rows, chunk):
    """(X, y) dask arrays of the first n_rows expanded rows, lazily generated."""
    import dask
    import dask.array as da

    base_f = client.scatter(base, broadcast=True)
    make = dask.delayed(shifted_chunk, pure=True)
    blocks, ys = [], []
    for r0 in range(0, n_rows, chunk):
        r1 = min(n_rows, r0 + chunk)
        blocks.append(da.from_delayed(make(base_f, r0, r1), (r1 - r0, SIDE * SIDE),
                                      dtype=np.float32))
        ys.append(labels[np.arange(r0, r1) % N_BASE])
    y = np.concatenate(ys)
    X = da.concatenate(blocks)
    return X, da.from_array(y, chunks=(X.chunks[0],))


class _MemorySampler:
    """The largest process memory each worker reported to the scheduler
    (its heartbeat metric, sampled every second here): GiB per worker."""

    def __init__(self, client):
        import threading

        self.client, self.peak, self.stop = client, {}, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.wait(1.0):
            try:
                workers = self.client.scheduler_info(n_workers=-1)["workers"]
            except Exception:  # the cluster is closing
                return
            for addr, info in workers.items():
                mem = info.get("metrics", {}).get("memory", 0) / 2**30
                self.peak[addr] = max(self.peak.get(addr, 0.0), mem)

    def report(self):
        return {a.split(":")[-1]: round(v, 2) for a, v in self.peak.items()}


def _worker_peaks(client):
    """ru_maxrss of each worker process (GiB), and the sampled peaks."""
    rss = {w.split(":")[-1]: round(v, 2) for w, v in client.run(_peak_rss_gib).items()}
    return f"ru_maxrss {rss}, sampled {client.sampler.report()}"


def _setup(args):
    base, labels = load_fashion_mnist("train", scale=None, return_X_y=True)
    base = base.astype(np.uint8)
    unit = base.astype(np.float32) / 255
    alpha = 0.01 * float(np.mean(relu_kernel_diag(unit, depth=3)))
    del unit
    return base, labels, alpha


def _cluster(args):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1,
                           memory_limit=args.memory_limit, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster)
    client.sampler = _MemorySampler(client)
    return cluster, client


def scaling(args):
    from skntk.linalg import falkon_dask, take_rows

    base, labels, alpha = _setup(args)
    cluster, client = _cluster(args)
    kernel = functools.partial(gram, depth=3, dtype=np.float32)
    m = args.n_components
    for i, n in enumerate(args.rows):
        X, y = expanded(client, base, labels, n, args.chunk)
        Y = (y[:, None] == np.arange(10)).astype(np.float32) * 2 - 1
        idx = np.sort(np.random.default_rng(0).choice(n, m, replace=False))
        C = take_rows(X, idx)
        for cache in ([False, True] if i == 0 and args.cache_too else [False]):
            stamps = []
            t0 = time.perf_counter()
            _, it = falkon_dask(X, Y, C, alpha, kernel, max_iter=args.iters, tol=1e-30,
                                dtype=np.float32, cache=cache,
                                callback=lambda k: stamps.append(time.perf_counter()))
            per_iter = np.diff([t0] + stamps)  # the first includes rhs (and caching)
            print(f"n={n} m={m} chunk={args.chunk} cache={cache}: {it} iterations, "
                  f"total {time.perf_counter() - t0:.1f} s, per iteration "
                  f"{', '.join(f'{t:.1f}' for t in per_iter)} s "
                  f"(median after the first {np.median(per_iter[1:]):.1f} s); "
                  f"peak RSS GiB workers {_worker_peaks(client)} "
                  f"client {_peak_rss_gib():.2f}", flush=True)
    client.close()
    cluster.close()


def fit(args):
    base, labels, alpha = _setup(args)
    Xt, yt = load_fashion_mnist("test", scale="unit", return_X_y=True)
    Xt = Xt.astype(np.float32)
    clf = NTKClassifier(alpha=alpha, depth=3, dtype="float32", solver="nystrom",
                        n_components=args.n_components, random_state=0, tol=args.tol,
                        verbose=1)
    t0 = time.perf_counter()
    if args.numpy:
        X = np.concatenate([shifted_chunk(base, r0, min(args.rows, r0 + args.chunk))
                            for r0 in range(0, args.rows, args.chunk)])
        clf.fit(X, labels[np.arange(args.rows) % N_BASE])
        where, peaks = "in memory", ""
    else:
        import dask

        cluster, client = _cluster(args)
        X, y = expanded(client, base, labels, args.rows, args.chunk)
        with dask.config.set({"skntk.nystrom-cache": args.cache}):
            clf.fit(X, y)
        where = f"on {args.workers} Dask workers ({args.memory_limit} each)"
    t_fit = time.perf_counter() - t0
    acc = float(np.mean(clf.predict(Xt) == yt))
    if not args.numpy:
        peaks = f" workers {_worker_peaks(client)}"
        client.close()
        cluster.close()
    print(f"n_train={args.rows} m={args.n_components} {where}: test accuracy "
          f"{acc:.4f}, CG iterations {clf.n_iter_}, fit {t_fit:.0f} s, peak RSS GiB"
          f"{peaks} client {_peak_rss_gib():.2f}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("scaling", "fit"):
        p = sub.add_parser(name)
        p.add_argument("--rows", type=int, nargs="+" if name == "scaling" else None,
                       default=[60000] if name == "scaling" else 600000)
        p.add_argument("--n-components", type=int, default=2000)
        p.add_argument("--chunk", type=int, default=10000)
        p.add_argument("--workers", type=int, default=2)
        p.add_argument("--memory-limit", default="4GiB")
    sub.choices["scaling"].add_argument("--iters", type=int, default=3)
    sub.choices["scaling"].add_argument("--cache-too", action="store_true")
    sub.choices["fit"].add_argument("--tol", type=float, default=1e-6)
    sub.choices["fit"].add_argument("--numpy", action="store_true")
    sub.choices["fit"].add_argument("--cache", default="auto",
                                    type=lambda s: {"true": True, "false": False}.get(
                                        s.lower(), s))
    args = parser.parse_args(argv)
    (scaling if args.command == "scaling" else fit)(args)


if __name__ == "__main__":
    main()
