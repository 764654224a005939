"""Fashion-MNIST from its raw IDX files (gzip or plain), read by our own reader."""

import gzip
import os
import struct
import zlib
from numbers import Integral
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

__all__ = ["FASHION_MNIST_CLASSES", "load_fashion_mnist"]

#: The ten class names, indexed by label (Zalando's spelling).
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

# Where the Debian/Ubuntu package ``dataset-fashion-mnist`` installs the files.
_DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
# torchvision's layout under a root: ``<root>/FashionMNIST/raw``; ``./data`` is the
# root of torchvision's own examples (and of the TP5 notebook).
_TORCHVISION_SUBDIR = Path("FashionMNIST", "raw")
_TORCHVISION_ROOT = Path("data")

_PREFIX = {"train": "train", "test": "t10k"}
_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
_SHAPE = (28, 28)
_SCALES = ("symmetric", "unit", None)

_HOW_TO_GET = (
    "Get them with the Debian/Ubuntu package: apt-get install dataset-fashion-mnist "
    "(files in /usr/share/datasets/fashion-mnist), or on a connected machine with "
    "torchvision: python -c \"from torchvision.datasets import FashionMNIST; "
    "FashionMNIST('DIR', download=True)\" and pass data_home='DIR' or set "
    "SKNTK_DATA=DIR."
)

_DESCR = """\
Fashion-MNIST
-------------

Zalando's article images: 70,000 grayscale images of 28 x 28 pixels in ten
classes, 60,000 in the training file and 10,000 in the test file, 6,000 and
1,000 per class.

    label  name           label  name
    0      T-shirt/top    5      Sandal
    1      Trouser        6      Shirt
    2      Pullover       7      Sneaker
    3      Dress          8      Bag
    4      Coat           9      Ankle boot

Rows are flattened images (784 pixels, row-major). Read from the raw IDX files
by skntk's own reader; no download.

Reference: Han Xiao, Kashif Rasul, Roland Vollgraf. Fashion-MNIST: a Novel Image
Dataset for Benchmarking Machine Learning Algorithms. arXiv:1708.07747, 2017.
License: MIT.
"""


def _candidate_dirs(data_home):
    """The folders searched, in order, as (folder, where-it-came-from) pairs."""
    dirs = []
    if data_home is not None:
        root = Path(data_home).expanduser()
        dirs += [(root, "data_home"), (root / _TORCHVISION_SUBDIR, "data_home")]
    env = os.environ.get("SKNTK_DATA")
    if env:
        root = Path(env).expanduser()
        dirs += [(root, "SKNTK_DATA"), (root / _TORCHVISION_SUBDIR, "SKNTK_DATA")]
    dirs.append((_DEBIAN_DIR, "Debian package dataset-fashion-mnist"))
    dirs.append((_TORCHVISION_ROOT / _TORCHVISION_SUBDIR, "torchvision root ./data"))
    return dirs


def _find_file(folder, stem):
    """``folder/stem`` (plain) or ``folder/stem.gz``, or None."""
    for name in (stem, stem + ".gz"):
        path = folder / name
        if path.is_file():
            return path
    return None


def _find_files(subset, data_home):
    prefix = _PREFIX[subset]
    stems = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
    looked, partial = [], []
    for folder, origin in _candidate_dirs(data_home):
        images, labels = (_find_file(folder, stem) for stem in stems)
        if images is not None and labels is not None:
            return images, labels
        looked.append(f"{folder} ({origin})")
        if (images is None) != (labels is None):
            partial.append(f"{images or labels} has no matching "
                           f"{stems[1] if labels is None else stems[0]}[.gz]")
    found = f" Found only: {'; '.join(partial)}." if partial else ""
    raise FileNotFoundError(
        f"Fashion-MNIST {subset} files {stems[0]}[.gz] and {stems[1]}[.gz] not found. "
        f"Looked in: {', '.join(looked)}.{found} {_HOW_TO_GET}")


def _read_bytes(path):
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(
            f"{path} is not a readable gzip file ({exc}): the file is truncated or "
            f"corrupt. Delete it and get it again. {_HOW_TO_GET}") from None


