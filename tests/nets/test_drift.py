"""Lazy-training diagnostics of the nets (``record_drift``): the recorded
weight and NTK changes against an independent torch.func Jacobian, their
bookkeeping over fit / warm_start / partial_fit, and the lazy regime itself:
at a fixed learning rate the drift falls as 1 / sqrt(width) in the NTK
parameterisation."""

import copy
import warnings

import numpy as np
import pytest
import torch
from torch.func import functional_call, jacrev

from skntk import TorchMLPClassifier, TorchMLPRegressor


def _ntk_trace(module, X):
    """sum over outputs of J J' from torch.func's Jacobian, float64."""
    module = copy.deepcopy(module).double()
    params = {k: v.detach() for k, v in module.named_parameters()}
    X = torch.as_tensor(X, dtype=torch.float64)
    jac = jacrev(lambda p: functional_call(module, p, (X,)))(params)
    n = X.shape[0]
    # each entry (n, k, *parameter shape) -> (n, k, size): J of shape (n, k, P)
    J = torch.cat([j.reshape(n, j.shape[1], -1) for j in jac.values()], dim=2)
    return torch.einsum("iop,jop->ij", J, J).numpy()


def _flat(module):
    return np.concatenate([p.detach().double().numpy().ravel()
                           for p in module.parameters()])


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    return X, np.sin(X[:, 0]) + X[:, 1] * X[:, 2]


