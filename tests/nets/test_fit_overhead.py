"""The parts of ``fit`` that issue 21 made cheaper: the SGD ``max_learning_rate_``
diagnostic (Lanczos on Jacobian products instead of the whole empirical NTK)
and the float32 range check (done while converting X).

Expected values: the exact limit comes from ``max_learning_rate`` (the whole
empirical NTK and LAPACK's eigenvalue, itself checked against the full autograd
Jacobian and Hessian in test_torch_mlp.py); the conversion from numpy's cast.
"""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from skntk import TorchMLPClassifier, TorchMLPRegressor
from skntk.nets import LearningRateWarning
from skntk.nets._inputs import check_float32_range
from skntk.nets._diagnostics import (EXACT_NTK_ROWS, estimate_max_learning_rate,
                                    max_learning_rate)
from skntk.nets._torch import build_mlp


def _net(d, hidden, k, activation, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return build_mlp(d, hidden, k, activation=activation, parameterization="standard",
                     init="normal", w_std=1.5, b_std=0.3, generator=gen,
                     dtype=torch.float64)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
@pytest.mark.parametrize("k, loss", [(1, "mse"), (3, "mse"), (1, "cross_entropy"),
                                     (4, "cross_entropy")])
def test_lanczos_estimate_matches_the_exact_limit(activation, k, loss):
    """Any activation (pure autograd), every loss normalisation: the estimate
    of fit is the exact top eigenvalue's limit to well within 1%."""
    rng = np.random.default_rng(3)
    X = torch.tensor(rng.standard_normal((24, 6)))
    module = _net(6, (16, 9), k, activation)
    exact = max_learning_rate(module, X, loss)
    estimate = estimate_max_learning_rate(module, X, loss)
    assert estimate == pytest.approx(exact, rel=5e-3)
    assert estimate >= exact * (1 - 1e-9)  # Ritz values approach from below


def test_lanczos_estimate_needs_no_ntk_and_few_iterations():
    """Eight iterations at most, whatever the batch (the operator has n k = 120
    dimensions here)."""
    rng = np.random.default_rng(4)
    X = torch.tensor(rng.uniform(-1, 1, (40, 20)))
    module = _net(20, (64,), 3, "relu")
    calls = []
    original = torch.autograd.grad

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torch.autograd, "grad", counting)
        estimate_max_learning_rate(module, X, "cross_entropy")
    assert len(calls) <= 1 + 2 * 8


@pytest.mark.parametrize("Est", [TorchMLPRegressor, TorchMLPClassifier])
def test_check_learning_rate_false_skips_the_diagnostic(Est):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 5))
    y = rng.standard_normal(30) if Est is TorchMLPRegressor else np.arange(30) % 2
    kw = dict(hidden_layer_sizes=(8,), optimizer="sgd", learning_rate_init=1e-3,
              max_iter=2, n_iter_no_change=np.inf, random_state=0)
    on = Est(**kw).fit(X, y)
    assert on.max_learning_rate_ > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", LearningRateWarning)
        off = Est(check_learning_rate=False, **kw).fit(X, y)
    assert off.max_learning_rate_ is None
    # the diagnostic draws nothing from random_state: the same training
    np.testing.assert_array_equal(off.predict(X), on.predict(X))
    with pytest.raises(ValueError, match="check_learning_rate"):
        Est(check_learning_rate="yes", **kw).fit(X, y)


def test_fit_limit_agrees_with_the_method():
    """fit's max_learning_rate_ (float32 Lanczos: 64 rows x 5 outputs is above
    EXACT_NTK_ROWS) against the exact method on the same first batch (float64
    NTK)."""
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (64, 30))
    y = np.arange(64) % 5
    est = TorchMLPClassifier((32,), optimizer="sgd", learning_rate_init=1e-4,
                             batch_size=64, max_iter=1, shuffle=False,
                             n_iter_no_change=np.inf, random_state=0)
    # the exact limit of the network at initialisation: a fit without steps
    # is not possible, so compare with the method before training moves it
    est.set_params(learning_rate_init=1e-30).fit(X, y)
    assert 64 * 5 > EXACT_NTK_ROWS
    assert est.max_learning_rate_ == pytest.approx(est.max_learning_rate(X),
                                                   rel=1e-2)


def test_small_batches_get_the_exact_limit():
    """The seed's batch (32 rows, one output): fit uses the whole NTK, exact."""
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((40, 12)), rng.standard_normal(40)
    est = TorchMLPRegressor((50,), optimizer="sgd", learning_rate_init=1e-30,
                            batch_size=32, max_iter=1, shuffle=False,
                            n_iter_no_change=np.inf, random_state=0).fit(X, y)
    assert est.max_learning_rate_ == pytest.approx(est.max_learning_rate(X[:32]),
                                                   rel=1e-5)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([0.0, 1.0, -2.5, 1e-40, -3e-39, 1e-300, 3.4e38,
                                 1e30, 7e-46]), min_size=1, max_size=30),
       st.integers(1, 3))
def test_float32_conversion_is_numpy_cast_and_flags_underflow(values, cols):
    X = np.resize(np.array(values), (max(1, len(values) // cols), cols))
    tiny = np.finfo(np.float32).tiny
    lost = bool(np.any((X != 0) & (np.abs(X.astype(np.float32)) < tiny)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        X32 = check_float32_range(X)
    np.testing.assert_array_equal(X32, X.astype(np.float32))
    assert X32.dtype == np.float32
    assert any("below the smallest normal float32" in str(w.message)
               for w in caught) == lost


def test_float32_conversion_refuses_overflow_in_a_later_block():
    X = np.ones((5000, 40))  # several blocks
    X[4321, 7] = -1e39
    with pytest.raises(ValueError, match="up to 1e\\+39.*overflow dtype='float32'"):
        check_float32_range(X)
