"""Persistence and determinism (issue 10).

- pickle and joblib round trips of every fitted estimator give bit-identical
  outputs (also when joblib memory-maps the arrays read-only);
- ``skops.io`` loads the numpy-based estimators once their own classes are
  trusted explicitly, and refuses them otherwise; it cannot hold the torch
  estimators (documented in docs/distributed.rst);
- a model trained with ``device="cuda"`` and unpickled on a machine without CUDA
  predicts on the CPU (simulated: this machine has no GPU; its state is checked
  to hold CPU tensors only, and a pickle produced with the device set to CUDA is
  loaded in a fresh process where CUDA is unavailable);
- the same ``random_state`` gives bitwise-identical outputs in two fresh
  processes, for every estimator, and a pickle written by one process predicts
  bit-identically in another.

``skntk compare`` determinism and ``--resume`` are left out: the command has no
``--resume`` option yet.
"""

import hashlib
import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skntk import (
    EmpiricalNTKFeatures,
    NTKClassifier,
    NTKClassifierCV,
    NTKRegressor,
    NTKRegressorCV,
    ReluNTK,
    TorchMLPClassifier,
    TorchMLPRegressor,
    relu_kernel,
)

RNG = np.random.default_rng(11)
X = RNG.standard_normal((30, 5))
X_TEST = RNG.standard_normal((9, 5))
Y_CLS = np.arange(30) % 3
Y_REG = np.cos(X[:, 0]) + X[:, 1] * X[:, 2]
_TORCH = dict(max_iter=8, n_iter_no_change=np.inf, learning_rate_init=0.01)


def _factories():
    """name -> (unfitted estimator, fit arguments); the torch nets and the
    random features are seeded."""
    K = relu_kernel(X, depth=2)
    return {
        "NTKRegressor": (NTKRegressor(alpha=1e-2, depth=2, b_std=0.1), (X, Y_REG)),
        "NTKRegressor-eigh-t": (NTKRegressor(alpha=0.0, solver="eigh",
                                             training_time=50.0), (X, Y_REG)),
        "NTKRegressor-precomputed": (NTKRegressor(kernel="precomputed"), (K, Y_REG)),
        "NTKRegressor-nystrom": (NTKRegressor(alpha=1e-2, solver="nystrom",
                                              n_components=12, random_state=3),
                                 (X, Y_REG)),
        "NTKClassifier": (NTKClassifier(alpha=1e-3, kernel="nngp", depth=3),
                          (X, Y_CLS)),
        "NTKClassifier-nystrom": (NTKClassifier(solver="nystrom", n_components=12,
                                                random_state=3), (X, Y_CLS)),
        "NTKRegressorCV": (NTKRegressorCV(store_cv_results=True), (X, Y_REG)),
        "NTKClassifierCV": (NTKClassifierCV(scoring="accuracy"), (X, Y_CLS)),
        "EmpiricalNTKFeatures": (EmpiricalNTKFeatures((8, 6), n_components=7,
                                                      random_state=3), (X,)),
        "EmpiricalNTKFeatures-trained": (EmpiricalNTKFeatures(
            (8, 6), train_steps=3, random_state=3), (X, Y_REG)),
        "TorchMLPClassifier": (TorchMLPClassifier((16,), random_state=3, **_TORCH),
                               (X, Y_CLS)),
        "TorchMLPClassifier-sgd-ntk": (TorchMLPClassifier(
            (16, 16), parameterization="ntk", optimizer="sgd", loss="mse",
            random_state=4, **_TORCH), (X, Y_CLS)),
        "TorchMLPRegressor": (TorchMLPRegressor((16,), early_stopping=True,
                                                random_state=3, **_TORCH), (X, Y_REG)),
        "GaussianProcessRegressor(ReluNTK)": (GaussianProcessRegressor(
            ReluNTK(depth=2, b_std=0.1), alpha=1e-3, random_state=0), (X, Y_REG)),
        "Pipeline(StandardScaler, NTKClassifier)": (make_pipeline(
            StandardScaler(), NTKClassifier(alpha=1e-2)), (X, Y_CLS)),
    }


def _fitted():
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, (est, args) in _factories().items():
            out[name] = est.fit(*args)
    return out


