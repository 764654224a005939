"""EmpiricalNTKFeatures: closed-form gradients against torch autograd, the seed's
exact numbers, the analytic kernel, the sketch's mean and variance, training
without label leaks, and bad input."""

import inspect
import pickle

import numpy as np
import pytest
import torch
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC

from skntk import EmpiricalNTKFeatures, ReluNTK
from skntk.empirical._ops import (
    _backprop,
    _fill,
    _NumpyOps,
    _TorchOps,
)
from skntk.datasets import make_teacher_network

RNG = np.random.default_rng(0)
X = RNG.standard_normal((9, 5))
X_OTHER = RNG.standard_normal((4, 5))


# ---------------------------------------------------------------- references
def _autograd_features(est, Z):
    """df/d(W, V, u) of the same net, sample by sample, from torch autograd."""
    W, V, u = (torch.tensor(p, requires_grad=True) for p in (est.W_, est.V_, est.u_))
    if est.parameterization == "ntk":
        s1, s2, s3 = 1 / np.sqrt([est.W_.shape[1], est.V_.shape[1], est.u_.size])
    else:
        s1 = s2 = s3 = 1.0
    rows = []
    for x in torch.tensor(Z):
        f = s3 * (u @ torch.relu(s2 * (V @ torch.relu(s1 * (W @ x)))))
        grads = dict(zip("WVu", torch.autograd.grad(f, [W, V, u])))
        rows.append(np.concatenate([grads[n].numpy().ravel()
                                    for n in est.layer_slices_]))
    return np.array(rows)


@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
@pytest.mark.parametrize("layers", [("W", "V", "u"), ("V",), ("W", "u")])
def test_closed_form_equals_autograd(parameterization, layers):
    est = EmpiricalNTKFeatures((7, 6), layers=layers, random_state=1,
                               parameterization=parameterization).fit(X)
    Phi = est.transform(X_OTHER)
    assert Phi.dtype == np.float64
    np.testing.assert_allclose(Phi, _autograd_features(est, X_OTHER),
                               rtol=0, atol=1e-12)
    sizes = {"W": 7 * 5, "V": 6 * 7, "u": 6}
    assert Phi.shape == (4, sum(sizes[n] for n in layers))
    assert [sl.stop - sl.start for sl in est.layer_slices_.values()] == [
        sizes[n] for n in layers]


def test_torch_backend_equals_numpy():
    """The code path of device='cuda' (run here on torch CPU tensors)."""
    for k in (None, 12):
        est = EmpiricalNTKFeatures((7, 6), n_components=k, random_state=0).fit(X)
        Phi = est.transform(X)
        P = est._net(np.float64, _TorchOps, to=torch.as_tensor)
        buf = torch.empty(Phi.shape, dtype=torch.float64)
        _fill(torch.as_tensor(X), buf, P, est.layer_slices_, _TorchOps)
        np.testing.assert_allclose(buf.numpy(), Phi, rtol=0, atol=1e-13)


