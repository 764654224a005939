"""``skntk compare``'s data: digits, fashion-mnist, teacher or a CSV/NPZ file.

The loaders turn the command's arguments into one :class:`_Data`; the files
themselves are read by :func:`skntk.datasets.load_table`.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._errors import EXIT_USAGE, CompareError


@dataclass
class _Data:
    name: str
    X: np.ndarray
    y: np.ndarray
    description: str
    scaler: bool  # put a StandardScaler first in every pipeline
    X_test: np.ndarray = None  # a fixed held-out set (presets) instead of CV
    y_test: np.ndarray = None
    info: dict = field(default_factory=dict)


_DEFAULT_N_TRAIN = {"digits": None, "fashion-mnist": 1000, "teacher": 500}
_QUICK_N_TRAIN = {"digits": 500, "fashion-mnist": 300, "teacher": 300}


def _parse_classes(text):
    if text is None:
        return None
    items = [c.strip() for c in text.split(",") if c.strip()]
    if not items:
        raise CompareError("--classes: give a comma-separated list, e.g. --classes 3,6",
                           EXIT_USAGE)
    return items


def _filter_classes(X, y, classes, dataset):
    if classes is None:
        return X, y
    present = {str(v): v for v in np.unique(y).tolist()}
    missing = [c for c in classes if c not in present]
    if missing:
        raise CompareError(
            f"--classes: {', '.join(missing)} not among the labels of {dataset} "
            f"({', '.join(sorted(present, key=str))})", EXIT_USAGE)
    keep = np.isin(y, [present[c] for c in classes])
    return X[keep], y[keep]


def _subsample(X, y, n, random_state, what):
    """A stratified random subset of n rows (all rows if n is None or larger)."""
    if n is None or n >= len(y):
        return X, y
    from sklearn.model_selection import train_test_split

    try:
        X, _, y, _ = train_test_split(X, y, train_size=n, stratify=y,
                                      random_state=random_state)
    except ValueError as exc:
        raise CompareError(f"--n-train {n}: cannot draw a stratified subset of "
                           f"{what}: {exc}", EXIT_USAGE) from None
    return X, y


def _load_digits(args, n_train):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X, y = _filter_classes(X, y, args.classes, "digits")
    X, y = _subsample(X, y, n_train, args.random_state, "digits")
    return _Data("digits", X, y, "scikit-learn's load_digits (8x8 images, 0..16)",
                 scaler=True)


def _load_fashion(args, n_train):
    from ..datasets import FASHION_MNIST_CLASSES, load_fashion_mnist

    classes = args.classes
    n_classes = 10 if classes is None else len(classes)
    n_per_class = None if n_train is None else max(1, n_train // n_classes)
    try:
        bunch = load_fashion_mnist("train", classes=classes, n_per_class=n_per_class)
    except FileNotFoundError as exc:
        raise CompareError(str(exc)) from None
    except ValueError as exc:
        raise CompareError(f"fashion-mnist: {exc}") from None
    names = [FASHION_MNIST_CLASSES[c] for c in np.unique(bunch.target)]
    return _Data("fashion-mnist", bunch.data, bunch.target,
                 f"Fashion-MNIST training file, first {n_per_class} rows of each of "
                 f"{', '.join(names)}; pixels in [-1, 1]", scaler=False,
                 info={"files": bunch.files})


def _load_teacher(args, n_train):
    from ..datasets import make_teacher_network

    if args.classes is not None:
        raise CompareError("--classes does not apply to --dataset teacher "
                           "(labels -1 and 1)", EXIT_USAGE)
    n = 500 if n_train is None else n_train
    X, y = make_teacher_network(n, threshold="median", random_state=args.random_state)
    return _Data("teacher", X, y, "make_teacher_network: labels of a random "
                 "three-layer ReLU teacher (d=25), x ~ N(0, I), classes balanced",
                 scaler=False)


def _load_file(args, n_train):
    from ..datasets import load_table

    path = Path(args.dataset)
    if not path.is_file():
        raise CompareError(f"--dataset {args.dataset}: no such file")
    try:
        X, y = load_table(path)
    except (OSError, ValueError) as exc:
        raise CompareError(f"--dataset {path}: {exc}") from None
    if X.ndim != 2 or len(X) != len(y):
        raise CompareError(f"--dataset {path}: X must be 2-D with one row per label, "
                           f"got X of shape {X.shape} and {len(y)} labels")
    if not np.all(np.isfinite(X)):
        raise CompareError(f"--dataset {path}: X has NaN or infinite values")
    from sklearn.utils.multiclass import type_of_target

    kind = type_of_target(y)
    if kind not in ("binary", "multiclass"):
        raise CompareError(f"--dataset {path}: the labels must be classes, got "
                           f"{kind} targets (compare is a classification benchmark)")
    X, y = _filter_classes(X, y, args.classes, path.name)
    X, y = _subsample(X, y, n_train, args.random_state, path.name)
    return _Data(path.name, X, y, f"{path} ({X.shape[1]} features)", scaler=True,
                 info={"path": str(path.resolve())})


_DATASETS = {"digits": _load_digits, "fashion-mnist": _load_fashion,
             "teacher": _load_teacher}


def _load_data(args):
    if args.dataset in _DATASETS:
        n_train = args.n_train
        if n_train is None:
            n_train = (_QUICK_N_TRAIN if args.quick else _DEFAULT_N_TRAIN)[args.dataset]
        return _DATASETS[args.dataset](args, n_train)
    if args.dataset.endswith((".npz", ".csv")):
        n_train = args.n_train
        if n_train is None and args.quick:
            n_train = 500
        return _load_file(args, n_train)
    raise CompareError(
        f"--dataset {args.dataset!r}: use digits, fashion-mnist, teacher, or a "
        f"path ending in .npz (arrays X and y) or .csv (label in the last column)",
        EXIT_USAGE)