def _test_input(name):
    return relu_kernel(X_TEST, X, depth=2) if "precomputed" in name else X_TEST


def _outputs(name, est):
    Xt = _test_input(name)
    out = {}
    for m in ("predict", "predict_proba", "decision_function", "transform",
              "empirical_ntk"):
        if hasattr(est, m):
            out[m] = getattr(est, m)(Xt)
    if isinstance(est, (NTKRegressor, GaussianProcessRegressor)) and \
            not any(tag in name for tag in ("precomputed", "eigh-t", "nystrom")):
        out["std"] = est.predict(Xt, return_std=True)[1]
    return out


@pytest.fixture(scope="module")
def fitted():
    return _fitted()


NAMES = list(_factories())


def _assert_bit_identical(a, b):
    assert a.keys() == b.keys() and a
    for m in a:
        assert a[m].dtype == b[m].dtype, m
        assert_array_equal(a[m], b[m], err_msg=m)
        assert a[m].tobytes() == b[m].tobytes(), m  # also -0.0 vs 0.0 and NaN bits


@pytest.mark.parametrize("name", NAMES)
def test_pickle_round_trip_is_bit_identical(fitted, name):
    est = fitted[name]
    ref = _outputs(name, est)
    for protocol in (4, pickle.HIGHEST_PROTOCOL):
        loaded = pickle.loads(pickle.dumps(est, protocol=protocol))
        assert type(loaded) is type(est)
        _assert_bit_identical(_outputs(name, loaded), ref)
    # the copy is independent: refitting it leaves the original alone
    twin = pickle.loads(pickle.dumps(est))
    args = _factories()[name][1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if len(args) == 1:
            twin.fit(args[0][::-1].copy())
        else:
            twin.fit(args[0], args[1][::-1].copy())
    _assert_bit_identical(_outputs(name, est), ref)


@pytest.mark.parametrize("name", NAMES)
def test_joblib_round_trip_is_bit_identical(fitted, name, tmp_path):
    est = fitted[name]
    ref = _outputs(name, est)
    for kw in (dict(), dict(compress=3)):
        path = tmp_path / f"model-{len(kw)}.joblib"
        joblib.dump(est, path, **kw)
        _assert_bit_identical(_outputs(name, joblib.load(path)), ref)
    # memory-mapped, read-only arrays: prediction must not write into them
    path = tmp_path / "model-mmap.joblib"
    joblib.dump(est, path)
    loaded = joblib.load(path, mmap_mode="r")
    _assert_bit_identical(_outputs(name, loaded), ref)


@pytest.mark.parametrize("name", NAMES)
def test_clone_of_a_loaded_model_refits_identically(fitted, name):
    """A loaded model's parameters, cloned and refitted, give the same model."""
    loaded = pickle.loads(pickle.dumps(fitted[name]))
    args = _factories()[name][1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        refit = clone(loaded).fit(*args)
    _assert_bit_identical(_outputs(name, refit), _outputs(name, fitted[name]))


def test_partial_fit_continues_identically_after_unpickling(fitted):
    """The optimizer state travels with the model: one more epoch on the original
    and on its unpickled copy gives the same network."""
    for name in ("TorchMLPClassifier", "TorchMLPRegressor"):
        est = pickle.loads(pickle.dumps(fitted[name]))  # leave the fixture alone
        # partial_fit refuses early_stopping=True (as scikit-learn's MLP)
        est.set_params(early_stopping=False)
        twin = pickle.loads(pickle.dumps(est))
        y = Y_CLS if "Classifier" in name else Y_REG
        est.partial_fit(X, y)
        twin.partial_fit(X, y)
        _assert_bit_identical(_outputs(name, twin), _outputs(name, est))
        assert _outputs(name, est) != {}


# --------------------------------------------------------------------------- #
# skops.io: safe loading with explicitly trusted types
# --------------------------------------------------------------------------- #

_SKOPS_OK = [n for n in NAMES if not n.startswith("Torch")]
_SKOPS_NO = [n for n in NAMES if n.startswith("Torch")]


@pytest.mark.parametrize("name", _SKOPS_OK)
def test_skops_round_trip_with_our_types_trusted(fitted, name, tmp_path):
    sio = pytest.importorskip("skops.io")
    est = fitted[name]
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    untrusted = sio.get_untrusted_types(file=path)
    # only skntk's own classes need trusting: everything else in them (numpy
    # arrays, scikit-learn objects, dicts, slices) is on skops' default list
    assert untrusted and all(t.startswith("skntk.") for t in untrusted), untrusted
    with pytest.raises(Exception, match="[Uu]ntrusted"):
        sio.load(path)
    loaded = sio.load(path, trusted=untrusted)
    _assert_bit_identical(_outputs(name, loaded), _outputs(name, est))


@pytest.mark.parametrize("name", _SKOPS_NO)
def test_skops_cannot_hold_the_torch_estimators(fitted, name):
    """Documented in docs/distributed.rst: skops has no loader for torch tensors
    and modules, so a torch estimator does not survive dump/load; pickle (from
    trusted sources only) or joblib must be used. If skops gains torch support,
    this test fails and the page must be updated."""
    sio = pytest.importorskip("skops.io")
    with pytest.raises(Exception):  # noqa: B017 - any failure will do, see above
        data = sio.dumps(fitted[name])
        sio.loads(data, trusted=sio.get_untrusted_types(data=data))


# --------------------------------------------------------------------------- #
# A model trained on a GPU loads and predicts on a CPU-only machine
# --------------------------------------------------------------------------- #


def _tensors(obj, seen=None):
    """Every torch tensor reachable from obj (through dicts, lists, modules)."""
    import torch

    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, torch.nn.Module):
        return list(obj.state_dict().values())
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in _tensors(v, seen)]
    if isinstance(obj, (list, tuple)):
        return [t for v in obj for t in _tensors(v, seen)]
    if hasattr(obj, "__dict__") and type(obj).__module__.startswith("skntk"):
        return _tensors(vars(obj), seen)
    return []


