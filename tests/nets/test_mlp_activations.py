"""Every activation of the one vocabulary in TorchMLPClassifier / TorchMLPRegressor.

The references are independent of skntk's activation code: the activations
are written here from torch's (or the textbook's) functions, the network's
forward pass from neural-tangents' NTK parameterization, and the empirical NTK
behind ``max_learning_rate`` from torch.func's per-example Jacobians.
"""

import math
import pickle
import warnings

import numpy as np
import pytest
import torch
from torch.func import jacrev, vmap

from skntk import TorchMLPClassifier, TorchMLPRegressor
from skntk.utils.activations import NAMES, Activation


def _gelu(x):
    return x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0)))


# the textbook functions, written without skntk
REFERENCE = {
    "relu": lambda x: torch.clamp(x, min=0),
    "tanh": torch.tanh,
    "logistic": lambda x: 1.0 / (1.0 + torch.exp(-x)),
    "identity": lambda x: x,
    "erf": torch.erf,
    "gelu": _gelu,
    "leaky_relu": lambda x: torch.where(x > 0, x, 0.2 * x),  # negative_slope=0.2
    "abs": torch.abs,
    "sin": torch.sin,
}
SLOPE = {"leaky_relu": 0.2}


def _activation(name):
    """The estimator's activation parameter for a REFERENCE key."""
    if name == "sin":
        return torch.sin  # a callable, its derivative by autograd
    return name


def _data(n=12, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, np.column_stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]])


