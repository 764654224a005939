"""scikit-learn's own estimator checks on every public skntk estimator.

The instances (several per class: a precomputed kernel, each solver, fast but
honest training settings) and their expected failures are in
``tests/_instances.py``; expected failures are strict (``xfail_strict``).
"""

import inspect

from _instances import all_instances, expected_failed_checks
from sklearn.base import BaseEstimator
from sklearn.utils.estimator_checks import parametrize_with_checks

import skntk


def _public_estimator_classes():
    classes = []
    for name in skntk.__all__:
        obj = getattr(skntk, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            classes.append(obj)
    return classes


def test_every_public_estimator_is_checked():
    checked = {type(est) for est in all_instances()}
    missing = [cls.__name__ for cls in _public_estimator_classes() if cls not in checked]
    assert not missing, f"public estimators without common checks: {missing}"
    assert len(checked) >= 7


@parametrize_with_checks(all_instances(), expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
