"""One chunker for every loop over rows that must fit a memory budget."""

from sklearn import get_config

__all__ = ["chunk_rows", "row_chunks"]


def chunk_rows(n_rows, row_bytes, working_memory=None, *, min_bytes=0,
               max_fraction=None):
    """How many rows of ``row_bytes`` bytes each one chunk may hold.

    Parameters
    ----------
    n_rows : int
        Rows in all.
    row_bytes : int
        Bytes that one row of the chunk takes (all its temporaries together).
    working_memory : float or None, default=None
        Budget in MiB; ``None`` uses scikit-learn's
        ``get_config()["working_memory"]``.
    min_bytes : int, default=0
        A chunk is at least this large when the budget is the default one (a
        floor below which one big call beats several small ones).
    max_fraction : int or None, default=None
        With the default budget, at most ``1 / max_fraction`` of all rows
        (so that progress is reported a few times).

    Returns
    -------
    rows : int
        Between 1 and ``max(1, n_rows)``.

    Examples
    --------
    >>> chunk_rows(1000, 8 * 100, working_memory=0.5)
    655
    """
    row_bytes = max(1, int(row_bytes))
    if working_memory is None:
        budget = get_config()["working_memory"] * 2**20
        if max_fraction is not None:
            budget = min(budget, n_rows * row_bytes // max_fraction)
        budget = max(min_bytes, budget)
    else:
        budget = working_memory * 2**20
    return int(min(max(1, n_rows), max(1, budget // row_bytes)))


def row_chunks(n_rows, row_bytes, working_memory=None, **kwargs):
    """Consecutive row slices of :func:`chunk_rows` rows each.

    Examples
    --------
    >>> list(row_chunks(5, 2**20, working_memory=2))
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    """
    rows = chunk_rows(n_rows, row_bytes, working_memory, **kwargs)
    for start in range(0, n_rows, rows):
        yield slice(start, min(n_rows, start + rows))
