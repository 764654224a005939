"""load_table: features and labels from a .npz or .csv file, and its messages."""

import numpy as np
import pytest

from skntk.datasets import load_table


def test_npz_with_either_pair_of_names(tmp_path):
    X = np.arange(6, dtype=np.int32).reshape(3, 2)
    np.savez(tmp_path / "a.npz", X=X, y=[[0], [1], [0]])
    np.savez(tmp_path / "b.npz", data=X, target=[0, 1, 0])
    for name in ("a.npz", "b.npz"):
        got_X, got_y = load_table(tmp_path / name)
        assert got_X.dtype == np.float64
        np.testing.assert_array_equal(got_X, X)
        np.testing.assert_array_equal(got_y, [0, 1, 0])


def test_csv_header_and_labels(tmp_path):
    (tmp_path / "ints.csv").write_text("1,2,3\n4,5,6\n\n7.5,8,9\n")
    X, y = load_table(tmp_path / "ints.csv")  # no header: the first row is data
    np.testing.assert_array_equal(X, [[1, 2], [4, 5], [7.5, 8]])
    assert y.dtype.kind == "i" and y.tolist() == [3, 6, 9]
    (tmp_path / "names.csv").write_text("a,b,label\n1,2, cat\n3,4,dog\n")
    X, y = load_table(tmp_path / "names.csv")
    assert X.shape == (2, 2) and y.tolist() == ["cat", "dog"]


@pytest.mark.parametrize("name, text, match", [
    ("empty.csv", "\n , \n", "is empty"),
    ("one.csv", "x,label\n1,a\n", "needs at least 2 rows and 2 columns"),
    ("ragged.csv", "1,2,a\n3,b\n", "row 2 has 2 fields, the first has 3"),
    ("text.csv", "1,2,a\n3,x,b\n", "row 2 has a non-numeric feature"),
])
def test_bad_csv(tmp_path, name, text, match):
    (tmp_path / name).write_text(text)
    with pytest.raises(ValueError, match=match):
        load_table(tmp_path / name)


def test_bad_npz(tmp_path):
    np.savez(tmp_path / "a.npz", features=np.zeros((4, 2)), labels=np.zeros(4))
    with pytest.raises(ValueError, match=r"holds arrays \['features', 'labels'\]; "
                                         r"expected 'X' and 'y'"):
        load_table(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", X=np.array([["a", "b"]]), y=[0])
    with pytest.raises(ValueError, match="X must be numeric, got dtype <U1"):
        load_table(tmp_path / "b.npz")
    with pytest.raises(OSError):
        load_table(tmp_path / "missing.csv")