def test_torch_path_of_transform_and_gram(monkeypatch):
    """transform and empirical_ntk through the torch batches (here on the CPU)."""
    est = EmpiricalNTKFeatures((7, 6), random_state=0, working_memory=1e-3).fit(X)
    Phi, G = est.transform(X), est.empirical_ntk(X, X_OTHER)
    parts = est.empirical_ntk(X, by_layer=True)
    monkeypatch.setattr(EmpiricalNTKFeatures, "_check_device",
                        lambda self: torch.device("cpu"))
    np.testing.assert_allclose(est.transform(X), Phi, rtol=0, atol=1e-13)
    np.testing.assert_allclose(est.empirical_ntk(X, X_OTHER), G, rtol=1e-12)
    for name, K in est.empirical_ntk(X, by_layer=True).items():
        np.testing.assert_allclose(K, parts[name], rtol=1e-12, atol=1e-15)
    Phi32 = est.transform(X.astype(np.float32))
    assert Phi32.dtype == np.float32
    np.testing.assert_allclose(Phi32, Phi, rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no cuda device")
def test_cuda_equals_cpu():
    cpu = EmpiricalNTKFeatures((16, 8), random_state=0).fit(X)
    gpu = EmpiricalNTKFeatures((16, 8), random_state=0, device="cuda").fit(X)
    np.testing.assert_allclose(gpu.transform(X), cpu.transform(X), atol=1e-12)
    np.testing.assert_allclose(gpu.empirical_ntk(X, X_OTHER),
                               cpu.empirical_ntk(X, X_OTHER), atol=1e-12)


def test_names_slices_batches_dtype_and_user_arrays():
    est = EmpiricalNTKFeatures((4, 3), random_state=0).fit(X)
    names = est.get_feature_names_out()
    assert len(names) == est.n_features_out_ == 4 * 5 + 3 * 4 + 3
    assert names[est.layer_slices_["W"]][4 * 5 - 1] == "W_3_4"
    assert names[est.layer_slices_["V"]][1 * 4 + 2] == "V_1_2"
    assert names[-1] == "u_2"
    # W_3_4 is df/dW[3, 4], from autograd
    Phi, ref = est.transform(X), _autograd_features(est, X)
    np.testing.assert_allclose(Phi[:, list(names).index("W_3_4")], ref[:, 3 * 5 + 4],
                               atol=1e-13)
    # one-row batches give the same features; the input is not modified
    X_ro = X.copy()
    X_ro.setflags(write=False)
    tiny = EmpiricalNTKFeatures((4, 3), random_state=0, working_memory=1e-6).fit(X_ro)
    np.testing.assert_allclose(tiny.transform(X_ro), Phi, rtol=0, atol=1e-14)
    np.testing.assert_allclose(tiny.empirical_ntk(X_ro), Phi @ Phi.T, atol=1e-13)
    np.testing.assert_array_equal(X_ro, X)
    # float32 in, float32 out
    Phi32 = est.transform(X.astype(np.float32))
    assert Phi32.dtype == np.float32
    np.testing.assert_allclose(Phi32, Phi, rtol=1e-4, atol=1e-5)
    # pickling keeps the parameters
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).transform(X), Phi)


def test_fit_is_seeded_and_init_params_are_copied():
    a = EmpiricalNTKFeatures((6, 5), random_state=3).fit(X)
    b = EmpiricalNTKFeatures((6, 5), random_state=3).fit(X)
    c = EmpiricalNTKFeatures((6, 5), random_state=4).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert not np.allclose(a.transform(X), c.transform(X))
    W = np.ones((6, 5))
    d = EmpiricalNTKFeatures((6, 5), init_params={"W": W}, random_state=3).fit(X)
    W[:] = 2.0
    np.testing.assert_array_equal(d.W_, 1.0)
    assert d.init_params["W"] is W  # the parameter itself is left as given
    # a given layer consumes no random numbers: V is what W would have been
    rs = np.random.RandomState(3)
    np.testing.assert_array_equal(d.V_, rs.standard_normal((5, 6)))


