"""A pickle from another skntk version warns (scikit-learn's warning class);
one from this version loads silently and predicts the same bits."""

import pickle
import warnings

import numpy as np
import pytest
from _instances import all_instances
from sklearn.base import clone, is_classifier
from sklearn.exceptions import InconsistentVersionWarning

import skntk
from skntk.utils.versions import SkntkVersionWarning

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

RNG = np.random.default_rng(3)
X = RNG.standard_normal((20, 4))
Y_CLS = np.arange(20) % 2
Y_REG = X[:, 0] - X[:, 1] ** 2


def _one_per_class():
    seen, out = set(), []
    for est in all_instances():
        if type(est) not in seen:
            seen.add(type(est))
            out.append(est)
    return out


def _fitted(est):
    est = clone(est)
    return est.fit(X, Y_CLS if is_classifier(est) else Y_REG)


def _output(est):
    return est.transform(X) if hasattr(est, "transform") else est.predict(X)


def _with_version(blob, version):
    """The pickle ``blob`` as if another skntk version had written it."""
    est = pickle.loads(blob)
    state = dict(est.__getstate__())
    if version is None:  # a pickle from before versions were recorded
        state.pop("_skntk_version")
    else:
        state["_skntk_version"] = version
    # class + state, as pickle.dumps writes an estimator
    return pickle.dumps(_Reduce(type(est), state))


class _Reduce:
    def __init__(self, cls, state):
        self.cls, self.state = cls, state

    def __reduce__(self):
        return (object.__new__, (self.cls,), self.state)


@pytest.mark.parametrize("est", _one_per_class(), ids=lambda e: type(e).__name__)
def test_same_version_loads_silently_and_identically(est):
    fitted = _fitted(est)
    blob = pickle.dumps(fitted)
    assert pickle.loads(blob).__getstate__()["_skntk_version"] == skntk.__version__
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        loaded = pickle.loads(blob)
    np.testing.assert_array_equal(_output(loaded), _output(fitted))


@pytest.mark.parametrize("est", _one_per_class(), ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("version", ["0.0.1", None])
def test_other_version_warns(est, version):
    blob = _with_version(pickle.dumps(_fitted(est)), version)
    with pytest.warns(SkntkVersionWarning, match="skntk version") as record:
        loaded = pickle.loads(blob)
    assert issubclass(record[0].category, InconsistentVersionWarning)
    assert record[0].filename == __file__  # at the user's pickle.loads
    assert "_skntk_version" not in vars(loaded)
    assert (version or "unknown") in str(record[0].message)
