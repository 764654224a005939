"""The Fashion-MNIST reader: IDX round trips, broken files, lookup order, real files."""

import gzip
import struct

import numpy as np
import pytest

from skntk.datasets import _fashion_mnist
from skntk.datasets._fashion_mnist import FASHION_MNIST_CLASSES, load_fashion_mnist

DEBIAN = _fashion_mnist._DEBIAN_DIR


def _idx_bytes(array, magic=None):
    array = np.asarray(array, dtype=np.uint8)
    if magic is None:
        magic = 0x00000800 | array.ndim
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def _write(folder, name, payload, compress=True):
    folder.mkdir(parents=True, exist_ok=True)
    if compress:
        path = folder / f"{name}.gz"
        path.write_bytes(gzip.compress(payload))
    else:
        path = folder / name
        path.write_bytes(payload)
    return path


def _fake_set(n=30, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[1, 0, 0] = 0, 255  # both ends of the pixel range
    labels = np.arange(n) % 10
    return images, labels


def _write_set(folder, subset="train", n=30, seed=0, compress=True):
    images, labels = _fake_set(n, seed)
    prefix = {"train": "train", "test": "t10k"}[subset]
    _write(folder, f"{prefix}-images-idx3-ubyte", _idx_bytes(images), compress)
    _write(folder, f"{prefix}-labels-idx1-ubyte", _idx_bytes(labels), compress)
    return images, labels


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No real files anywhere: empty Debian folder, no SKNTK_DATA, a clean cwd."""
    monkeypatch.setattr(_fashion_mnist, "_DEBIAN_DIR", tmp_path / "debian")
    monkeypatch.delenv("SKNTK_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --------------------------------------------------------------------- round trip
@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("subset", ["train", "test"])
def test_round_trip_raw_pixels(isolated, subset, compress):
    images, labels = _write_set(isolated / "fm", subset, compress=compress)
    bunch = load_fashion_mnist(subset, scale=None, data_home=isolated / "fm")
    assert bunch.data.dtype == np.uint8 and bunch.data.flags.writeable
    np.testing.assert_array_equal(bunch.data, images.reshape(len(images), -1))
    np.testing.assert_array_equal(bunch.images, images)
    np.testing.assert_array_equal(bunch.target, labels)
    assert bunch.target.dtype == np.int64
    assert list(bunch.target_names) == list(FASHION_MNIST_CLASSES)
    assert bunch.files["images"].startswith(str(isolated / "fm"))
    assert "Fashion-MNIST" in bunch.DESCR


def test_scales(isolated):
    images, _ = _write_set(isolated)
    flat = images.reshape(len(images), -1).astype(float)
    sym = load_fashion_mnist(data_home=isolated, return_X_y=True)[0]
    unit = load_fashion_mnist(scale="unit", data_home=isolated, return_X_y=True)[0]
    assert sym.dtype == unit.dtype == np.float64
    np.testing.assert_allclose(sym, flat / 127.5 - 1, rtol=0, atol=1e-15)
    np.testing.assert_allclose(unit, flat / 255, rtol=0, atol=1e-15)
    assert (sym.min(), sym.max(), unit.min(), unit.max()) == (-1, 1, 0, 1)


def test_classes_and_n_per_class_keep_file_order(isolated):
    _, labels = _write_set(isolated, n=40)  # labels 0..9 repeated, 4 rows per class
    X, y = load_fashion_mnist(classes=["dress", 6], n_per_class=3, scale=None,
                              data_home=isolated, return_X_y=True)
    expected_rows = [3, 6, 13, 16, 23, 26]  # first 3 of each class, in file order
    np.testing.assert_array_equal(y, labels[expected_rows])
    full = load_fashion_mnist(scale=None, data_home=isolated, return_X_y=True)[0]
    np.testing.assert_array_equal(X, full[expected_rows])
    # n_per_class alone applies to every class
    assert np.bincount(load_fashion_mnist(n_per_class=2, data_home=isolated).target,
                       minlength=10).tolist() == [2] * 10
    # one class by name, given as a plain string
    assert set(load_fashion_mnist(classes="Ankle boot", data_home=isolated)
               .target.tolist()) == {9}


@pytest.mark.parametrize("kwargs, match", [
    ({"subset": "validation"}, "subset must be 'train' or 'test'"),
    ({"scale": "standard"}, "scale must be"),
    ({"n_per_class": 0}, "n_per_class must be a positive int"),
    ({"n_per_class": 2.5}, "n_per_class must be a positive int"),
    ({"classes": ["Dress", "Hat"]}, "classes: unknown Fashion-MNIST class 'Hat'"),
    ({"classes": [3, 10]}, "classes: unknown"),
    ({"classes": [3, "dress"]}, "names a class twice"),
    ({"classes": []}, "classes: empty"),
    ({"n_per_class": 5}, r"n_per_class=5: class 0 \(T-shirt/top\) has only 3 rows"),
])
def test_bad_arguments(isolated, kwargs, match):
    _write_set(isolated)
    with pytest.raises(ValueError, match=match):
        load_fashion_mnist(**{"data_home": isolated, **kwargs})


# --------------------------------------------------------------- broken files
def _break(folder, which, payload, compress=True):
    stem = {"images": "train-images-idx3-ubyte", "labels": "train-labels-idx1-ubyte"}
    return _write(folder, stem[which], payload, compress)


def test_truncated_gzip_stream(isolated):
    _write_set(isolated)
    path = isolated / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ValueError,
                       match="not a readable gzip file.*truncated or corrupt"):
        load_fashion_mnist(data_home=isolated)


def test_not_gzip_at_all(isolated):
    _write_set(isolated)
    (isolated / "train-labels-idx1-ubyte.gz").write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(ValueError,
                       match="train-labels-idx1-ubyte.gz is not a readable"):
        load_fashion_mnist(data_home=isolated)


@pytest.mark.parametrize("compress", [True, False])
def test_truncated_data(isolated, compress):
    images, _ = _write_set(isolated)
    _break(isolated, "images", _idx_bytes(images)[:-7], compress)
    with pytest.raises(ValueError, match=r"is truncated: its header announces "
                                         r"30 x 28 x 28 = 23520 bytes.*holds 23513"):
        load_fashion_mnist(data_home=isolated)


def test_trailing_bytes(isolated):
    _, labels = _write_set(isolated)
    _break(isolated, "labels", _idx_bytes(labels) + b"\0\0")
    with pytest.raises(ValueError, match="has trailing bytes"):
        load_fashion_mnist(data_home=isolated)


def test_shorter_than_header(isolated):
    _write_set(isolated)
    _break(isolated, "images", b"\0\0\x08")
    with pytest.raises(ValueError, match="shorter than the IDX header"):
        load_fashion_mnist(data_home=isolated)


def test_wrong_magic(isolated):
    images, labels = _write_set(isolated)
    # images and labels files swapped: both magic numbers are wrong
    _break(isolated, "images", _idx_bytes(labels))
    with pytest.raises(ValueError,
                       match="magic number 0x00000801, expected 0x00000803"):
        load_fashion_mnist(data_home=isolated)
    _break(isolated, "images", _idx_bytes(images.astype(np.uint8), magic=0x00000C03))
    with pytest.raises(ValueError, match="0x00000C03.*not a Fashion-MNIST image file"):
        load_fashion_mnist(data_home=isolated)


def test_wrong_image_size_and_mismatched_counts(isolated):
    _write_set(isolated)
    _break(isolated, "images", _idx_bytes(np.zeros((30, 32, 32))))
    with pytest.raises(ValueError, match="32 x 32 pixels; Fashion-MNIST images are 28"):
        load_fashion_mnist(data_home=isolated)
    _break(isolated, "images", _idx_bytes(np.zeros((29, 28, 28))))
    with pytest.raises(ValueError, match="holds 29 images but .* holds 30 labels"):
        load_fashion_mnist(data_home=isolated)


def test_label_out_of_range(isolated):
    _write_set(isolated)
    _break(isolated, "labels", _idx_bytes(np.full(30, 12)))
    with pytest.raises(ValueError,
                       match="holds label 12; Fashion-MNIST labels are 0..9"):
        load_fashion_mnist(data_home=isolated)


# ----------------------------------------------------------------- lookup order
def test_lookup_order(isolated, monkeypatch):
    home, env, debian = isolated / "home", isolated / "env", isolated / "debian"
    _write_set(home, seed=1)
    _write_set(env / "FashionMNIST" / "raw", seed=2)  # a torchvision root
    _write_set(debian, seed=3)
    _write_set(isolated / "data" / "FashionMNIST" / "raw", seed=4)  # ./data (cwd)
    monkeypatch.setenv("SKNTK_DATA", str(env))

    def source():
        X = load_fashion_mnist(scale=None, data_home=home, return_X_y=True)[0]
        return next(s for s in (1, 2, 3, 4) if np.array_equal(
            X, _fake_set(seed=s)[0].reshape(30, -1)))

    assert source() == 1  # data_home first
    for path in home.iterdir():
        path.unlink()
    assert source() == 2  # then SKNTK_DATA (here a torchvision root)
    monkeypatch.delenv("SKNTK_DATA")
    assert source() == 3  # then the Debian folder
    for path in debian.iterdir():
        path.unlink()
    assert source() == 4  # then torchvision's ./data/FashionMNIST/raw


def test_plain_file_preferred_over_gzip(isolated):
    _write_set(isolated, seed=1, compress=False)
    _write_set(isolated, seed=2, compress=True)
    X = load_fashion_mnist(scale=None, data_home=isolated, return_X_y=True)[0]
    np.testing.assert_array_equal(X, _fake_set(seed=1)[0].reshape(30, -1))


def test_not_found_says_where_and_how(isolated, monkeypatch):
    monkeypatch.setenv("SKNTK_DATA", str(isolated / "env"))
    _write(isolated / "home", "t10k-images-idx3-ubyte", b"")  # half a pair
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist("test", data_home=isolated / "home")
    msg = str(info.value)
    assert ("t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] not found"
            in msg)
    order = [str(isolated / "home"), str(isolated / "env"), str(isolated / "debian"),
             "data/FashionMNIST/raw"]
    positions = [msg.index(p) for p in order]
    assert positions == sorted(positions)
    assert "(data_home)" in msg and "(SKNTK_DATA)" in msg
    assert "has no matching t10k-labels-idx1-ubyte" in msg
    assert "apt-get install dataset-fashion-mnist" in msg and "torchvision" in msg
    assert "\n" not in msg  # one line, for the command line


# ------------------------------------------------------------ the real files
def test_real_debian_files(monkeypatch):
    """CI installs the Debian package dataset-fashion-mnist (see .ci/run)."""
    monkeypatch.delenv("SKNTK_DATA", raising=False)
    assert (DEBIAN / "train-labels-idx1-ubyte.gz").is_file(), (
        "CI must provide /usr/share/datasets/fashion-mnist (dataset-fashion-mnist)")
    train = load_fashion_mnist("train", scale=None)
    assert train.files["images"].startswith(str(DEBIAN))
    assert train.data.shape == (60000, 784)
    assert train.target.shape == (60000,)
    assert train.target.min() == 0 and train.target.max() == 9
    assert np.bincount(train.target).tolist() == [6000] * 10
    assert train.target[0] == 9
    assert train.target_names[train.target[0]] == "Ankle boot"
    X, y = load_fashion_mnist("test", return_X_y=True)
    assert X.shape == (10000, 784) and np.bincount(y).tolist() == [1000] * 10
    assert X.min() == -1.0 and X.max() == 1.0


def test_real_files_tp5_selection(monkeypatch):
    """The notebook's training set: first 100 Dresses and first 100 Shirts."""
    monkeypatch.delenv("SKNTK_DATA", raising=False)
    y_all = load_fashion_mnist("train", scale=None, return_X_y=True)[1]
    X, y = load_fashion_mnist("train", classes=["Dress", "Shirt"], n_per_class=100,
                              return_X_y=True)
    rows = np.sort(np.concatenate([np.flatnonzero(y_all == 3)[:100],
                                   np.flatnonzero(y_all == 6)[:100]]))
    np.testing.assert_array_equal(y, y_all[rows])
    assert X.shape == (200, 784)
    assert np.bincount(y, minlength=7)[[3, 6]].tolist() == [100, 100]