def _read_idx(path, magic, ndim):
    """Read one IDX file of unsigned bytes, checking magic number, shape and length."""
    raw = _read_bytes(path)
    what = "image" if ndim == 3 else "label"
    if len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{path} is truncated: {len(raw)} bytes, shorter than the "
                         f"IDX header of a Fashion-MNIST {what} file.")
    (found,) = struct.unpack(">I", raw[:4])
    if found != magic:
        raise ValueError(
            f"{path} has magic number 0x{found:08X}, expected 0x{magic:08X} (IDX, "
            f"unsigned bytes, {ndim} dimension{'s' * (ndim > 1)}): not a Fashion-MNIST "
            f"{what} file.")
    shape = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    offset = 4 + 4 * ndim
    if ndim == 3 and shape[1:] != _SHAPE:
        raise ValueError(f"{path} holds images of {shape[1]} x {shape[2]} pixels; "
                         f"Fashion-MNIST images are 28 x 28.")
    expected = int(np.prod(shape, dtype=np.int64))
    actual = len(raw) - offset
    if actual != expected:
        problem = "is truncated" if actual < expected else "has trailing bytes"
        raise ValueError(
            f"{path} {problem}: its header announces {' x '.join(map(str, shape))} = "
            f"{expected} bytes of data, the file holds {actual}. Delete it and get it "
            f"again.")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def _check_classes(classes):
    """Class labels (sorted ints) from ints or names; None keeps all ten."""
    if classes is None:
        return None
    if isinstance(classes, (str, Integral)):
        classes = [classes]
    lowered = {name.lower(): i for i, name in enumerate(FASHION_MNIST_CLASSES)}
    labels = []
    for c in classes:
        if isinstance(c, str) and c.strip().lower() in lowered:
            labels.append(lowered[c.strip().lower()])
        elif isinstance(c, Integral) and not isinstance(c, bool) and 0 <= c <= 9:
            labels.append(int(c))
        elif isinstance(c, str) and c.strip().isdigit() and int(c) <= 9:
            labels.append(int(c))
        else:
            raise ValueError(
                f"classes: unknown Fashion-MNIST class {c!r}; use labels 0..9 or "
                f"names {', '.join(FASHION_MNIST_CLASSES)}.")
    if len(set(labels)) != len(labels):
        raise ValueError(f"classes: {list(classes)!r} names a class twice.")
    if not labels:
        raise ValueError("classes: empty; pass None to keep all ten classes.")
    return sorted(labels)


