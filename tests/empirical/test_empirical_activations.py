"""EmpiricalNTKFeatures with every activation of the one vocabulary.

The reference is the empirical NTK of the same net written here in torch
(float64, the activations from torch's functions, not skntk's) with the
per-example Jacobians of torch.func: sum over every parameter entry of
df(x)/dp df(y)/dp. The closed-form features and Gram must equal it.
"""

import math
import pickle

import numpy as np
import pytest
import torch
from torch.func import jacrev, vmap

from skntk import EmpiricalNTKFeatures
from skntk.empirical._ops import _backprop, _NumpyOps, _TorchOps
from skntk.utils.activations import NAMES, Activation

# written without skntk; leaky_relu with negative_slope=0.3
REFERENCE = {
    "relu": lambda x: torch.clamp(x, min=0),
    "tanh": torch.tanh,
    "logistic": lambda x: 1.0 / (1.0 + torch.exp(-x)),
    "identity": lambda x: x,
    "erf": torch.erf,
    "gelu": lambda x: x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0))),
    "leaky_relu": lambda x: torch.where(x > 0, x, 0.3 * x),
    "abs": torch.abs,
    "sin": torch.sin,  # a callable, derivative by autograd
    "sin_cos": torch.sin,  # Activation(sin, cos)
}
SLOPE = {"leaky_relu": 0.3}

RNG = np.random.default_rng(3)
X = RNG.standard_normal((7, 4))
Y = RNG.standard_normal((5, 4))


def _activation(name):
    callables = {"sin": torch.sin, "sin_cos": Activation(torch.sin, torch.cos)}
    return callables.get(name, name)


def _est(name, **kw):
    return EmpiricalNTKFeatures((9, 8), activation=_activation(name),
                                negative_slope=SLOPE.get(name), random_state=0, **kw)


def _reference_ntk(est, phi, A, B):
    """Theta(A, B) of f(x) = s3 u' phi(s2 V phi(s1 W x)) by torch.func."""
    params = [torch.from_numpy(p) for p in (est.W_, est.V_, est.u_)]
    s = ([1.0] * 3 if est.parameterization == "standard" else
         [1 / math.sqrt(p.shape[-1]) for p in params])

    def f(ps, x):
        W, V, u = ps
        return s[2] * (u @ phi(s[1] * (V @ phi(s[0] * (W @ x)))))

    def jac(Z):
        return [J.reshape(len(Z), -1) for J in
                vmap(jacrev(f), in_dims=(None, 0))(params, torch.from_numpy(Z))]

    return [(Ja @ Jb.T).numpy() for Ja, Jb in zip(jac(A), jac(B))]


@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
@pytest.mark.parametrize("name", list(REFERENCE))
def test_gram_and_features_equal_torch_func_ntk(name, parameterization):
    """Per layer and summed, the Gram and the features' inner products equal
    the empirical NTK by torch.func (float64, rounding only)."""
    est = _est(name, parameterization=parameterization).fit(X)
    ref = _reference_ntk(est, REFERENCE[name], X, Y)
    scale = max(np.abs(r).max() for r in ref)
    parts = est.empirical_ntk(X, Y, by_layer=True)
    for layer, r in zip("WVu", ref):
        np.testing.assert_allclose(parts[layer], r, rtol=1e-12, atol=1e-13 * scale)
    np.testing.assert_allclose(est.empirical_ntk(X, Y), sum(ref), rtol=1e-12,
                               atol=1e-13 * scale)
    Phi = est.transform(np.vstack([X, Y]))
    np.testing.assert_allclose(Phi[:7] @ Phi[7:].T, sum(ref), rtol=1e-11,
                               atol=1e-12 * scale)


@pytest.mark.parametrize("name", list(REFERENCE))
def test_torch_backend_float32_and_derivative_values(name):
    """The torch backend (device != "cpu", run on CPU tensors) computes the
    same factors as numpy; float32 input stays float32 and agrees to float32
    rounding; the backward pass gets phi'(a) as floats of the dtype."""
    est = _est(name).fit(X)
    ref = _backprop(X, est._net(np.float64), _NumpyOps)
    tor = _backprop(torch.from_numpy(X),
                    est._net(np.float64, _TorchOps, to=torch.as_tensor), _TorchOps)
    for a, b in zip(ref, tor):
        np.testing.assert_allclose(b.numpy(), a, rtol=1e-12, atol=1e-13)
    Phi32 = est.transform(X.astype(np.float32))
    assert Phi32.dtype == np.float32
    Phi = est.transform(X)
    np.testing.assert_allclose(Phi32, Phi, rtol=2e-4, atol=2e-5 * np.abs(Phi).max())
    phi_, dphi = est._net(np.float32)["activation"]
    a = np.linspace(-3, 3, 13, dtype=np.float32)
    assert dphi(a.copy()).dtype == np.float32
    assert phi_(a.copy()).dtype == np.float32


@pytest.mark.parametrize("name", [n for n in NAMES if n != "identity"])
def test_training_with_each_activation_lowers_the_loss(name):
    y = np.sin(X[:, 0])
    est = _est(name, train_steps=20, learning_rate=0.5).fit(X, y)
    assert est.loss_curve_[-1] < est.loss_curve_[0]


def test_activation_is_that_of_fit_and_pickles():
    est = _est("tanh").fit(X)
    Phi = est.transform(X)
    est.set_params(activation="relu")  # the fitted net keeps its tanh
    np.testing.assert_array_equal(est.transform(X), Phi)
    for name in ("gelu", "sin_cos"):
        fitted = _est(name).fit(X)
        again = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_array_equal(again.transform(X), fitted.transform(X))


@pytest.mark.parametrize("params, match", [
    (dict(activation="softplus"), "'activation' parameter"),
    (dict(activation="relu", negative_slope=0.1), "negative_slope=0.1 applies to"),
    (dict(activation="leaky_relu", negative_slope=math.nan), "negative_slope must be"),
    (dict(activation=lambda x: x.mean()), "activation's function must map"),
    (dict(activation=lambda x: torch.log(x)), "activation's function returned "
                                               "non-finite"),
])
def test_bad_activation_is_refused_naming_the_parameter(params, match):
    with pytest.raises(ValueError, match=match):
        EmpiricalNTKFeatures((3, 2), **params).fit(X)
