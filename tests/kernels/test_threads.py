"""The engines' threads (``skntk.kernels._threads``): row ranges that cover the
rows once with equal work, errors that reach the caller, and kernels whose
bits do not depend on the number of threads (one compiled function serves
every range)."""

import threading

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skntk import NTK, ReluNTK, ntk_kernel, relu_kernel
from skntk.kernels import _threads

needs_fork = pytest.mark.skipif(not hasattr(__import__("os"), "fork"),
                                reason="no fork on this platform")


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 5000), parts=st.integers(1, 64),
       offset=st.one_of(st.none(), st.integers(0, 10**6)))
def test_bounds_cover_the_rows_once_with_equal_work(n, parts, offset):
    b = _threads.bounds(n, parts, offset)
    assert b[0] == 0 and b[-1] == n
    assert all(lo < hi for lo, hi in zip(b[:-1], b[1:]))  # no empty range
    assert len(b) - 1 <= min(parts, n)
    # work of row r: 1 (equal rows) or offset + r + 1 (a triangle's rows)
    w = np.ones(n) if offset is None else np.arange(offset, offset + n) + 1.0
    per = [w[lo:hi].sum() for lo, hi in zip(b[:-1], b[1:])]
    # every range within one row's work of the equal share
    share = w.sum() / min(parts, n)
    assert max(per) <= share + w.max() + 1e-9 * w.sum()


def test_bounds_of_a_triangle_give_the_short_rows_longer_ranges():
    b = _threads.bounds(1000, 2, offset=0)
    # the first k rows hold k (k + 1) / 2 of the 1000 * 1001 / 2 pairs: half
    # of them at k (k + 1) = 500500, k = 706.9 (closed form, not our code)
    k = (np.sqrt(1 + 4 * 500500) - 1) / 2
    assert len(b) == 3 and abs(b[1] - k) < 1


@pytest.mark.parametrize("workers", [1, 2, 3, 8])
def test_run_ranges_runs_every_range_once(workers):
    hits = np.zeros(1000, np.int64)
    seen = set()
    lock = threading.Lock()

    def call(lo, hi):
        hits[lo:hi] += 1
        with lock:
            seen.add(threading.get_ident())

    _threads.run_ranges(call, _threads.bounds(1000, 16), workers)
    np.testing.assert_array_equal(hits, 1)
    assert 1 <= len(seen) <= workers


def test_an_error_in_a_range_reaches_the_caller():
    def call(lo, hi):
        if lo <= 500 < hi:
            raise ValueError("range 500")

    with pytest.raises(ValueError, match="range 500"):
        _threads.run_ranges(call, _threads.bounds(1000, 8), 2)


def test_after_an_error_no_range_is_started():
    started = []

    def call(lo, hi):
        started.append(lo)
        if lo == 0:
            raise KeyError("first range")

    with pytest.raises(KeyError, match="first range"):
        _threads.run_ranges(call, list(range(0, 101)), 1)
    assert started == [0]  # one thread: it stops at its error
    started.clear()
    with pytest.raises(KeyError):
        _threads.run_ranges(call, list(range(0, 101)), 2)
    # the other thread finishes the range it holds, then takes no more
    assert 0 in started and len(started) <= 3


def test_without_helpers_the_caller_runs_every_range(monkeypatch):
    """At interpreter shutdown the executor refuses new work: the calling
    thread then does it all."""
    class Refusing:
        def submit(self, fn):
            raise RuntimeError("cannot schedule new futures after interpreter shutdown")

    monkeypatch.setattr(_threads, "_pool", lambda: Refusing())
    hits = np.zeros(100, np.int64)
    _threads.run_ranges(lambda lo, hi: hits.__setitem__(slice(lo, hi), hits[lo:hi] + 1),
                        _threads.bounds(100, 8), 2)
    np.testing.assert_array_equal(hits, 1)


def _gram_in_child(queue):
    X = np.random.default_rng(6).standard_normal((700, 9))
    queue.put(relu_kernel(X, depth=2)[[0, 699], [1, 3]].tolist())


