"""TorchMLPClassifier / TorchMLPRegressor: the network side of "net versus NTK".

The scikit-learn API contract (check_estimator) runs in tests/test_common.py on
``tests/_instances.py``. Here:

* the TP5 notebook's network on real Fashion-MNIST (Dress vs Shirt), against
  the notebook's printed accuracies and an independent kernel regression;
* a width-4096 net in NTK parameterization trained by SGD against the kernel's
  finite-time gradient-flow prediction (closed form written here from
  ``relu_kernel`` + ``scipy.linalg.eigh``, and ``NTKRegressor``);
* the ``max_learning_rate`` diagnostic against its definition (full autograd
  Jacobian and loss Hessian) and against real divergence;
* the parameterization against a numpy forward pass written here;
* reproducibility, warm start / partial_fit, pickling without CUDA, verbose
  output, GridSearchCV, and bad input.

torch runs on one intra-op thread in this module (tests/nets/conftest.py).
"""

import copy
import gzip
import io
import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits, make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import skntk
from _instances import mlp_instances

from skntk import TorchMLPClassifier, TorchMLPRegressor, relu_kernel
from skntk.nets import DeviceWarning, LearningRateWarning
from skntk.utils import devices

FMNIST = Path("/usr/share/datasets/fashion-mnist")
DRESS, SHIRT = 3, 6


def _quiet(**kw):
    """Estimator kwargs for short training runs that must not warn about it."""
    return dict(n_iter_no_change=np.inf, **kw)


# --------------------------------------------------------------------------- #
# Fashion-MNIST, read here (independently of skntk.datasets)
# --------------------------------------------------------------------------- #


def _read_idx(name, offset, magic):
    with gzip.open(FMNIST / name) as f:
        raw = f.read()
    assert int.from_bytes(raw[:4], "big") == magic, name
    return np.frombuffer(raw, dtype=np.uint8, offset=offset)


@pytest.fixture(scope="module")
def seed_data():
    """The notebook's task: first 100 Dress and first 100 Shirt images of the
    training file (file order), all 2000 test images of the two classes,
    pixels scaled to [-1, 1] (ToTensor then Normalize(0.5, 0.5))."""
    def load(prefix, first=None):
        X = _read_idx(f"{prefix}-images-idx3-ubyte.gz", 16, 0x803).reshape(-1, 784)
        y = _read_idx(f"{prefix}-labels-idx1-ubyte.gz", 8, 0x801)
        keep = np.zeros(len(y), dtype=bool)
        for c in (DRESS, SHIRT):
            rows = np.flatnonzero(y == c)
            keep[rows if first is None else rows[:first]] = True
        return X[keep] / 255.0 * 2.0 - 1.0, y[keep].astype(np.int64)

    X_train, y_train = load("train", first=100)
    X_test, y_test = load("t10k")
    assert X_train.shape == (200, 784) and X_test.shape == (2000, 784)
    assert np.bincount(y_train)[[DRESS, SHIRT]].tolist() == [100, 100]
    return X_train, y_train, X_test, y_test


def _labels(f):
    """The notebook's decision: Shirt when 9 f > (3 + 6) / 2."""
    return np.where(9 * f > (DRESS + SHIRT) / 2, SHIRT, DRESS)


# the notebook's network and training, one line
SEED_NET = dict(hidden_layer_sizes=(1000,), init="xavier_normal", optimizer="sgd",
                learning_rate_init=0.01, batch_size=32, max_iter=200, shuffle=False,
                n_iter_no_change=np.inf)