# ---------------------------------------------------------------- Gram
@pytest.mark.parametrize("layers", [("W", "V", "u"), ("V",), ("W", "u")])
def test_gram_equals_features(layers):
    est = EmpiricalNTKFeatures((11, 9), layers=layers, random_state=0).fit(X)
    Phi, Psi = est.transform(X), est.transform(X_OTHER)
    np.testing.assert_allclose(est.empirical_ntk(X), Phi @ Phi.T,
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(est.empirical_ntk(X, X_OTHER), Phi @ Psi.T,
                               rtol=1e-12, atol=1e-14)
    parts = est.empirical_ntk(X, X_OTHER, by_layer=True)
    assert tuple(parts) == layers
    for name, sl in est.layer_slices_.items():
        np.testing.assert_allclose(parts[name], Phi[:, sl] @ Psi[:, sl].T,
                                   rtol=1e-12, atol=1e-14)


def test_gram_as_precomputed_kernel():
    Xt, yt = make_teacher_network(60, threshold="median", random_state=0)
    est = EmpiricalNTKFeatures((16, 16), random_state=0).fit(Xt[:40])
    K_train, K_test = est.empirical_ntk(Xt[:40]), est.empirical_ntk(Xt[40:], Xt[:40])
    Phi_train, Phi_test = est.transform(Xt[:40]), est.transform(Xt[40:])
    kr = KernelRidge(kernel="precomputed", alpha=0.1).fit(K_train, yt[:40])
    lin = KernelRidge(kernel="linear", alpha=0.1).fit(Phi_train, yt[:40])
    np.testing.assert_allclose(kr.predict(K_test), lin.predict(Phi_test), atol=1e-10)
    svc = SVC(kernel="precomputed").fit(K_train, yt[:40])
    svc_lin = SVC(kernel="linear").fit(Phi_train, yt[:40])
    np.testing.assert_allclose(svc.decision_function(K_test),
                               svc_lin.decision_function(Phi_test), atol=1e-6)


@pytest.mark.slow
def test_gram_tends_to_analytic_ntk():
    """NTK parameterization: the Gram of all three layers tends to ReluNTK(depth=2).

    One net of width 2048 is off by about 6% (relative Frobenius; 4-10% over
    seeds), one of width 4096 by about 4%: a single net would make a 5% test a
    coin toss. The mean of 8 independent nets of width 2048 estimates the
    expected empirical NTK, whose finite-width bias is far below 5%; it is off
    by about 2%. The error of single nets shrinks like 1/sqrt(width)."""
    Z = np.random.default_rng(5).standard_normal((10, 5))
    K = ReluNTK(depth=2)(Z)
    err = {}
    for width, n_nets in ((128, 8), (512, 8), (2048, 8)):
        grams = [EmpiricalNTKFeatures((width, width), random_state=s).fit(Z)
                 .empirical_ntk(Z) for s in range(n_nets)]
        err[width] = [np.linalg.norm(G - K) / np.linalg.norm(K) for G in grams]
    mean_gram = np.mean(grams, axis=0)
    assert np.linalg.norm(mean_gram - K) / np.linalg.norm(K) < 0.05
    means = [np.mean(err[w]) for w in (128, 512, 2048)]
    assert means[0] > 1.4 * means[1] > 1.4**2 * means[2], means


# ---------------------------------------------------------------- sketch
# sketch a block of 3600 features (u: 1600) to k columns: its k columns are iid,
# so k * z0_c * z1_c are k samples of the inner product of a 1-column sketch
# (products of Gaussians are heavy-tailed: the variance of the W samples is off by
# about 8% (one sd) with 12000 samples, hence 48000)
SKETCH_NETS = {"W": ((60, 60), 3000, 48000), "V": ((60, 60), 3000, 48000),
               "u": ((8, 1600), 1500, 12000)}
X_WIDE = np.random.default_rng(1).standard_normal((2, 60))


@pytest.mark.parametrize("layer", ["W", "V", "u"])
def test_sketch_mean_and_variance(layer):
    """Documented: E[z.z'] = phi.phi' and, for k components, Var(z.z') =
    [(|a|²|a'|² + 2(a.a')²)(|b|²|b'|² + 2(b.b')²) - (phi.phi')²] / k for a block
    phi = a (x) b, and (|h|²|h'|² + (h.h')²) / k for the dense sketch of u."""
    sizes, k, n_samples = SKETCH_NETS[layer]
    exact = EmpiricalNTKFeatures(sizes, layers=layer, random_state=0).fit(X_WIDE)
    phi = exact.transform(X_WIDE)
    target = phi[0] @ phi[1]
    init = {"W": exact.W_, "V": exact.V_, "u": exact.u_}
    samples = []
    for seed in range(n_samples // k):
        Z = EmpiricalNTKFeatures(sizes, layers=layer, init_params=init, n_components=k,
                                 random_state=seed).fit(X_WIDE).transform(X_WIDE)
        assert Z.shape == (2, k)
        samples.append(k * Z[0] * Z[1])
    samples = np.concatenate(samples)
    if layer == "u":
        h, g = phi
        var = (h @ h) * (g @ g) + (h @ g) ** 2
    else:
        # phi = a (x) b: a = df/d(pre-activation), b = the layer's scaled input
        # (_backprop is checked against autograd above through the features)
        Xs, D1, H1s, D2, _ = _backprop(X_WIDE, exact._net(np.float64), _NumpyOps)
        a, b = (D1, Xs) if layer == "W" else (D2, H1s)
        np.testing.assert_allclose(phi, np.einsum("ij,ik->ijk", a, b).reshape(2, -1))
        var = (((a[0] @ a[0]) * (a[1] @ a[1]) + 2 * (a[0] @ a[1]) ** 2)
               * ((b[0] @ b[0]) * (b[1] @ b[1]) + 2 * (b[0] @ b[1]) ** 2)
               - target**2)
    assert abs(samples.mean() - target) < 4 * np.sqrt(var / samples.size)
    assert 0.85 < samples.var() / var < 1.15


def test_sketch_sizes_gram_and_exact_small_blocks():
    est = EmpiricalNTKFeatures((30, 20), n_components=25, random_state=0).fit(X)
    # W: 150 > 25 and V: 600 > 25 are sketched, u: 20 <= 25 is exact
    assert {n: sl.stop - sl.start for n, sl in est.layer_slices_.items()} == {
        "W": 25, "V": 25, "u": 20}
    assert set(est.sketch_) == {"W", "V"}
    names = est.get_feature_names_out()
    assert names[0] == "W_sketch0" and names[-1] == "u_19"
    exact = EmpiricalNTKFeatures((30, 20), random_state=0).fit(X).transform(X)
    np.testing.assert_allclose(est.transform(X)[:, est.layer_slices_["u"]],
                               exact[:, -20:], atol=1e-15)
    # the Gram is always that of the exact features
    np.testing.assert_allclose(est.empirical_ntk(X), exact @ exact.T, rtol=1e-12)
    # a wide sketch approximates the Gram
    wide = EmpiricalNTKFeatures((30, 20), n_components=500, random_state=0).fit(X)
    Z = wide.transform(X)
    G = exact @ exact.T
    assert np.linalg.norm(Z @ Z.T - G) / np.linalg.norm(G) < 0.15


# ---------------------------------------------------------------- training
def test_one_training_step_equals_torch_gradient_descent():
    Xt, yt = make_teacher_network(30, n_features=5, threshold="median", random_state=2)
    for loss in ("squared_error", "log_loss"):
        init = EmpiricalNTKFeatures((8, 7), random_state=0).fit(Xt)
        one = EmpiricalNTKFeatures((8, 7), random_state=0, train_steps=1, loss=loss,
                                   learning_rate=0.5).fit(Xt, yt)
        # step: learning_rate / mean diagonal of the NTK, from the explicit features
        step = 0.5 / np.mean(np.sum(init.transform(Xt) ** 2, axis=1))
        W, V, u = (torch.tensor(p, requires_grad=True)
                   for p in (init.W_, init.V_, init.u_))
        Z, t = torch.tensor(Xt), torch.tensor(yt, dtype=torch.float64)
        f = torch.relu(torch.relu(Z @ W.T / 5**0.5) @ V.T / 8**0.5) @ u / 7**0.5
        L = (0.5 * (f - t) ** 2).mean() if loss == "squared_error" else \
            torch.nn.functional.softplus(-t * f).mean()
        L.backward()
        assert one.loss_curve_ == pytest.approx([L.item()], rel=1e-12)
        for name, p in zip("WVu", (W, V, u)):
            np.testing.assert_allclose(getattr(one, name + "_"),
                                       (p - step * p.grad).detach().numpy(),
                                       rtol=0, atol=1e-13)


def test_training_reduces_loss_and_transform_never_sees_labels():
    Xt, yt = make_teacher_network(200, threshold="median", random_state=1)
    X_train, y_train, X_test = Xt[:100], yt[:100], Xt[100:]
    est = EmpiricalNTKFeatures((32, 32), random_state=0, train_steps=30,
                               loss="log_loss").fit(X_train, y_train)
    assert est.n_iter_ == 30 and len(est.loss_curve_) == 30
    assert est.loss_curve_[-1] < 0.9 * est.loss_curve_[0]
    # transform takes no labels at all (the seed built test features from y_test)
    assert list(inspect.signature(est.transform).parameters) == ["X", "out"]
    F = est.transform(X_test)
    # each test row's features depend on that row only ...
    np.testing.assert_allclose(
        np.vstack([est.transform(X_test[i:i + 1]) for i in range(5)]), F[:5],
        rtol=0, atol=1e-13)
    # ... and on the training labels, through the trained parameters
    flipped = EmpiricalNTKFeatures((32, 32), random_state=0, train_steps=30,
                                   loss="log_loss").fit(X_train, -y_train)
    assert not np.allclose(flipped.transform(X_test), F)
    # fit_transform is fit then transform (training rows and labels only)
    np.testing.assert_allclose(est.fit_transform(X_train, y_train),
                               est.transform(X_train))


# ---------------------------------------------------------------- the seed
def _seed_data():
    """Seed cell 6, to the digit: numpy's legacy global stream, samples as columns."""
    relu = lambda A: np.maximum(A, 0)  # noqa: E731
    state = np.random.get_state()
    try:
        np.random.seed(124)
        X = np.random.randn(25, 100)
        X_test = np.random.randn(25, 100000)
        W = np.random.randn(25, 25) / np.sqrt(25)
        V = np.random.randn(25, 25) / np.sqrt(25)
        u = np.random.randn(25, 1) / np.sqrt(25)
    finally:
        np.random.set_state(state)

    def label(Z):
        return np.where((u.T @ relu(V @ relu(W @ Z)))[0] > 0, 1, -1)

    return X.T, label(X), X_test.T, label(X_test)


def _layer_errors(X, y, X_test, y_test, layer, seed, init):
    est = EmpiricalNTKFeatures((25, 25), layers=layer, parameterization="standard",
                               init_params=init, random_state=seed).fit(X)
    clf = SVC(kernel="linear", C=1.0).fit(est.transform(X), y)
    train = np.mean(clf.predict(est.transform(X)) != y)
    wrong = 0
    for start in range(0, X_test.shape[0], 20000):  # 20000 x 625 float64: 100 MB
        F = est.transform(X_test[start:start + 20000])
        pred = np.where(F @ clf.coef_[0] + clf.intercept_[0] > 0, 1, -1)
        wrong += np.sum(pred != y_test[start:start + 20000])
    return (train, wrong / X_test.shape[0]), clf.coef_.reshape(-1, 25)


@pytest.mark.slow
def test_seed_layerwise_reproduction():
    """Seed cells 10-15: W, then V with the learned W, then u, via init_params."""
    data = _seed_data()
    err_W, W_clf = _layer_errors(*data, "W", 0, None)
    err_V, V_clf = _layer_errors(*data, "V", 1, {"W": W_clf})
    err_u, _ = _layer_errors(*data, "u", 2, {"W": W_clf, "V": V_clf})
    assert err_W == (0.0, 0.31055)
    assert err_V == (0.01, 0.3046)
    assert err_u == (0.1, 0.30021)


# ---------------------------------------------------------------- pipelines
def test_pipeline_grid_search():
    Xt, yt = make_teacher_network(150, threshold="median", random_state=3)
    pipe = make_pipeline(EmpiricalNTKFeatures(random_state=0), StandardScaler(),
                         LinearSVC(C=0.01))
    grid = GridSearchCV(pipe, {
        "empiricalntkfeatures__hidden_layer_sizes": [(8, 8), (16, 16)],
        "empiricalntkfeatures__layers": [("W",), ("u",), ("W", "V", "u")],
    }, cv=3).fit(Xt, yt)
    assert len(grid.cv_results_["params"]) == 6
    assert np.all(np.isfinite(grid.cv_results_["mean_test_score"]))
    assert grid.best_score_ > 0.6  # labels are balanced: chance is 0.5
    assert grid.predict(Xt).shape == (150,)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, match", [
    (dict(layers=("W", "Q")), "layers"),
    (dict(layers=("W", "W")), "layers"),
    (dict(layers=()), "layers"),
    (dict(layers="Q"), "layers"),
    (dict(hidden_layer_sizes=(10,)), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes=(10, 0)), "hidden_layer_sizes"),
    (dict(hidden_layer_sizes=(10, 2.5)), "hidden_layer_sizes"),
    (dict(init_params={"W": np.ones((5, 5))}),
     r"init_params\['W'\] has shape \(5, 5\)"),
    (dict(init_params={"u": np.ones(4)}), r"init_params\['u'\] has shape \(4,\)"),
    (dict(init_params={"w": np.ones((4, 5))}), "init_params has unknown keys"),
    (dict(init_params={"V": np.full((3, 4), np.nan)}), "NaN"),
    (dict(n_components=20), r"n_components=20 must be smaller .*W: 20"),
    (dict(layers=("u",), n_components=3), "n_components"),
    (dict(n_components=0), "n_components"),
    (dict(parameterization="mup"), "parameterization"),
    (dict(train_steps=-1), "train_steps"),
    (dict(train_steps=2), "requires y"),
    (dict(learning_rate=0.0), "learning_rate"),
    (dict(device="nonsense"), "device"),
])
def test_bad_parameters(kwargs, match):
    est = EmpiricalNTKFeatures(**{"hidden_layer_sizes": (4, 3), **kwargs})
    with pytest.raises(ValueError, match=match):
        est.fit(X)


