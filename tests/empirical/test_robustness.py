"""What the API fuzzer (tests/test_fuzz.py) found in EmpiricalNTKFeatures: a
failed fit leaves it unfitted, non-numeric targets of the squared loss and
overflowing features or Grams are clear ValueErrors, never AttributeErrors,
scikit-learn's float-conversion message or inf."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from skntk import EmpiricalNTKFeatures

RNG = np.random.default_rng(0)
X = RNG.standard_normal((6, 3))


def test_a_fit_that_raises_after_validation_leaves_it_unfitted():
    est = EmpiricalNTKFeatures((2, 2), n_components=50)  # blocks of 6, 4, 2
    with pytest.raises(ValueError, match="n_components=50"):
        est.fit(X)
    assert not hasattr(est, "n_features_in_")
    with pytest.raises(NotFittedError):
        est.transform(X)


def test_a_failed_refit_does_not_leave_the_previous_fit_half_overwritten():
    est = EmpiricalNTKFeatures((2, 2), random_state=0).fit(X)
    est.set_params(n_components=50)
    with pytest.raises(ValueError, match="n_components"):
        est.fit(X[:, :2])
    with pytest.raises(NotFittedError):
        est.transform(X)
    with pytest.raises(NotFittedError):
        est.empirical_ntk(X)


def test_diverged_training_leaves_it_unfitted():
    y = RNG.standard_normal(6) * 1e300
    est = EmpiricalNTKFeatures((3, 2), train_steps=3, random_state=0)
    with pytest.raises(ValueError, match="learning_rate"):
        est.fit(X * 1e150, y)
    with pytest.raises(NotFittedError):
        est.transform(X)


def test_string_targets_of_the_squared_loss_name_the_loss():
    y = np.array(["cat", "dog"] * 3)
    est = EmpiricalNTKFeatures((3, 2), train_steps=1, random_state=0)
    with pytest.raises(ValueError, match="loss='squared_error' needs numeric"):
        est.fit(X, y)
    # the same labels train the logistic loss
    est.set_params(loss="log_loss").fit(X, y)
    assert est.n_iter_ == 1


def test_non_finite_object_targets_are_refused():
    y = np.array([0.5, np.nan, 1.0, 2.0, 0.0, 1.0], dtype=object)
    est = EmpiricalNTKFeatures((3, 2), train_steps=1, random_state=0)
    with pytest.raises(ValueError, match="contains NaN"):
        est.fit(X, y)


@pytest.mark.filterwarnings("error")  # no RuntimeWarning from numpy either
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_overflowing_features_are_a_value_error_naming_the_fix(dtype):
    big = np.finfo(dtype).max / 10
    est = EmpiricalNTKFeatures((2, 2), init_params={"W": np.full((2, 3), 1e3)},
                               random_state=0).fit(X)
    Z = np.full((2, 3), big, dtype=dtype)  # s1 W x = 1e3 * 3 big / sqrt(3)
    with pytest.raises(ValueError, match="StandardScaler") as info:
        est.transform(Z)
    assert ("pass float64 input" in str(info.value)) == (dtype == np.float32)
    with pytest.raises(ValueError, match="Gram's entries overflow"):
        est.empirical_ntk(Z)
    with pytest.raises(ValueError, match="Gram's entries overflow"):
        est.empirical_ntk(Z, by_layer=True)
    # the same inputs, scaled down, are fine
    assert np.all(np.isfinite(est.transform(Z / big)))
