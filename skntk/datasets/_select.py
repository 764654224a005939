"""Row selection: the first rows of each class, as the TP5 notebook chose them."""

import numpy as np

__all__ = ["first_rows_per_class"]


def first_rows_per_class(y, n):
    """Indices of the first ``n // n_classes`` rows of each class, in row order.

    The selection of the TP5 notebook (the first ``n / 2`` Dresses and the first
    ``n / 2`` Shirts of the training file). The remainder of ``n`` is given to
    the first classes, one row each.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The labels.

    n : int
        How many rows to select in all.

    Returns
    -------
    indices : ndarray of shape (n,)
        Row indices, increasing.

    Raises
    ------
    ValueError
        A class has fewer rows than its share of ``n``.

    Examples
    --------
    >>> from skntk.datasets import first_rows_per_class
    >>> first_rows_per_class([0, 0, 1, 0, 1, 1], 4).tolist()
    [0, 1, 2, 4]
    """
    y = np.asarray(y)
    classes = np.unique(y)
    base, extra = divmod(int(n), len(classes))
    keep = []
    for k, c in enumerate(classes.tolist()):
        where = np.flatnonzero(y == c)
        want = base + (k < extra)
        if where.size < want:
            raise ValueError(f"n={n}: class {c!r} has only {where.size} rows, "
                             f"{want} are needed.")
        keep.append(where[:want])
    return np.sort(np.concatenate(keep))