def test_bad_data():
    est = EmpiricalNTKFeatures((4, 3), random_state=0).fit(X)
    with pytest.raises(ValueError, match="X has 4 features, but EmpiricalNTKFeatures "
                                         "is expecting 5"):
        est.transform(X[:, :4])
    with pytest.raises(ValueError, match="expecting 5"):
        est.empirical_ntk(X, X[:, :4])
    with pytest.raises(ValueError, match="two classes"):
        EmpiricalNTKFeatures((4, 3), train_steps=1, loss="log_loss").fit(
            X, np.arange(9) % 3)
    with pytest.raises(ValueError, match="Unknown label type"):
        EmpiricalNTKFeatures((4, 3), train_steps=1, loss="log_loss").fit(
            X, np.linspace(0, 1, 9))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_outer_blocks_are_the_same_bits_by_torch_and_by_numpy(monkeypatch, dtype):
    """The outer-product blocks go to torch's kernels when torch is loaded and
    to numpy's einsum in a process without torch: one rounded product per
    entry either way, so the same bits (and the products of the definition)."""
    import sys

    import torch  # noqa: F401  (loaded: the torch path)

    from skntk.empirical import _ops

    rng = np.random.default_rng(0)
    a = rng.standard_normal((7, 5)).astype(dtype)
    b = rng.standard_normal((7, 3)).astype(dtype)
    by_torch = np.empty((7, 5, 3), dtype)
    _ops._NumpyOps.outer_(by_torch, a, b)
    monkeypatch.delitem(sys.modules, "torch")  # as in a process without torch
    by_numpy = np.full((7, 5, 3), np.nan, dtype)
    _ops._NumpyOps.outer_(by_numpy, a, b)
    assert "torch" not in sys.modules  # a small block does not import it
    np.testing.assert_array_equal(by_torch, by_numpy)
    np.testing.assert_array_equal(by_numpy, a[:, :, None] * b[:, None, :])