@pytest.mark.parametrize("name", ["TorchMLPClassifier", "TorchMLPRegressor"])
def test_cuda_model_predicts_on_a_cpu_only_machine(fitted, name, tmp_path):
    from skntk.nets import DeviceWarning

    est = pickle.loads(pickle.dumps(fitted[name]))
    tensors = _tensors(est)
    assert tensors, "no tensor found in the fitted estimator"
    assert all(t.device.type == "cpu" for t in tensors)
    ref = _outputs(name, est)
    est.set_params(device="cuda")  # as if it had been trained with device="cuda"
    path = tmp_path / "gpu-model.pkl"
    path.write_bytes(pickle.dumps(est))
    import skntk.utils.devices as devices

    original = devices.cuda_available
    devices.cuda_available = lambda: False  # this machine, or any without CUDA
    try:
        with pytest.warns(DeviceWarning, match="CUDA is not available"):
            _assert_bit_identical(_outputs(name, pickle.loads(path.read_bytes())), ref)
        with pytest.raises(ValueError, match="device='cuda'"):  # training needs it
            pickle.loads(path.read_bytes()).fit(*_factories()[name][1])
    finally:
        devices.cuda_available = original
    # test_same_random_state_same_bits_in_two_fresh_processes also loads such a
    # pickle in a fresh process started with CUDA_VISIBLE_DEVICES=""


# --------------------------------------------------------------------------- #
# Determinism: two fresh processes, the same bits
# --------------------------------------------------------------------------- #

_DETERMINISM_SCRIPT = textwrap.dedent("""
    import hashlib, json, pickle, sys, warnings
    sys.path.insert(0, {tests!r})
    import numpy as np
    import test_persistence as tp

    out_dir, load_dir, torch_threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if torch_threads:
        import torch
        torch.set_num_threads(torch_threads)
    digests, loaded, gpu = {{}}, {{}}, {{}}
    for name, est in tp._fitted().items():
        outs = tp._outputs(name, est)
        digests[name] = {{m: hashlib.sha256(v.tobytes()).hexdigest()
                         for m, v in outs.items()}}
        with open(f"{{out_dir}}/{{name}}.pkl", "wb") as fh:
            pickle.dump(est, fh)
        if load_dir != "-":
            with open(f"{{load_dir}}/{{name}}.pkl", "rb") as fh:
                other = pickle.load(fh)
            loaded[name] = {{m: hashlib.sha256(v.tobytes()).hexdigest()
                            for m, v in tp._outputs(name, other).items()}}
            try:
                fh = open(f"{{load_dir}}/gpu-{{name}}.pkl", "rb")
            except FileNotFoundError:
                continue
            with fh, warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                other = pickle.load(fh)
                gpu[name] = {{m: hashlib.sha256(v.tobytes()).hexdigest()
                             for m, v in tp._outputs(name, other).items()}}
            gpu[name]["warnings"] = sorted({{type(w.message).__name__ for w in caught}})
    print(json.dumps({{"fit": digests, "loaded": loaded, "gpu": gpu}}))
""")