@needs_fork
def test_a_forked_child_computes_a_threaded_gram():
    """After the parent has used the pool, a child made by fork (whose copy
    of the pool has no threads) computes a threaded Gram instead of waiting
    forever for them."""
    import multiprocessing

    X = np.random.default_rng(6).standard_normal((700, 9))
    expected = relu_kernel(X, depth=2)[[0, 699], [1, 3]].tolist()  # the pool runs
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_gram_in_child, args=(queue,))
    child.start()
    try:
        got = queue.get(timeout=120)
    finally:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
    assert child.exitcode == 0
    assert got == expected


def test_small_work_stays_on_the_calling_thread():
    called = []
    _threads.parallel_rows(lambda lo, hi: called.append((lo, hi, threading.get_ident())),
                           100, work=10, limit=100)
    assert called == [(0, 100, threading.get_ident())]


def _with_threads(k, fn):
    old = numba.get_num_threads()
    numba.set_num_threads(k)
    try:
        return fn()
    finally:
        numba.set_num_threads(old)


needs_two = pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2,
                               reason="one core: nothing to split")


@needs_two
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ["relu", "erf", "tanh"])
def test_kernel_bits_do_not_depend_on_the_threads(dtype, activation):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((700, 12)).astype(dtype)
    X[10] = X[11]  # a duplicated row: the explicit pass
    Y = rng.standard_normal((300, 12)).astype(dtype)
    for args in ((X,), (X, Y)):
        def k():
            return ntk_kernel(*args, activation=activation, depth=2, b_std=0.1,
                              kernel="both")
        one = _with_threads(1, k)
        two = _with_threads(2, k)
        for a, b in zip(one, two):
            np.testing.assert_array_equal(a, b)


@needs_two
def test_kernel_gradient_bits_do_not_depend_on_the_threads():
    X = np.random.default_rng(4).standard_normal((400, 6))
    kern = ReluNTK(depth=2, b_std=0.3)
    K1, dK1 = _with_threads(1, lambda: kern(X, eval_gradient=True))
    K2, dK2 = _with_threads(2, lambda: kern(X, eval_gradient=True))
    np.testing.assert_array_equal(K1, K2)
    np.testing.assert_array_equal(dK1, dK2)
    assert np.all(np.isfinite(dK1))


def test_large_and_small_inputs_share_the_pairs_values():
    """A pair's value is the same whether its Gram went to the threads (700
    rows) or stayed on the calling thread (2 rows). (This also relies on the
    BLAS giving a 2 x 2 and a 700 x 700 GEMM the same dot products, as numpy's
    OpenBLAS does; test_relu_mirror relies on it too.)"""
    X = np.random.default_rng(5).standard_normal((700, 9))
    K = relu_kernel(X, depth=3, b_std=0.2)
    for i, j in [(0, 1), (350, 699), (698, 2)]:
        pair = relu_kernel(X[[i, j]], depth=3, b_std=0.2)
        np.testing.assert_array_equal(K[np.ix_([i, j], [i, j])], pair)
    Ka = NTK(activation="erf", depth=2)(X)
    pair = NTK(activation="erf", depth=2)(X[[5, 600]])
    np.testing.assert_array_equal(Ka[np.ix_([5, 600], [5, 600])], pair)


def test_concurrent_callers_get_their_own_grams():
    """Several user threads computing threaded Grams at once (joblib's
    threading backend, a web server) share the pool: each gets the Gram it
    would get alone, bit for bit."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(7)
    inputs = [rng.standard_normal((600 + 50 * k, 11)) for k in range(4)]
    alone = [ntk_kernel(X, activation=act, depth=2, b_std=0.1)
             for X, act in zip(inputs, ["relu", "erf", "relu", "gelu"])]
    with ThreadPoolExecutor(4) as users:
        together = list(users.map(
            lambda args: ntk_kernel(args[0], activation=args[1], depth=2, b_std=0.1),
            zip(inputs, ["relu", "erf", "relu", "gelu"])))
    for a, b in zip(alone, together):
        np.testing.assert_array_equal(a, b)
