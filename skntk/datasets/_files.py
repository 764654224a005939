"""A labelled table from a file: ``.npz`` (arrays ``X`` and ``y``) or ``.csv``."""

import csv
from pathlib import Path

import numpy as np

__all__ = ["load_table"]


def load_table(path):
    """Features and labels from a ``.npz`` or ``.csv`` file.

    ``.npz``: the arrays ``X`` and ``y`` (or ``data`` and ``target``); ``X`` must
    be numeric. Any other suffix is read as CSV: numeric feature columns, the
    label in the last column, an optional header row (a first row whose feature
    cells are not all numbers). CSV labels are ints when they all parse as
    ints, else strings.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The features, float64 (a ``.npz`` file's ``X`` keeps its shape; the
        caller checks that it is 2-D).

    y : ndarray of shape (n_samples,)
        The labels.

    Raises
    ------
    OSError
        The file cannot be read.

    ValueError
        The file's contents are not such a table; the message says why.

    Examples
    --------
    >>> import os, tempfile
    >>> from skntk.datasets import load_table
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "points.csv")
    ...     with open(path, "w") as f:
    ...         _ = f.write("x1,x2,label\\n0.5,1,a\\n2,3.5,b\\n")
    ...     X, y = load_table(path)
    >>> X.tolist(), y.tolist()
    ([[0.5, 1.0], [2.0, 3.5]], ['a', 'b'])
    """
    path = Path(path)
    if path.suffix == ".npz":
        return _read_npz(path)
    return _read_csv(path)


def _read_npz(path):
    with np.load(path, allow_pickle=False) as data:
        keys = set(data.files)
        for kx, ky in (("X", "y"), ("data", "target")):
            if {kx, ky} <= keys:
                X, y = data[kx], data[ky]
                break
        else:
            raise ValueError(f"holds arrays {sorted(keys)}; expected 'X' and 'y' "
                             f"(or 'data' and 'target')")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must be numeric, got dtype {X.dtype}")
    return X.astype(np.float64), np.ravel(y)


def _numeric(cells):
    try:
        [float(c) for c in cells]
    except ValueError:
        return False
    return True


def _read_csv(path):
    """Numeric feature columns, the label in the last column, optional header."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    if not rows:
        raise ValueError("is empty")
    if not _numeric(rows[0][:-1]):
        rows = rows[1:]  # a header
    if len(rows) < 2 or len(rows[0]) < 2:
        raise ValueError("needs at least 2 rows and 2 columns (features, then the "
                         "label in the last column)")
    width = len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != width:
            raise ValueError(f"row {i + 1} has {len(r)} fields, the first has {width}")
        if not _numeric(r[:-1]):
            raise ValueError(f"row {i + 1} has a non-numeric feature: {r[:-1]}")
    X = np.array([[float(c) for c in r[:-1]] for r in rows])
    labels = [r[-1].strip() for r in rows]
    try:
        y = np.array([int(v) for v in labels])
    except ValueError:
        y = np.array(labels)
    return X, y