def _run_fresh(out_dir, load_dir="-", env=None, torch_threads=0):
    tests = os.path.dirname(os.path.abspath(__file__))
    code = _DETERMINISM_SCRIPT.format(tests=tests)
    res = subprocess.run([sys.executable, "-c", code, str(out_dir), str(load_dir),
                          str(torch_threads)],
                         capture_output=True, text=True, timeout=300,
                         env={**os.environ, **(env or {})})
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_same_random_state_same_bits_in_two_fresh_processes(tmp_path):
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    a_dir.mkdir()
    b_dir.mkdir()
    a = _run_fresh(a_dir)
    # models "trained on a GPU": their device is "cuda" (this machine has none)
    fitted = _fitted()
    torch_names = [n for n in NAMES if n.startswith("Torch")]
    for name in torch_names:
        gpu_model = pickle.loads(pickle.dumps(fitted[name])).set_params(device="cuda")
        (a_dir / f"gpu-{name}.pkl").write_bytes(pickle.dumps(gpu_model))
    # the second process runs with another torch thread count and hash seed,
    # and without CUDA. (Not another OMP_NUM_THREADS: that also changes
    # OpenBLAS's threads, whose triangular solve rounds differently with 1 and
    # 2 threads on some CPUs -- scikit-learn's own GaussianProcessRegressor std
    # differs in the last bit there too -- so the bits would test OpenBLAS.)
    b = _run_fresh(b_dir, load_dir=a_dir, torch_threads=1,
                   env={"PYTHONHASHSEED": "123", "CUDA_VISIBLE_DEVICES": ""})
    assert set(a["fit"]) == set(NAMES)
    assert a["fit"] == b["fit"]
    # a pickle written by process a predicts the same bits in process b
    assert b["loaded"] == a["fit"]
    # and in this process too
    here = {name: {m: hashlib.sha256(v.tobytes()).hexdigest()
                   for m, v in _outputs(name, est).items()}
            for name, est in fitted.items()}
    assert here == a["fit"]
    # the "GPU" pickles predict on the CPU with a DeviceWarning, same bits
    assert set(b["gpu"]) == set(torch_names)
    for name in torch_names:
        assert "DeviceWarning" in b["gpu"][name].pop("warnings")
        assert b["gpu"][name] == a["fit"][name]


def test_the_seed_matters():
    """The digests above are not trivially equal: another random_state gives
    another model for every seeded estimator."""
    base = _fitted()
    for name, (est, args) in _factories().items():
        if not (name.startswith(("Torch", "Empirical")) or "nystrom" in name):
            continue  # the others have no randomness (or, GPR, none used here)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            other = est.set_params(random_state=99).fit(*args)
        a, b = _outputs(name, base[name]), _outputs(name, other)
        assert any(not np.array_equal(a[m], b[m]) for m in a), name


def test_pickle_of_an_unfitted_estimator_and_of_the_kernel():
    for est in (NTKClassifier(alpha=0.3, depth=4), TorchMLPRegressor((5, 5)),
                EmpiricalNTKFeatures((3, 2)), ReluNTK(depth=3, w_std=1.2, b_std=0.4)):
        loaded = pickle.loads(pickle.dumps(est))
        assert repr(loaded) == repr(est)
        assert loaded.get_params() == est.get_params()
    k = ReluNTK(depth=3, w_std=1.2, b_std=0.4)
    k2 = pickle.loads(pickle.dumps(k))
    assert_array_equal(k2(X, X_TEST), k(X, X_TEST))
    buf = io.BytesIO()
    joblib.dump(k, buf)
    buf.seek(0)
    assert_array_equal(joblib.load(buf).diag(X), k.diag(X))
