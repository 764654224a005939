"""EmpiricalNTKFeatures refuses, before allocating, a feature matrix or a Gram
larger than ``SKNTK_MAX_MEMORY``, and the options its error names do fit."""

import re

import numpy as np
import pytest

from skntk import EmpiricalNTKFeatures

RNG = np.random.default_rng(0)
# the default net (100, 100) on 784 inputs: 78400 + 10000 + 100 features a row
X = RNG.standard_normal((200, 784))
N_FEATURES = 784 * 100 + 100 * 100 + 100


def _fitted(**params):
    return EmpiricalNTKFeatures(random_state=0, **params).fit(X[:3])


def test_default_net_has_the_feature_count_of_the_issue():
    assert _fitted().n_features_out_ == N_FEATURES == 88_500


def test_transform_refuses_before_allocating_and_names_the_options(monkeypatch):
    est = _fitted()
    # 200 rows x 88500 float64 = 141.6 MB; allow 40 MB
    monkeypatch.setenv("SKNTK_MAX_MEMORY", "40MB")
    with pytest.raises(MemoryError) as info:
        est.transform(X)
    msg = str(info.value)
    for word in ("n_components=", "layers=", "rows per call", "float32",
                 "SKNTK_MAX_MEMORY"):
        assert word in msg, msg
    # every option named fits under the same limit
    k = int(re.search(r"n_components=(\d+)", msg).group(1))
    # 40e6 bytes / (200 rows * 8 bytes) = 25000 columns: W (78400) sketched to
    # k, V (10000) and u (100) exact, so k + 10100 <= 25000: k = 14900
    assert k == 14_900
    Phi = _fitted(n_components=k).transform(X)
    assert Phi.shape == (200, k + 10_100)
    rows = int(re.search(r"at most (\d+) rows", msg).group(1))
    assert rows == 40_000_000 // (N_FEATURES * 8)
    assert _fitted().transform(X[:rows]).shape == (rows, N_FEATURES)
    assert "('V', 'u') (10100 features)" in msg
    assert _fitted(layers=("V", "u")).transform(X).shape == (200, 10_100)
    # W alone (78400 columns) does not fit and is not offered
    assert "('W',)" not in msg


def test_transform_under_the_limit_is_unaffected(monkeypatch):
    monkeypatch.setenv("SKNTK_MAX_MEMORY", "40MB")
    est = _fitted()
    Phi = est.transform(X[:10])
    monkeypatch.delenv("SKNTK_MAX_MEMORY")
    np.testing.assert_array_equal(Phi, est.transform(X[:10]))


def test_float32_is_offered_only_for_float64_and_halves_the_need(monkeypatch):
    est = _fitted()
    monkeypatch.setenv("SKNTK_MAX_MEMORY", "100MB")  # float64 needs 141.6 MB
    with pytest.raises(MemoryError, match="float32 input"):
        est.transform(X)
    assert est.transform(X.astype(np.float32)).dtype == np.float32  # 70.8 MB
    monkeypatch.setenv("SKNTK_MAX_MEMORY", "50MB")
    with pytest.raises(MemoryError) as info:
        est.transform(X.astype(np.float32))
    assert "float32 input" not in str(info.value)


def test_empirical_ntk_refuses_the_grams_and_names_the_options(monkeypatch):
    est = _fitted(hidden_layer_sizes=(8, 6))
    Z = RNG.standard_normal((3000, 784))
    # 3 Grams of 3000 x 3000 float64 = 216 MB; one is 72 MB
    monkeypatch.setenv("SKNTK_MAX_MEMORY", "100MB")
    with pytest.raises(MemoryError) as info:
        est.empirical_ntk(Z, by_layer=True)
    msg = str(info.value)
    assert "by_layer=False" in msg and "rows of X per call" in msg, msg
    rows = int(re.search(r"at most (\d+) rows", msg).group(1))
    # Grams 3 x rows x 3000, factors of rows + 3000 rows of 784 + 2*8 + 2*6
    per_row = 784 + 2 * 8 + 2 * 6
    assert rows == (100_000_000 // 8 - 3000 * per_row) // (3 * 3000 + per_row)
    K = est.empirical_ntk(Z[:rows], Z, by_layer=True)
    assert K["W"].shape == (rows, 3000)
    assert est.empirical_ntk(Z).shape == (3000, 3000)  # by_layer=False fits


def test_a_bad_limit_is_a_value_error_naming_the_variable(monkeypatch):
    est = _fitted()
    monkeypatch.setenv("SKNTK_MAX_MEMORY", "lots")
    with pytest.raises(ValueError, match="SKNTK_MAX_MEMORY"):
        est.transform(X[:2])