def _fit(name, X, y, **kw):
    params = dict(hidden_layer_sizes=(6, 5), parameterization="ntk", w_std=1.3,
                  b_std=0.2, optimizer="sgd", learning_rate_init=0.05,
                  max_iter=3, dtype="float64", random_state=0)
    params.update(kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of 3 epochs
        return TorchMLPRegressor(activation=_activation(name),
                                 negative_slope=SLOPE.get(name), **params).fit(X, y)


def _reference_forward(phi, est, x, params):
    """f(x) of neural-tangents' NTK parameterization from the N(0, 1) parameters:
    h = w_std / sqrt(fan_in) W a + b_std b, phi between the layers."""
    a = x
    for k in range(0, len(params), 2):
        W, b = params[k], params[k + 1]
        a = est.w_std / math.sqrt(W.shape[1]) * (a @ W.T) + est.b_std * b
        if k < len(params) - 2:
            a = phi(a)
    return a


def _params(est):
    return [p.detach().to(torch.float64) for layer in est.module_.layers
            for p in (layer.weight, layer.bias)]


def _reference_ntk(phi, est, X):
    """sum over every parameter entry of df_o(x_i)/dp df_p(x_j)/dp, sample-major,
    and f(X)."""
    params = _params(est)
    Xt = torch.from_numpy(X)
    jac = vmap(jacrev(lambda ps, x: _reference_forward(phi, est, x, ps)),
               in_dims=(None, 0))(params, Xt)  # each (n, k, *p.shape)
    n, k = X.shape[0], est.n_outputs_
    theta = sum(J.reshape(n * k, -1) @ J.reshape(n * k, -1).T for J in jac)
    return theta.numpy(), _reference_forward(phi, est, Xt, params).detach().numpy()


@pytest.mark.parametrize("name", list(REFERENCE))
def test_forward_and_max_learning_rate_match_torch_func(name):
    """For every activation (and a callable) the trained net computes
    neural-tangents' NTK-parameterized network with that activation, and
    max_learning_rate is n k / lambda_max of the empirical NTK computed by
    torch.func from scratch (float64), at initialisation and after training."""
    X, y = _data()
    phi = REFERENCE[name]
    est = _fit(name, X, y)
    theta, out = _reference_ntk(phi, est, X)
    np.testing.assert_allclose(est.predict(X), out, rtol=1e-12, atol=1e-12)
    lam = np.linalg.eigvalsh(theta)[-1]
    assert est.max_learning_rate(X) == pytest.approx(X.shape[0] * 2 / lam, rel=1e-9)
    # a step of 1e-300 leaves the float64 parameters as drawn; fit's
    # max_learning_rate_ is taken on its first batch (all 12 rows here)
    fresh = _fit(name, X, y, max_iter=1, learning_rate_init=1e-300)
    theta0, _ = _reference_ntk(phi, fresh, X)
    assert fresh.max_learning_rate_ == pytest.approx(
        X.shape[0] * 2 / np.linalg.eigvalsh(theta0)[-1], rel=1e-9)


@pytest.mark.parametrize("name", [*NAMES, "callable"])
@pytest.mark.parametrize("cls", [TorchMLPClassifier, TorchMLPRegressor])
def test_every_activation_trains_and_predicts(cls, name):
    X, y = _data(n=30)
    y = (y[:, 0] > 0).astype(int) if cls is TorchMLPClassifier else y[:, 0]
    activation = Activation(torch.sin, torch.cos) if name == "callable" else name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = cls((8,), activation=activation, max_iter=20, learning_rate_init=0.01,
                  random_state=0).fit(X, y)
    pred = est.predict(X)
    assert pred.shape == (30,)
    assert np.all(np.isfinite(est.loss_curve_))
    if cls is TorchMLPRegressor:
        assert np.all(np.isfinite(pred))
    else:
        assert set(np.unique(pred)) <= {0, 1}


def test_derivative_given_with_the_callable_is_the_one_trained_with():
    """Activation(sin, cos) trains exactly as sin with autograd's derivative
    (the same numbers), and Activation(sin, 2 cos) differently: the given
    derivative, not autograd's, drives back-propagation."""
    X, y = _data(n=20)
    kw = dict(hidden_layer_sizes=(8,), parameterization="ntk", optimizer="sgd",
              learning_rate_init=0.5, max_iter=5, dtype="float64", random_state=0,
              n_iter_no_change=np.inf)
    plain = TorchMLPRegressor(activation=torch.sin, **kw).fit(X, y)
    given = TorchMLPRegressor(activation=Activation(torch.sin, torch.cos), **kw)
    given.fit(X, y)
    wrong = TorchMLPRegressor(
        activation=Activation(torch.sin, lambda x: 2 * torch.cos(x)), **kw).fit(X, y)
    np.testing.assert_allclose(given.predict(X), plain.predict(X), rtol=1e-10,
                               atol=1e-12)
    assert np.abs(wrong.predict(X) - plain.predict(X)).max() > 1e-3


def test_negative_slope_is_the_leaky_relus():
    X, y = _data()
    for slope in (0.01, 0.5, -1.0):
        est = _fit("leaky_relu", X, y, max_iter=1)
        est.set_params(negative_slope=slope, warm_start=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        phi = lambda x, s=slope: torch.where(x > 0, x, s * x)  # noqa: E731
        out = _reference_forward(phi, est, torch.from_numpy(X), _params(est)).numpy()
        np.testing.assert_allclose(est.predict(X), out, rtol=1e-12, atol=1e-12)


def test_default_negative_slope_is_torchs():
    X, y = _data()
    a = _fit("relu", X, y).set_params(activation="leaky_relu", negative_slope=None)
    b = _fit("relu", X, y).set_params(activation="leaky_relu", negative_slope=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(a.fit(X, y).predict(X), b.fit(X, y).predict(X))


@pytest.mark.parametrize("params, match", [
    (dict(activation="swish"), "'activation' parameter"),
    (dict(activation="tanh", negative_slope=0.1), "negative_slope=0.1 applies to "
                                                  "activation='leaky_relu' only"),
    (dict(activation=torch.sin, negative_slope=0.1), "negative_slope applies to"),
    (dict(activation="leaky_relu", negative_slope=math.inf), "negative_slope must be"),
    (dict(activation="leaky_relu", negative_slope="0.1"), "'negative_slope' parameter"),
    (dict(activation=lambda x: x.sum()), "activation's function must map"),
    (dict(activation=lambda x: torch.cumsum(x, 0)), "activation's function is not "
                                                     "elementwise"),
    (dict(activation=lambda x: 1 / x), "activation's function returned non-finite"),
    (dict(activation=Activation(torch.sin, "cos")), "activation.derivative must be"),
])
def test_bad_activation_is_refused_naming_the_parameter(params, match):
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        TorchMLPRegressor((4,), max_iter=1, **params).fit(X, y[:, 0])


@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
@pytest.mark.parametrize("change, named", [
    (dict(activation="tanh", negative_slope=None), "activation"),
    (dict(activation="leaky_relu", negative_slope=0.3), "negative_slope"),
    (dict(activation=Activation(torch.sin, torch.cos), negative_slope=None),
     "activation"),
])
def test_changing_the_activation_before_continuing_is_refused(how, change, named):
    X, y = _data()
    est = TorchMLPRegressor((4,), activation="leaky_relu", negative_slope=0.2,
                            max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    est.set_params(**change)
    with pytest.raises(ValueError, match=rf"^{named} changed since module_ was built"):
        if how == "partial_fit":
            est.partial_fit(X, y)
        else:
            est.set_params(warm_start=True).fit(X, y)


def test_named_and_importable_activations_pickle_a_lambda_needs_cloudpickle():
    cloudpickle = pytest.importorskip("cloudpickle")  # joblib's loky uses it

    X, y = _data()
    for activation in ("gelu", Activation(torch.sin, torch.cos), torch.erf):
        est = TorchMLPRegressor((4,), activation=activation, max_iter=2,
                                random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        again = pickle.loads(pickle.dumps(est))
        np.testing.assert_array_equal(again.predict(X), est.predict(X))
    est = TorchMLPRegressor((4,), activation=lambda x: torch.sin(x), max_iter=2,
                            random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
    with pytest.raises((pickle.PicklingError, AttributeError), match="lambda"):
        pickle.dumps(est)
    again = pickle.loads(cloudpickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))


def test_models_pickled_before_activation_specs_still_work():
    """A fitted net from before activations had specs held the name: its
    module still predicts, and continuing training accepts the same name."""
    X, y = _data()
    est = _fit("tanh", X, y)
    pred = est.predict(X)
    est.module_.activation = "tanh"  # as the module pickled then
    est.module_._act_fn = None
    arch = est._arch_
    est._arch_ = (arch[0], "tanh", *arch[2:])
    np.testing.assert_array_equal(est.predict(X), pred)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.partial_fit(X, y)
    with pytest.raises(ValueError, match="^activation changed"):
        est.set_params(activation="relu").partial_fit(X, y)


def test_given_derivative_works_under_torch_func():
    """The module of Activation(sin, cos) is transformable by torch.func
    (vmap of jacrev, as a per-example NTK computes it): the same Jacobians as
    torch.sin differentiated by autograd."""
    from torch.func import functional_call

    X, y = _data()
    kw = dict(hidden_layer_sizes=(5,), max_iter=1, dtype="float64", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        given = TorchMLPRegressor(activation=Activation(torch.sin, torch.cos), **kw)
        plain = TorchMLPRegressor(activation=torch.sin, **kw)
        modules = [est.fit(X, y).module_ for est in (given, plain)]

    def jacobians(module):
        params = dict(module.named_parameters())
        return vmap(jacrev(lambda p, x: functional_call(module, p, (x[None],))[0]),
                    in_dims=(None, 0))(params, torch.from_numpy(X))

    J_given, J_plain = jacobians(modules[0]), jacobians(modules[1])
    for name, J in J_given.items():
        np.testing.assert_allclose(J.detach().numpy(), J_plain[name].detach().numpy(),
                                   rtol=1e-12, atol=1e-14)
