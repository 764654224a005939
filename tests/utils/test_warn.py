"""Every skntk warning points at the user's line, not at skntk's internals.

The stack levels are found by ``skntk.utils.warn.warn`` (the first frame
outside skntk and outside scikit-learn's method decorators), so each case
here checks that the recorded warning's file is this test file.
"""

import os
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

import skntk
from skntk import NTKClassifier, NTKRegressor, TorchMLPRegressor
from skntk.datasets import make_teacher_network
from skntk.utils.warn import warn


def _record(func, category):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        func()
    ours = [w for w in caught if issubclass(w.category, category)]
    assert ours, f"no {category.__name__} raised"
    return ours


def test_warn_from_user_code_points_here():
    (w,) = _record(lambda: warn("direct"), UserWarning)
    assert w.filename == __file__


def test_ridge_jitter_warning_points_at_the_fit_call():
    X = np.ones((5, 3))  # identical rows: the NTK Gram is singular
    y = np.arange(5.0)
    for w in _record(lambda: NTKRegressor(alpha=0.0).fit(X, y), UserWarning):
        assert w.filename == __file__, (w.filename, str(w.message))


def test_classifier_jitter_warning_points_at_the_fit_call():
    X = np.ones((6, 3))
    y = np.array([0, 1, 0, 1, 0, 1])
    for w in _record(lambda: NTKClassifier(alpha=0.0).fit(X, y), UserWarning):
        assert w.filename == __file__, (w.filename, str(w.message))


def test_torch_convergence_warning_points_at_the_fit_call():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    est = TorchMLPRegressor(hidden_layer_sizes=(4,), max_iter=1, random_state=0)
    for w in _record(lambda: est.fit(X, y), ConvergenceWarning):
        assert w.filename == __file__


def test_dataset_warning_points_at_the_call():
    def unbalanced():
        for seed in range(200):
            X, y = make_teacher_network(50, 3, 3, random_state=seed)
            if min(np.mean(y == 1), np.mean(y == -1)) < 0.1:
                return
        pytest.fail("no unbalanced teacher in 200 seeds")

    for w in _record(unbalanced, UserWarning):
        assert w.filename == __file__


def test_warning_inside_a_meta_estimator_points_outside_skntk():
    X = np.ones((6, 3))
    y = np.arange(6.0)
    search = GridSearchCV(NTKRegressor(), {"alpha": [0.0]}, cv=2, error_score="raise")
    package = os.path.dirname(skntk.__file__)
    for w in _record(lambda: search.fit(X, y), UserWarning):
        assert not w.filename.startswith(package), w.filename