@pytest.mark.slow
def test_seed_network_reproduces_notebook_on_fashion_mnist(seed_data):
    """TP5's net (784 -> 1000 -> 1, xavier normal, zero biases, SGD lr 0.01,
    batch 32, 200 epochs, MSE on label / 9) over 3 seeds: train accuracy >= 95%
    (notebook 96%), test accuracy >= 85% (notebook 86-88%), and >= 88% agreement
    with ridge-free NTK regression on the test images (notebook 89%). The
    seed's step is 4-5x over the SGD stability limit at initialisation
    (analysis in the issue), which fit must say."""
    X_train, y_train, X_test, y_test = seed_data
    # kernel regression on label / 9 with the depth-1 ReLU NTK, no ridge
    K = relu_kernel(X_train, depth=1, w_std=1.0, b_std=0.0)
    coef = scipy.linalg.solve(K, y_train / 9, assume_a="pos")
    ntk_test = _labels(relu_kernel(X_test, X_train) @ coef)
    assert np.mean(ntk_test == y_test) > 0.85  # the notebook's kernel: 89%

    train_acc, test_acc, agree = [], [], []
    for seed in range(3):
        net = TorchMLPRegressor(random_state=seed, **SEED_NET)
        with pytest.warns(LearningRateWarning, match="learning_rate_init=0.01 is"):
            net.fit(X_train, y_train / 9)
        ratio = net.learning_rate_init / net.max_learning_rate_
        assert 3.5 < ratio < 6.5, ratio
        assert net.n_iter_ == 200 and len(net.loss_curve_) == 200
        assert np.all(np.isfinite(net.loss_curve_))
        pred_test = _labels(net.predict(X_test))
        train_acc.append(np.mean(_labels(net.predict(X_train)) == y_train))
        test_acc.append(np.mean(pred_test == y_test))
        agree.append(np.mean(pred_test == ntk_test))
    summary = f"train {train_acc}, test {test_acc}, agreement {agree}"
    assert np.mean(train_acc) >= 0.95, summary
    assert np.mean(test_acc) >= 0.85, summary
    assert np.mean(agree) >= 0.88, summary


