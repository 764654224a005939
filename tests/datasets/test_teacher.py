"""make_teacher_network and teacher_labels: the seed's teacher, labels, balance
and bad input."""

import warnings

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skntk.datasets import make_teacher_network, teacher_labels


def _relu(A):
    return np.maximum(A, 0)


def test_draws_and_labels_follow_the_documented_recipe():
    X, y, teacher = make_teacher_network(50, n_features=7, hidden=4,
                                         return_teacher=True, threshold="median",
                                         random_state=11)
    # the documented order: W, V, u (variance 1 / fan_in), then X, one stream
    rs = np.random.RandomState(11)
    W = rs.standard_normal((4, 7)) / np.sqrt(7)
    V = rs.standard_normal((4, 4)) / np.sqrt(4)
    u = rs.standard_normal(4) / np.sqrt(4)
    np.testing.assert_array_equal(teacher["W"], W)
    np.testing.assert_array_equal(teacher["V"], V)
    np.testing.assert_array_equal(teacher["u"], u)
    np.testing.assert_array_equal(X, rs.standard_normal((50, 7)))
    score = _relu(_relu(X @ W.T) @ V.T) @ u
    assert teacher["threshold"] == np.median(score)
    np.testing.assert_array_equal(y, np.where(score > np.median(score), 1, -1))
    assert X.shape == (50, 7) and y.shape == (50,)
    assert set(np.unique(y)) == {-1, 1}


def test_teacher_labels_is_the_forward_pass():
    X, y, teacher = make_teacher_network(60, n_features=5, hidden=3,
                                         return_teacher=True, threshold="median",
                                         random_state=4)
    np.testing.assert_array_equal(teacher_labels(X, teacher), y)
    # other weights, u of any shape, no threshold (0), a score of 0 labelled -1
    W, V = teacher["W"], teacher["V"]
    u = teacher["u"].reshape(-1, 1)
    score = _relu(_relu(X @ W.T) @ V.T) @ u[:, 0]
    np.testing.assert_array_equal(teacher_labels(X, {"W": W, "V": V, "u": u}),
                                  np.where(score > 0, 1, -1))
    zeros = np.zeros((2, 5))
    assert teacher_labels(zeros, {"W": W, "V": V, "u": u}).tolist() == [-1, -1]


def test_same_teacher_for_every_n_samples():
    X1, y1 = make_teacher_network(30, random_state=2)
    X2, y2 = make_teacher_network(80, random_state=2)
    np.testing.assert_array_equal(X1, X2[:30])
    np.testing.assert_array_equal(y1, y2[:30])


@pytest.mark.parametrize("seed", range(10))
def test_median_threshold_balances(seed):
    _, y = make_teacher_network(101, threshold="median", random_state=seed)
    assert abs(np.sum(y == 1) - np.sum(y == -1)) <= 1


def test_zero_threshold_never_returns_one_class_silently():
    # seed 54 gives a teacher whose 100 raw signs are all one class
    with pytest.raises(ValueError, match="threshold='median'"):
        make_teacher_network(100, random_state=54)
    _, y = make_teacher_network(100, threshold="median", random_state=54)
    assert np.sum(y == 1) == 50
    # a very unbalanced draw warns; a usual one does not
    with pytest.warns(UserWarning, match="unbalanced"):
        make_teacher_network(1000, random_state=next(
            s for s in range(100) if _minority(s) < 0.1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_teacher_network(1000, random_state=next(
            s for s in range(100) if _minority(s) > 0.3))


def _minority(seed):
    _, _, t = make_teacher_network(1, return_teacher=True, random_state=seed)
    X = np.random.RandomState(seed)
    for shape in (t["W"].shape, t["V"].shape, t["u"].shape):
        X.standard_normal(shape)
    X = X.standard_normal((1000, 25))
    score = _relu(_relu(X @ t["W"].T) @ t["V"].T) @ t["u"]
    return min(np.mean(score > 0), np.mean(score <= 0))


@pytest.mark.parametrize("kwargs", [
    dict(n_samples=0), dict(n_features=0), dict(hidden=2.5),
    dict(threshold="mean"), dict(random_state="a"),
])
def test_bad_parameters(kwargs):
    with pytest.raises(InvalidParameterError, match=next(iter(kwargs))):
        make_teacher_network(**{"n_samples": 10, **kwargs})
