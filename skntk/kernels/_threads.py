"""The engines' parallelism: ranges of rows on a pool of Python threads.

Every compiled function of the engines is compiled once, serial, with
``nogil=True``; a large input is split into contiguous ranges of rows, one
per thread, and the same compiled function runs on each range in parallel
(the GIL is released while it runs). numba's ``parallel=True`` would compile
a second body for every function (a ``prange`` loop with the serial body
inlined and optimised again): 10-15 s per signature in a fresh environment,
on top of the serial one's 2-3 s, for no gain in speed. One compiled
function also means that a pair's value does not depend on whether its input
was large enough to go parallel.

The number of threads is numba's (``NUMBA_NUM_THREADS``,
:func:`numba.set_num_threads`). The calling thread works on the ranges too;
the pool's threads wait on a queue without spinning, so they do not take the
cores from OpenBLAS between tiles. A forked child starts a pool of its own
(the parent's threads do not exist there).
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np

_POOL = None
_POOL_LOCK = threading.Lock()


def n_threads():
    """How many threads the engines use: numba's setting."""
    import numba

    return max(1, int(numba.get_num_threads()))


def _pool():
    """The pool: as many threads as numba may ever use, less the caller
    (created lazily, once per process; its threads start as work arrives)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            import numba

            _POOL = ThreadPoolExecutor(
                max_workers=max(1, numba.config.NUMBA_NUM_THREADS - 1),
                thread_name_prefix="skntk-engine")
        return _POOL


def _forget_pool():  # in a forked child: the parent's threads are not there
    global _POOL, _POOL_LOCK
    _POOL, _POOL_LOCK = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def bounds(n, parts, offset=None):
    """``parts + 1`` increasing row bounds splitting ``range(n)`` into ranges of
    equal work: equal lengths, or (``offset`` given: the rows of a lower
    triangle starting at row ``offset``, row r holding ``offset + r`` pairs,
    weighed ``offset + r + 1`` for its fixed cost) equal numbers of pairs.
    Empty ranges are dropped."""
    parts = max(1, min(parts, n))
    if offset is None:
        b = (np.arange(parts + 1) * n) // parts
    else:
        cum = np.cumsum(np.arange(offset, offset + n, dtype=np.float64) + 1.0)
        b = np.concatenate(([0], np.searchsorted(cum, cum[-1] * np.arange(1, parts) / parts,
                                                 side="right"), [n]))
    return np.unique(b).tolist()


def run_ranges(call, edges, workers):
    """``call(lo, hi)`` for each consecutive pair of ``edges``, on ``workers``
    threads (the calling thread one of them), each taking the next range when
    it is done with one: a thread that the machine slows down takes fewer.
    Returns when every thread is done, re-raising the first error (after
    it, no thread takes another range). Where no helper can be started (the
    interpreter shutting down), the calling thread runs every range."""
    pairs = list(zip(edges[:-1], edges[1:]))
    workers = min(workers, len(pairs))
    if workers <= 1:
        for lo, hi in pairs:
            call(lo, hi)
        return
    todo = iter(pairs)
    take = threading.Lock()
    errors = []

    def work():
        while True:
            with take:
                nxt = None if errors else next(todo, None)
            if nxt is None:
                return
            try:
                call(*nxt)
            except BaseException as e:  # KeyboardInterrupt too: stop the others
                with take:
                    errors.append(e)
                return

    futures = []
    try:
        pool = _pool()
        for _ in range(workers - 1):
            futures.append(pool.submit(work))
    except RuntimeError:  # "cannot schedule new futures after interpreter shutdown"
        pass
    try:
        work()
    finally:
        # a helper that has not started (the pool busy with another caller's
        # ranges) is not waited for: the ranges are all taken
        wait([f for f in futures if not f.cancel()])
    if errors:
        raise errors[0]


# ranges per thread: enough to even out rows of unequal cost and a machine
# that slows one thread down, few enough that each range is a long call
_RANGES_PER_THREAD = 4


def parallel_rows(call, n, work, limit, offset=None):
    """``call(lo, hi)`` over ``range(n)``: on the calling thread when ``work``
    is below ``limit`` (waking threads costs about as much as the work), else
    split by :func:`bounds` over :func:`n_threads` threads."""
    if work < limit or n < 2:
        call(0, n)
        return
    threads = n_threads()
    run_ranges(call, bounds(n, threads * _RANGES_PER_THREAD, offset), threads)