def test_seed_network_is_the_notebooks_initialisation():
    """xavier normal weights (std sqrt(2 / (fan_in + fan_out))), zero biases,
    Linear -> ReLU -> Linear, one output."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 784))
    kw = {**SEED_NET, "max_iter": 1, "learning_rate_init": 1e-9}
    net = TorchMLPRegressor(random_state=0, **kw).fit(X, rng.standard_normal(40))
    W1, W2 = (layer.weight.detach().numpy() for layer in net.module_.layers)
    assert W1.shape == (1000, 784) and W2.shape == (1, 1000)
    assert W1.std() == pytest.approx(np.sqrt(2 / 1784), rel=0.01)
    assert W2.std() == pytest.approx(np.sqrt(2 / 1001), rel=0.1)
    for layer in net.module_.layers:  # zero, up to one step of size 1e-9
        assert np.abs(layer.bias.detach().numpy()).max() < 1e-8


# --------------------------------------------------------------------------- #
# The network is neural-tangents' stax net, and a wide one follows its kernel
# --------------------------------------------------------------------------- #


def _numpy_forward(module, X, w_std, b_std, ntk):
    """stax [Dense, Relu] * L + Dense, written from the definition:
    h = (w_std / sqrt(fan_in)) W a + b_std b (NTK), or W a + b (standard)."""
    a = X
    layers = list(module.layers)
    for k, layer in enumerate(layers):
        W = layer.weight.detach().double().numpy()
        b = layer.bias.detach().double().numpy()
        if ntk:
            h = (w_std / np.sqrt(W.shape[1])) * (a @ W.T) + b_std * b
        else:
            h = a @ W.T + b
        a = np.maximum(h, 0) if k < len(layers) - 1 else h
    return a


@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
def test_parameterization_matches_definition(parameterization):
    """Predictions equal a float64 numpy forward pass of module_'s parameters
    under the documented parameterization; initial parameters have the
    documented distributions (N(0, 1) for "ntk", N(0, w_std^2 / fan_in) and
    N(0, b_std^2) for "standard")."""
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((64, 30)), rng.standard_normal((64, 2))
    w_std, b_std = 1.5, 0.3
    est = TorchMLPRegressor((400, 300), parameterization=parameterization,
                            w_std=w_std, b_std=b_std, optimizer="sgd",
                            learning_rate_init=1e-12, max_iter=1, random_state=0,
                            **_quiet()).fit(X, y)
    ntk = parameterization == "ntk"
    np.testing.assert_allclose(est.predict(X),
                               _numpy_forward(est.module_, X, w_std, b_std, ntk),
                               rtol=1e-10, atol=1e-12)
    for layer in est.module_.layers:
        W = layer.weight.detach().numpy()
        b = layer.bias.detach().numpy()
        w_sd, b_sd = (1.0, 1.0) if ntk else (w_std / np.sqrt(W.shape[1]), b_std)
        assert W.std() == pytest.approx(w_sd, rel=0.05)
        assert abs(W.mean()) < 5 * w_sd / np.sqrt(W.size)
        if b.size > 100:
            assert b.std() == pytest.approx(b_sd, rel=0.2)


def _finite_time_kernel(X, y, Z, t, depth, w_std, b_std):
    """Gradient flow on 0.5 * mean((f - y)^2) from f = 0 up to time t,
    f_t(z) = K(z, X) K^-1 (I - exp(-t K / N)) y, N = y.size; from eigh."""
    K = relu_kernel(X, depth=depth, w_std=w_std, b_std=b_std)
    lam, Q = scipy.linalg.eigh(K)
    filt = -np.expm1(-t * lam / y.size) / lam
    return relu_kernel(Z, X, depth=depth, w_std=w_std, b_std=b_std) @ (
        Q @ (filt * (Q.T @ y)))


def test_wide_ntk_net_follows_finite_time_kernel():
    """The claim skntk exists to examine: a width-4096 ReLU net in NTK
    parameterization trained by full-batch SGD (lr 0.3, 60 steps) predicts
    f_0(x) + [kernel gradient flow on y - f_0(X)](x) at t = 2 lr steps (torch's
    MSELoss has no 1/2). Measured: relative error of the learned part 2-4%,
    a width-64 net 20-30%; signs agree on 97-100% of the test points."""
    rng = np.random.default_rng(0)
    n, d, depth, w_std, b_std = 20, 8, 1, np.sqrt(2.0), 0.1
    X = rng.standard_normal((n + 100, d))
    y = np.sign(X[:, 0] + 0.5 * X[:, 1] * X[:, 2])
    X_train, y_train, X_test = X[:n], y[:n], X[n:]
    lr, steps = 0.3, 60
    kw = dict(hidden_layer_sizes=(4096,) * depth, parameterization="ntk",
              w_std=w_std, b_std=b_std, optimizer="sgd", batch_size=n,
              shuffle=False, random_state=3, **_quiet())
    # f_0: the same initialisation (same random_state), moved by a 1e-12 step
    init = TorchMLPRegressor(learning_rate_init=1e-12, max_iter=1, **kw)
    init.fit(X_train, y_train)
    net = TorchMLPRegressor(learning_rate_init=lr, max_iter=steps, **kw)
    net.fit(X_train, y_train)
    f0_train, f0_test = init.predict(X_train), init.predict(X_test)
    t = 2 * lr * steps

    kernel = f0_test + _finite_time_kernel(X_train, y_train - f0_train, X_test, t,
                                           depth, w_std, b_std)
    # the package's own finite-time kernel regression agrees with the closed form
    ridge = skntk.NTKRegressor(alpha=0.0, depth=depth, w_std=w_std, b_std=b_std,
                               training_time=t).fit(X_train, y_train - f0_train)
    np.testing.assert_allclose(f0_test + ridge.predict(X_test), kernel,
                               rtol=1e-8, atol=1e-10)

    f_net = net.predict(X_test)
    learned = np.linalg.norm(kernel - f0_test)
    rel = np.linalg.norm(f_net - kernel) / learned
    assert rel < 0.1, rel
    assert np.mean(np.sign(f_net) == np.sign(kernel)) >= 0.95
    # the finite time matters: the t = inf kernel solution is further away
    K = relu_kernel(X_train, depth=depth, w_std=w_std, b_std=b_std)
    infinite = f0_test + relu_kernel(X_test, X_train, depth=depth, w_std=w_std,
                                     b_std=b_std) @ scipy.linalg.solve(
        K, y_train - f0_train, assume_a="pos")
    assert np.linalg.norm(f_net - infinite) / learned > 2 * rel
    # and the stability limit of the wide net is the analytic kernel's,
    # N / lambda_max(K) for torch's MSE
    lam_max = scipy.linalg.eigvalsh(K)[-1]
    assert net.max_learning_rate_ == pytest.approx(n / lam_max, rel=0.05)


# --------------------------------------------------------------------------- #
# The max_learning_rate diagnostic
# --------------------------------------------------------------------------- #


def _reference_max_lr(est, X, targets):
    """2 / lambda_max(J' H J) from the full autograd Jacobian of the outputs
    with respect to every parameter, and the Hessian of the loss with respect
    to the outputs (torch.autograd.functional.hessian)."""
    module = copy.deepcopy(est.module_).double()
    names = [name for name, _ in module.named_parameters()]
    params = tuple(p.detach() for _, p in module.named_parameters())
    Xt = torch.tensor(X)

    def outputs(*flat):
        return torch.func.functional_call(module, dict(zip(names, flat)), (Xt,))

    out = outputs(*params)
    n, k = out.shape
    jac = torch.autograd.functional.jacobian(outputs, params)
    J = torch.cat([j.reshape(n * k, -1) for j in jac], dim=1)
    H = torch.autograd.functional.hessian(
        lambda o: est._criterion(o, targets), out).reshape(n * k, n * k)
    return 2.0 / torch.linalg.eigvalsh(J.T @ H @ J)[-1].item()


@pytest.mark.parametrize("case", ["regressor-mse", "binary-ce", "multiclass-ce",
                                  "multiclass-mse"])
def test_max_learning_rate_matches_definition(case):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((12, 4))
    if case == "regressor-mse":
        est = TorchMLPRegressor((7, 5), b_std=0.5)
        y = rng.standard_normal((12, 2))
        targets = torch.tensor(y)
    else:
        n_classes = 2 if case == "binary-ce" else 3
        loss = "mse" if case.endswith("mse") else "cross_entropy"
        est = TorchMLPClassifier((7, 5), b_std=0.5, loss=loss)
        y = np.arange(12) % n_classes
        targets = torch.tensor(np.eye(n_classes)[y] if loss == "mse" else y)
        if n_classes == 2:
            targets = torch.tensor(y[:, None], dtype=torch.float64)
    est.set_params(optimizer="sgd", learning_rate_init=1e-3, max_iter=3,
                   random_state=0, **_quiet())
    est.fit(X, y)
    expected = _reference_max_lr(est, X, targets)
    assert est.max_learning_rate(X) == pytest.approx(expected, rel=1e-8)


def test_learning_rate_above_limit_warns_and_diverges_below_does_not():
    """Full-batch SGD on a wide NTK-parameterized net: 2.5x the limit warns and
    diverges (a ValueError naming learning_rate_init, never a NaN model);
    0.8x the limit does neither."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((32, 10)), rng.standard_normal(32)
    kw = dict(hidden_layer_sizes=(512,), parameterization="ntk", optimizer="sgd",
              batch_size=32, max_iter=100, random_state=0, **_quiet())
    probe = TorchMLPRegressor(learning_rate_init=1e-6, **kw).fit(X, y)
    limit = probe.max_learning_rate_
    diverging = TorchMLPRegressor(learning_rate_init=2.5 * limit, **kw)
    with pytest.warns(LearningRateWarning, match="max_learning_rate_"):
        with pytest.raises(ValueError, match="diverged.*learning_rate_init"):
            diverging.fit(X, y)
    with pytest.raises(NotFittedError):  # no NaN model left behind
        diverging.predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        stable = TorchMLPRegressor(learning_rate_init=0.8 * limit, **kw).fit(X, y)
    assert stable.loss_curve_[-1] < 0.1 * stable.loss_curve_[0]


def test_finite_runaway_growth_is_a_divergence_not_a_model():
    """SGD far above its stable step in float64: the loss grows geometrically
    but stays finite for many epochs; a model left at max_iter would predict
    values whose squares overflow R2. Fit refuses it as soon as the loss is
    both 1e12 x the targets' scale and 1e3 x its first epoch's."""
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    est = TorchMLPRegressor((16,), optimizer="sgd", learning_rate_init=10.0,
                            dtype="float64", max_iter=50, random_state=0, **_quiet())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LearningRateWarning)
        with pytest.raises(ValueError, match=r"diverged.*times its first epoch's"
                           r".*learning_rate_init"):
            est.fit(X, y)
    with pytest.raises(NotFittedError):
        est.predict(X)


