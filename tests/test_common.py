"""scikit-learn's own estimator checks on every public skntk estimator.

Estimators are discovered from ``skntk.__all__``; a module may provide
``_check_estimator_instances()`` with the parameter settings to check (several
per class, e.g. a precomputed kernel, or fast but honest training settings).
"""

import importlib
import inspect

import pytest
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


def _instances():
    classes = _public_estimator_classes()
    instances = []
    for module_name in sorted({cls.__module__ for cls in classes}):
        module = importlib.import_module(module_name)
        factory = getattr(module, "_check_estimator_instances", None)
        if factory is not None:
            instances.extend(factory())
        else:
            instances.extend(cls() for cls in classes if cls.__module__ == module_name)
    return instances


def _expected_failed_checks(estimator):
    return getattr(estimator, "_expected_failed_checks", lambda: {})()


def test_every_public_estimator_is_checked():
    checked = {type(est) for est in _instances()}
    missing = [cls.__name__ for cls in _public_estimator_classes() if cls not in checked]
    assert not missing, f"public estimators without common checks: {missing}"
    assert len(checked) >= 4


@parametrize_with_checks(_instances(), expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
