"""``skntk compare --activation``: every net gets it, never a ReLU kernel beside it."""

import json

import numpy as np
import pytest
from _compare_cli import one_line_error as _one_line_error
from _compare_cli import run as _run

from skntk.compare import _models
from skntk.compare._checkpoint import _resume_mismatch
from skntk.compare._cli import main


def _ctx(activation, negative_slope=None):
    return _models._Context(quick=True, random_state=0, n_samples=100, n_features=4,
                            n_classes=3, scaler=True, activation=activation,
                            negative_slope=negative_slope)


@pytest.mark.parametrize("activation, slope", [("tanh", None), ("leaky_relu", 0.2)])
def test_activation_reaches_every_model(activation, slope):
    ctx = _ctx(activation, slope)
    net = _models._mlp(ctx)[-1]
    features = _models._empirical(ctx)[-2]
    for est in (net, features):
        assert (est.activation, est.negative_slope) == (activation, slope)
    for factory in (_models._ntk, _models._nngp):  # never a ReLU kernel beside
        kernel = factory(ctx)[-1]
        assert (kernel.activation, kernel.negative_slope) == (activation, slope)
    # ReLU builds exactly the models of before (every default)
    relu = _models._mlp(_ctx("relu"))[-1]
    assert relu.get_params() == _models._mlp(_models._Context(
        quick=True, random_state=0, n_samples=100, n_features=4, n_classes=3,
        scaler=True))[-1].get_params()


def test_learning_rate_of_the_net_shrinks_with_its_kernel():
    """abs (and leaky_relu of slope -1, the same net) have twice ReLU's
    E[phi'^2]: a smaller step; leaky_relu(0.01) is ReLU's."""
    def lr(activation, slope=None):
        return _models._mlp(_ctx(activation, slope))[-1].learning_rate_init

    assert lr("abs") < 0.5 * lr("relu") and lr("leaky_relu", -1.0) < 0.5 * lr("relu")
    assert lr("leaky_relu", 0.01) == pytest.approx(lr("relu"), rel=1e-3)


@pytest.mark.slow
def test_compare_with_tanh_runs_the_tanh_kernel_beside_the_tanh_net(tmp_path, capsys):
    """--activation tanh: the net, the empirical features and the kernels all
    get tanh (in the report's settings), and every model scores."""
    code, _, err = _run(["compare", "--activation", "tanh", "--n-train", "60", "--cv",
                         "2", "--quick", "--no-figures", "--models",
                         "ntk,nngp,mlp,empirical", "--output", str(tmp_path)], capsys)
    assert code == 0, err
    report = json.loads((tmp_path / "results.json").read_text())
    settings = report["settings"]
    assert settings["models"] == ["ntk", "nngp", "mlp", "empirical"]
    assert settings["activation"] == "tanh"
    params = settings["estimators"]
    assert params["mlp"]["params"]["torchmlpclassifier__activation"] == "tanh"
    assert params["empirical"]["params"]["empiricalntkfeatures__activation"] == "tanh"
    for kernel in ("ntk", "nngp"):
        assert params[kernel]["params"]["ntkclassifier__activation"] == "tanh"
    assert all(np.isfinite(r["accuracy"]) for r in report["results"])


@pytest.mark.parametrize("argv, match", [
    (["--activation", "swish"], "argument --activation: invalid choice: 'swish'"),
    (["--activation", "tanh", "--negative-slope", "0.2"],
     "--negative-slope=0.2 applies to --activation='leaky_relu' only"),
    (["--negative-slope", "0.2"], "--negative-slope=0.2 applies to "
                                  "--activation='leaky_relu' only"),
    (["--activation", "leaky_relu", "--negative-slope", "nan"],
     "--negative-slope must be a finite real number"),
    (["--preset", "tp5", "--activation", "gelu"], "drop --activation"),
])
def test_bad_activation_arguments_get_one_line(tmp_path, capsys, argv, match):
    try:
        code = main(["compare", *argv, "--output", str(tmp_path / "r")])
    except SystemExit as exc:
        code = exc.code
    line = _one_line_error(capsys.readouterr().err, code, 2)
    assert match in line
    assert not (tmp_path / "r").exists()


def test_resume_needs_the_same_activation():
    base = {"versions": {}}
    assert _resume_mismatch(base | {"activation": None},
                            base | {"activation": "tanh"}) == \
        "--activation (none), this run has tanh"
    assert _resume_mismatch(base, base | {"activation": None}) is None  # old files