def load_fashion_mnist(subset="train", *, classes=None, n_per_class=None,
                       scale="symmetric", data_home=None, return_X_y=False):
    """Load Fashion-MNIST from the raw IDX files, offline.

    The files (``train-images-idx3-ubyte.gz`` and friends, gzip or plain) are
    looked for, in this order, in ``data_home``, in the folder named by the
    ``SKNTK_DATA`` environment variable, in ``/usr/share/datasets/fashion-mnist``
    (the Debian/Ubuntu package ``dataset-fashion-mnist``), and in torchvision's
    ``./data/FashionMNIST/raw``. ``data_home`` and ``SKNTK_DATA`` may also be a
    torchvision root (the files then live in ``FashionMNIST/raw`` below it).
    Nothing is downloaded.

    Parameters
    ----------
    subset : {"train", "test"}, default="train"
        The training file (60,000 images) or the test file (10,000).
    classes : sequence of int or str, default=None
        Keep only these classes, given as labels (0..9) or names (``"Dress"``,
        case-insensitive; see :data:`FASHION_MNIST_CLASSES`). Rows stay in file
        order and labels keep their original values. ``None`` keeps all ten.
    n_per_class : int, default=None
        Keep the first ``n_per_class`` rows of each kept class, in file order
        (the TP5 notebook's selection). ``None`` keeps them all.
    scale : {"symmetric", "unit"} or None, default="symmetric"
        Pixel scaling: ``"symmetric"`` maps 0..255 to [-1, 1] (torchvision's
        ``Normalize((0.5,), (0.5,))`` after ``ToTensor()``, as in the notebook),
        ``"unit"`` to [0, 1]; both return float64. ``None`` returns the raw
        uint8 pixels. The default centres the pixels: unit-scaled images all lie
        in the positive orthant, where the angles that the arc-cosine (NTK)
        kernel sees are all below 90 degrees.
    data_home : str or path-like, default=None
        A folder searched first.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes

        data : ndarray of shape (n_samples, 784)
            Flattened images, float64 (uint8 when ``scale=None``).
        target : ndarray of shape (n_samples,)
            Labels 0..9 (int64).
        images : ndarray of shape (n_samples, 28, 28)
            The same pixels as images (a view of ``data``).
        target_names : ndarray of shape (10,)
            Class names indexed by label: ``target_names[target]`` names each row.
        files : dict
            The two files read (``"images"``, ``"labels"``).
        DESCR : str
            Description of the data set.

    (data, target) : tuple if ``return_X_y`` is True

    Raises
    ------
    FileNotFoundError
        When no searched folder has the files; the message lists the folders
        and how to get the files.
    ValueError
        For a bad argument, or a truncated or corrupt file (the message names
        the file and what is wrong with it).

    Examples
    --------
    >>> from skntk.datasets import load_fashion_mnist
    >>> X, y = load_fashion_mnist("test", classes=["Dress", "Shirt"],
    ...                           n_per_class=100, return_X_y=True)
    >>> X.shape, X.min(), X.max()
    ((200, 784), np.float64(-1.0), np.float64(1.0))
    >>> sorted(set(y.tolist()))
    [3, 6]
    """
    if subset not in _PREFIX:
        raise ValueError(f"subset must be 'train' or 'test', got {subset!r}.")
    if scale not in _SCALES:
        raise ValueError(f"scale must be 'symmetric', 'unit' or None, got {scale!r}.")
    if n_per_class is not None and (
            not isinstance(n_per_class, Integral) or isinstance(n_per_class, bool)
            or n_per_class < 1):
        raise ValueError(f"n_per_class must be a positive int or None, "
                         f"got {n_per_class!r}.")
    labels_kept = _check_classes(classes)

    images_path, labels_path = _find_files(subset, data_home)
    images = _read_idx(images_path, _IMAGES_MAGIC, 3)
    target = _read_idx(labels_path, _LABELS_MAGIC, 1)
    if images.shape[0] != target.shape[0]:
        raise ValueError(f"{images_path} holds {images.shape[0]} images but "
                         f"{labels_path} holds {target.shape[0]} labels.")
    if target.size and target.max() > 9:
        raise ValueError(f"{labels_path} holds label {int(target.max())}; "
                         f"Fashion-MNIST labels are 0..9: the file is corrupt.")

    rows = None
    if labels_kept is not None or n_per_class is not None:
        keep = np.zeros(target.shape[0], dtype=bool)
        for label in (labels_kept if labels_kept is not None else range(10)):
            where = np.flatnonzero(target == label)
            if n_per_class is not None:
                if where.size < n_per_class:
                    raise ValueError(
                        f"n_per_class={n_per_class}: class {label} "
                        f"({FASHION_MNIST_CLASSES[label]}) has only {where.size} rows "
                        f"in the {subset} file.")
                where = where[:n_per_class]
            keep[where] = True
        rows = np.flatnonzero(keep)

    flat = images.reshape(images.shape[0], -1)
    data = flat[rows] if rows is not None else flat.copy()
    target = (target[rows] if rows is not None else target).astype(np.int64)
    if scale == "symmetric":
        data = data / 127.5 - 1.0
    elif scale == "unit":
        data = data / 255.0
    if return_X_y:
        return data, target
    return Bunch(
        data=data, target=target, images=data.reshape(-1, *_SHAPE),
        target_names=np.asarray(FASHION_MNIST_CLASSES),
        files={"images": str(images_path), "labels": str(labels_path)},
        DESCR=_DESCR)