@pytest.mark.parametrize("cls, activation, hidden", [
    (TorchMLPRegressor, "relu", (16, 8)),
    (TorchMLPRegressor, "tanh", (12,)),
    (TorchMLPClassifier, "logistic", (10,)),  # three classes: three outputs
])
def test_one_epoch_matches_torch_func(data, cls, activation, hidden):
    X, y = data
    if cls is TorchMLPClassifier:
        y = np.digitize(y, [-0.5, 0.5])
    est = cls(hidden, activation=activation, parameterization="ntk", b_std=0.3,
              optimizer="sgd", learning_rate_init=0.05, random_state=0,
              drift_probe_size=10, dtype="float64")
    est.partial_fit(X, y, **({"classes": [0, 1, 2]} if cls is TorchMLPClassifier
                             else {}))
    before = copy.deepcopy(est.module_)
    assert not hasattr(est, "weight_change_")
    # recording starts on a continued fit: the reference is the network then
    est.set_params(record_drift=True).partial_fit(X, y)
    after = est.module_
    probe = X[np.arange(10) * 40 // 10]
    k0, k1 = _ntk_trace(before, probe), _ntk_trace(after, probe)
    w0, w1 = _flat(before), _flat(after)
    assert est.weight_change_.shape == est.ntk_change_.shape == (1,)
    np.testing.assert_allclose(est.weight_change_[0],
                               np.linalg.norm(w1 - w0) / np.linalg.norm(w0), rtol=1e-6)
    np.testing.assert_allclose(est.ntk_change_[0],
                               np.linalg.norm(k1 - k0) / np.linalg.norm(k0), rtol=1e-6)
    assert est.ntk_change_[0] > 0


def test_bookkeeping(data):
    X, y = data
    kw = dict(hidden_layer_sizes=(8,), max_iter=5, n_iter_no_change=np.inf,
              random_state=0, learning_rate_init=0.01)
    off = TorchMLPRegressor(**kw).fit(X, y)
    assert not hasattr(off, "weight_change_") and not hasattr(off, "ntk_change_")
    est = TorchMLPRegressor(record_drift=True, drift_probe_size=16, **kw).fit(X, y)
    # recording does not change training
    np.testing.assert_array_equal(est.predict(X), off.predict(X))
    for name in ("weight_change_", "ntk_change_"):
        values = getattr(est, name)
        assert values.dtype == np.float64 and values.shape == (5,)
        assert np.all(np.isfinite(values)) and np.all(values > 0)
    first = est.weight_change_.copy()
    est.set_params(warm_start=True).fit(X, y)  # appends, same reference
    assert est.weight_change_.shape == (10,) and est.n_iter_ == 10
    np.testing.assert_array_equal(est.weight_change_[:5], first)
    est.partial_fit(X, y)
    assert est.ntk_change_.shape == (11,)
    est.set_params(warm_start=False).fit(X, y)  # a fresh fit starts anew
    assert est.weight_change_.shape == (5,)
    np.testing.assert_allclose(est.weight_change_, first, rtol=1e-12)
    est.set_params(record_drift=False).fit(X, y)  # off: the record is dropped
    assert not hasattr(est, "weight_change_") and not hasattr(est, "ntk_change_")


def test_probe_larger_than_data_is_an_error(data):
    X, y = data
    with pytest.raises(ValueError, match="drift_probe_size=41 is larger than the "
                       "number of training rows \\(40\\)"):
        TorchMLPRegressor((8,), record_drift=True, drift_probe_size=41,
                          max_iter=2).fit(X, y)


@pytest.mark.parametrize("n, expected", [(10, 10), (40, 32), (500, 32), (2000, 62),
                                         (4096, 128), (8192, 256), (100000, 256)])
def test_auto_probe_size(n, expected):
    from skntk.nets._drift import probe_size

    assert probe_size("auto", n) == expected
    assert probe_size(7, n) == 7


def test_auto_probe_is_smaller_for_a_net_whose_probe_kernel_costs_more():
    """With the layers' shapes, "auto" lowers the probe where its kernel's
    multiply-adds (counted here by hand for probe_ntk's products) would pass
    5% of an epoch's 3 n P, and never goes below 32 rows."""
    from skntk.nets._drift import probe_size

    n, k = 4096, 10
    deep = [(256, 64), (256, 256), (k, 256)]
    shallow = [(256, 784), (k, 256)]  # image-sized input, one hidden layer
    assert probe_size("auto", n, shallow, k) == probe_size("auto", n) == 128
    m = probe_size("auto", n, deep, k)
    assert 32 < m < 128

    def cost(m):  # forward, the derivatives through layer 2, the m x m products
        weights = 64 * 256 + 256 * 256 + 256 * k
        return (m * weights + m * k * 256 * 256
                + m * m * (64 + 256 + 256) + m * m * 256 + m * m * k * 256)
    epoch = 3 * n * (64 * 256 + 256 * 256 + 256 * k)
    assert cost(m) <= 0.05 * epoch < cost(m + 1)
    # a deep net on few rows keeps the floor of 32 (or all rows)
    assert probe_size("auto", 500, deep, k) == 32
    assert probe_size("auto", 20, deep, k) == 20
    assert probe_size(100, n, deep, k) == 100  # an explicit size is kept


def test_auto_probe_on_a_deep_net_in_a_fit():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4096, 64)).astype(np.float32)
    y = rng.integers(0, 10, 4096)
    from skntk import TorchMLPClassifier

    est = TorchMLPClassifier((256, 256), max_iter=1, record_drift=True,
                             random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    assert 32 < est._drift.probe.shape[0] < 128
    assert est.ntk_change_.shape == (1,) and np.isfinite(est.ntk_change_).all()


def test_auto_probe_is_the_explicit_one(data):
    X, y = data  # 40 rows: "auto" probes 32 of them
    kw = dict(hidden_layer_sizes=(8,), max_iter=2, n_iter_no_change=np.inf,
              random_state=0, record_drift=True)
    auto = TorchMLPRegressor(**kw).fit(X, y)
    explicit = TorchMLPRegressor(drift_probe_size=32, **kw).fit(X, y)
    np.testing.assert_array_equal(auto.ntk_change_, explicit.ntk_change_)


@pytest.mark.parametrize("value", [0, -3, 2.5, "all"])
def test_bad_probe_size(data, value):
    with pytest.raises(ValueError, match="drift_probe_size"):
        TorchMLPRegressor(record_drift=True, drift_probe_size=value).fit(*data)


def test_drift_falls_with_width():
    """At a fixed learning rate in the NTK parameterisation, full-batch SGD
    moves the parameters by O(1 / sqrt(width)) relative to their initial
    values, and the tangent kernel by at most O(1 / sqrt(width)) (Lee et al.
    2019, Theorem 2.1) and, at leading order, by O(1 / width) (Dyer &
    Gur-Ari 2020: dTheta/dt is O(1 / width)): the weight change's log-log
    slope is -1/2, the kernel's lies between -1 and -1/2."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((32, 4))
    y = np.sin(2 * X[:, 0]) + X[:, 1]
    widths = np.array([64, 256, 1024])
    final = []
    for width in widths:
        runs = []
        for seed in range(3):  # averaged over three initialisations
            est = TorchMLPRegressor(
                (width,), parameterization="ntk", b_std=0.2, optimizer="sgd",
                learning_rate_init=0.5, batch_size=32, max_iter=30,
                n_iter_no_change=np.inf, shuffle=False, dtype="float64",
                record_drift=True, drift_probe_size=32, random_state=seed,
            ).fit(X, y)
            runs.append([est.weight_change_[-1], est.ntk_change_[-1]])
        final.append(np.mean(runs, axis=0))
    final = np.array(final)
    assert np.all(np.diff(final, axis=0) < 0), final  # monotone in width
    slopes = np.polyfit(np.log(widths), np.log(final), 1)[0]
    # tolerances: what three seeds and widths from 64 leave of the asymptotics
    assert -0.6 < slopes[0] < -0.4, (slopes, final)
    assert -1.1 < slopes[1] < -0.45, (slopes, final)


@pytest.mark.parametrize("activation, hidden", [
    ("relu", (7,)), ("identity", (6,)), ("identity", (5, 4)),
    ("tanh", (6, 5, 4)), ("gelu", (9, 3)),
])
def test_probe_ntk_matches_torch_func(activation, hidden):
    """The closed-form probe kernel (the last hidden layer summed over the
    outputs in factored form, earlier layers through the propagated
    derivatives) against torch.func's Jacobian, several outputs."""
    from skntk.nets._drift import probe_ntk

    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 4))
    y = rng.integers(0, 4, 30)  # four classes: four outputs
    est = TorchMLPClassifier(hidden, activation=activation, b_std=0.4, max_iter=3,
                             n_iter_no_change=np.inf, random_state=0,
                             dtype="float64").fit(X, y)
    probe = X[:11]
    got = probe_ntk(est.module_, torch.as_tensor(probe)).numpy()
    np.testing.assert_allclose(got, _ntk_trace(est.module_, probe), rtol=1e-10,
                               atol=1e-12)