def test_large_but_falling_loss_is_not_a_divergence():
    """Targets of scale 1e7: a loss of about 1e14, far above 1e12 in absolute
    terms, is no divergence (the ceiling scales with the targets, and the loss
    falls)."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((40, 3))
    y = 1e7 * (X @ [1.0, -2.0, 0.5])
    est = TorchMLPRegressor((16,), optimizer="adam", learning_rate_init=1e-2,
                            dtype="float64", max_iter=5, random_state=0, **_quiet())
    est.fit(X, y)
    assert est.loss_curve_[-1] <= est.loss_curve_[0]
    assert np.isfinite(est.score(X, y))


def test_adam_does_not_compute_the_sgd_limit():
    X, y = make_blobs(40, random_state=0)
    est = TorchMLPClassifier((8,), max_iter=2, random_state=0, **_quiet()).fit(X, y)
    assert est.max_learning_rate_ is None
    assert np.isfinite(est.max_learning_rate(X))


# --------------------------------------------------------------------------- #
# Reproducibility, state, continuation
# --------------------------------------------------------------------------- #


def _blobs():
    X, y = make_blobs(120, n_features=5, centers=3, random_state=0)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("Est", [TorchMLPClassifier, TorchMLPRegressor])
def test_same_seed_same_result_and_no_global_rng_used(Est):
    X, y = _blobs()
    kw = dict(hidden_layer_sizes=(16,), max_iter=15, learning_rate_init=0.01,
              **_quiet())
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()
    a = Est(random_state=0, **kw).fit(X, y)
    b = Est(random_state=0, **kw).fit(X, y)
    c = Est(random_state=1, **kw).fit(X, y)
    assert torch.equal(torch_state, torch.get_rng_state())
    assert np.array_equal(np_state[1], np.random.get_state()[1])
    assert a.loss_curve_ == b.loss_curve_
    assert a.loss_curve_ != c.loss_curve_
    method = "predict_proba" if Est is TorchMLPClassifier else "predict"
    np.testing.assert_array_equal(getattr(a, method)(X), getattr(b, method)(X))
    assert not np.allclose(getattr(a, method)(X), getattr(c, method)(X))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_partial_fit_and_warm_start_continue_training(optimizer):
    """k calls of partial_fit (one epoch each, optimizer state kept) and warm
    starts are exactly one fit of k epochs (rows in order)."""
    X, y = _blobs()
    kw = dict(hidden_layer_sizes=(16,), optimizer=optimizer, learning_rate_init=0.01,
              batch_size=32, shuffle=False, random_state=0, **_quiet())
    full = TorchMLPClassifier(max_iter=6, **kw).fit(X, y)
    inc = TorchMLPClassifier(**kw)
    for _ in range(6):
        inc.partial_fit(X, y, classes=[0, 1, 2])
    assert inc.n_iter_ == 6
    np.testing.assert_allclose(inc.loss_curve_, full.loss_curve_, rtol=1e-6)
    np.testing.assert_allclose(inc.predict_proba(X), full.predict_proba(X),
                               rtol=1e-5, atol=1e-7)
    if optimizer == "sgd":  # a warm-started fit gets a fresh optimizer
        warm = TorchMLPClassifier(max_iter=3, warm_start=True, **kw)
        warm.fit(X, y).fit(X, y)
        assert warm.n_iter_ == 6
        np.testing.assert_allclose(warm.loss_curve_, full.loss_curve_, rtol=1e-6)
    cold = clone(full).set_params(max_iter=3).fit(X, y)  # warm_start=False restarts
    np.testing.assert_allclose(cold.loss_curve_, full.loss_curve_[:3], rtol=1e-6)


def test_continuation_checks():
    X, y = _blobs()
    est = TorchMLPClassifier((8,), max_iter=2, warm_start=True, random_state=0,
                             **_quiet()).fit(X, y)
    with pytest.raises(ValueError, match="same classes"):
        est.fit(X, np.where(y == 2, 1, y))
    with pytest.raises(ValueError, match="architecture"):
        est.set_params(hidden_layer_sizes=(9,)).fit(X, y)
    with pytest.raises(ValueError, match="classes must be passed"):
        TorchMLPClassifier().partial_fit(X, y)
    with pytest.raises(ValueError, match=r"not in classes"):
        TorchMLPClassifier().partial_fit(X, y, classes=[0, 1])
    # classes seen only later are fine when declared
    inc = TorchMLPClassifier((8,), random_state=0).partial_fit(
        X[y < 2], y[y < 2], classes=[0, 1, 2])
    assert inc.predict_proba(X).shape == (len(X), 3)


def test_early_stopping_keeps_best_validation_epoch():
    X, y = _blobs()
    est = TorchMLPClassifier((16,), early_stopping=True, validation_fraction=0.25,
                             n_iter_no_change=3, max_iter=200, learning_rate_init=0.05,
                             random_state=0).fit(X, y)
    assert len(est.validation_scores_) == est.n_iter_ < 200
    assert est.best_validation_score_ == max(est.validation_scores_)
    assert est.best_loss_ is None
    assert est.score(X, y) > 0.9


def test_string_labels_and_probabilities():
    X, y = _blobs()
    labels = np.array(["dress", "shirt", "coat"])[y]
    for loss in ("cross_entropy", "mse"):
        clf = TorchMLPClassifier((16,), loss=loss, learning_rate_init=0.02,
                                 max_iter=100, random_state=0, **_quiet())
        clf.fit(X, labels)
        proba = clf.predict_proba(X)
        assert clf.classes_.tolist() == ["coat", "dress", "shirt"]
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
        assert np.all((proba >= 0) & (proba <= 1))
        np.testing.assert_array_equal(clf.predict(X),
                                      clf.classes_[proba.argmax(axis=1)])
        assert clf.score(X, labels) > 0.95


def test_regressor_multioutput_and_float64_training():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 4))
    Y = np.column_stack([X[:, 0], X[:, 1] - X[:, 2]])
    reg = TorchMLPRegressor((32,), dtype="float64", learning_rate_init=0.01,
                            max_iter=300, random_state=0, **_quiet()).fit(X, Y)
    assert reg.module_.layers[0].weight.dtype == torch.float64
    assert reg.predict(X).shape == (100, 2) and reg.predict(X).dtype == np.float64
    assert reg.score(X, Y) > 0.95
    assert torch.get_default_dtype() == torch.float32


# --------------------------------------------------------------------------- #
# Pickling, devices, clone
# --------------------------------------------------------------------------- #


def test_pickled_cuda_model_loads_and_predicts_without_cuda(monkeypatch):
    """A model trained with device="cuda" keeps module_ on the CPU, so its
    pickle loads on a machine without CUDA (faked here), where prediction
    falls back to the CPU with a DeviceWarning. On a machine without a GPU
    the CUDA-trained model is stood in for by a CPU-trained one with
    device="cuda" (exactly the state fit leaves)."""
    X, y = _blobs()
    est = TorchMLPClassifier((16,), max_iter=5, random_state=0, **_quiet())
    if torch.cuda.is_available():
        est.set_params(device="cuda").fit(X, y)
        expected = est.predict_proba(X)
    else:
        expected = est.fit(X, y).predict_proba(X)
        est.set_params(device="cuda")
    assert all(p.device.type == "cpu" for p in est.module_.parameters())
    blob = pickle.dumps(est)

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(devices, "cuda_available", lambda: False)
    loaded = pickle.loads(blob)
    with pytest.warns(DeviceWarning, match="CUDA is not available"):
        proba = loaded.predict_proba(X)
    np.testing.assert_allclose(proba, expected, rtol=1e-10, atol=1e-12)
    # training on "cuda" without CUDA is an error naming the parameter
    with pytest.raises(ValueError, match="device='cuda'"):
        clone(loaded).fit(X, y)
    # "auto" quietly trains on the CPU
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        auto = clone(loaded).set_params(device="auto").fit(X, y)
    assert next(auto.module_.parameters()).device.type == "cpu"


def test_clone_is_unfitted_and_pickle_round_trip():
    X, y = _blobs()
    est = TorchMLPRegressor((16,), max_iter=5, random_state=0, **_quiet()).fit(X, y)
    unfitted = clone(est)
    assert unfitted.get_params() == est.get_params()
    with pytest.raises(NotFittedError):
        unfitted.predict(X)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    buffer = io.BytesIO()
    torch.save(est.module_.state_dict(), buffer)  # a plain state dict, too


# --------------------------------------------------------------------------- #
# Output, threads, imports
# --------------------------------------------------------------------------- #


def test_silent_by_default_and_progress_bar_when_verbose(capsys):
    X, y = _blobs()
    TorchMLPClassifier((8,), max_iter=3, random_state=0, **_quiet()).fit(X, y)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    TorchMLPClassifier((8,), max_iter=3, verbose=1, random_state=0,
                       **_quiet()).fit(X, y)
    err = capsys.readouterr().err
    assert "3/3" in err and "loss=" in err


def test_torch_thread_setting_is_restored():
    X, y = _blobs()
    torch.set_num_threads(2)
    try:
        TorchMLPClassifier((8,), max_iter=2, random_state=0, **_quiet()).fit(X, y)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)


def test_check_estimator_instances_cover_both_estimators():
    instances = mlp_instances()
    assert {type(e) for e in instances} == {TorchMLPClassifier, TorchMLPRegressor}
    # fast settings, but the defaults' optimizer and loss
    for est in instances:
        assert est.optimizer == "adam" and est.max_iter >= 50


# --------------------------------------------------------------------------- #
# Model selection
# --------------------------------------------------------------------------- #


@pytest.mark.slow
def test_pipeline_in_grid_search_with_two_jobs():
    X, y = load_digits(n_class=4, return_X_y=True)
    X, y = X[:240], y[:240]
    pipe = Pipeline([("scale", StandardScaler()),
                     ("net", TorchMLPClassifier(max_iter=40, batch_size=32,
                                                random_state=0))])
    grid = GridSearchCV(pipe, {"net__hidden_layer_sizes": [(8,), (32,)],
                               "net__learning_rate_init": [1e-3, 1e-2]},
                        cv=3, n_jobs=2, error_score="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.best_params_["net__learning_rate_init"] == 1e-2
    # scikit-learn's MLPClassifier with the best setting: 0.87 on these rows
    # (logistic regression 0.90)
    assert grid.best_score_ > 0.85


# --------------------------------------------------------------------------- #
# Bad input: clear errors, never a torch traceback
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("sizes", [(0,), (10, 0), ["10", "20"], (2.5,), (-3,),
                                   (True,)])
def test_bad_hidden_layer_sizes(sizes):
    X, y = _blobs()
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        TorchMLPClassifier(hidden_layer_sizes=sizes).fit(X, y)


def test_one_class_nan_inf_and_other_bad_input():
    X, y = _blobs()
    with pytest.raises(ValueError, match="only one class"):
        TorchMLPClassifier().fit(X, np.zeros(len(X)))
    for bad in (np.nan, np.inf):
        Xb = X.copy()
        Xb[3, 1] = bad
        for est in (TorchMLPClassifier(), TorchMLPRegressor()):
            with pytest.raises(ValueError, match="X"):
                est.fit(Xb, y)
    with pytest.raises(ValueError, match="init='xavier_normal'"):
        TorchMLPRegressor(parameterization="ntk", init="xavier_normal").fit(X, y)
    with pytest.raises(ValueError, match="w_std"):
        TorchMLPRegressor(w_std=np.nan).fit(X, y)
    with pytest.raises(ValueError, match="device"):
        TorchMLPRegressor(device="tpu").fit(X, y)
    with pytest.raises(ValueError, match="learning_rate_init"):
        TorchMLPRegressor(learning_rate_init=0).fit(X, y)


def test_batch_size_larger_than_n_is_full_batch():
    X, y = _blobs()
    kw = dict(hidden_layer_sizes=(8,), optimizer="sgd", learning_rate_init=0.01,
              max_iter=3, shuffle=False, random_state=0, **_quiet())
    with pytest.warns(UserWarning, match="batch_size=1000 is larger"):
        big = TorchMLPRegressor(batch_size=1000, **kw).fit(X, y)
    full = TorchMLPRegressor(batch_size=len(X), **kw).fit(X, y)
    assert big.loss_curve_ == full.loss_curve_


def test_inputs_are_not_modified():
    X, y = _blobs()
    X.setflags(write=False)
    y.setflags(write=False)
    X0, y0 = X.copy(), y.copy()
    est = TorchMLPClassifier((8,), max_iter=2, random_state=0, **_quiet()).fit(X, y)
    est.predict_proba(X)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
