"""An API fuzzer: every public estimator, driven through its whole API by
hypothesis with odd shapes, dtypes, values, labels and parameters at their
bounds.

The contract checked on every call (fit, predict, transform, decision_function,
predict_proba, partial_fit, score, set_params + refit):

* it succeeds with finite output of the documented shape and dtype (class
  predictions among ``classes_``, probabilities in [0, 1] summing to one), or
* it raises ``ValueError``, ``TypeError`` or ``NotFittedError`` (or a subclass,
  e.g. scikit-learn's ``InvalidParameterError``) whose message names the
  argument or the fix (a parameter of the estimator, X, y, sample_weight,
  classes, features, NaN, ...), never a bare error from deep inside numpy;
* the arrays passed (numpy or pandas) are never modified.

Cases (drawn independently, per example):

================  ===========================================================
axis              values
================  ===========================================================
shape             1 to 12 rows, 1 to 15 features (so 1 row, 1 feature and
                  more features than rows are all drawn)
X dtype           float16, float32, float64, int32, int64, bool, object
                  (floats in an object array), pandas Float64 / Int64
                  (nullable: NaN becomes ``pd.NA``)
X values          normal, zeros, tiny (1e-160 scale), huge (1e150 scale), one
                  NaN, one inf, duplicated rows, a constant column
labels            ints {0, 1}, negative ints, strings, bools, one class, a
                  class with one sample; regression targets take the value
                  kinds of X (NaN, inf, huge, ...)
sample_weight     none, ones, positive, with zeros, with a negative (where
                  ``fit`` takes it)
parameters        per estimator, at their bounds (alpha 0 and 1e12, w_std 0,
                  depth 1 and 5, n_components 1, training_time 0 and inf,
                  max_iter 1, batch_size 1, early_stopping, one-unit nets,
                  train_steps, working_memory tiny, ...)
calls             fit; predict / predict_proba / decision_function /
                  transform / score on X and on X with a feature missing;
                  partial_fit twice; set_params with new parameters + refit
================  ===========================================================

Profiles: under ``CI=true`` (derandomised, as tests/conftest.py's "ci")
``CI_EXAMPLES`` examples per estimator; ``SKNTK_FUZZ=long`` runs
``LONG_EXAMPLES`` per estimator, randomised unless CI is also set.

Defects found outside ``skntk.empirical`` are not fixed here: each one is an
entry of ``KNOWN`` below, which excludes exactly the inputs that trigger it,
so that the CI profile passes and the entry can be deleted with the fix.
"""

import copy
import inspect
import os
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin, is_classifier, is_regressor
from sklearn.exceptions import NotFittedError

import skntk

CI_EXAMPLES = 50
LONG_EXAMPLES = 600
LONG = os.environ.get("SKNTK_FUZZ") == "long"

# --------------------------------------------------------------------------
# KNOWN defects outside skntk.empirical (one entry per defect): the inputs
# that trigger each are skipped until it is fixed. Each entry: name ->
# predicate(case, stage) that is True for the inputs it covers, where stage is
# "all" (the whole example) or "after a failed fit" (only the calls made after
# fit raised). ``case`` is the dict drawn by ``cases`` (cls, n, d, x_dtype,
# x_values, labels, y_values, weights, params, params2, ...). Delete an entry
# with its fix.


KNOWN = {}
# --------------------------------------------------------------------------

ALLOWED = (ValueError, TypeError, NotFittedError)
# words of which a useful message names at least one (besides the parameters)
FIX_WORDS = ("X", "y", "sample_weight", "sample", "feature", "class", "label",
             "target", "NaN", "nan", "inf", "dtype", "input", "fit", "shape",
             "SKNTK_MAX_MEMORY", "Gram", "kernel")


def _public_estimator_classes():
    return [obj for name in skntk.__all__
            if inspect.isclass(obj := getattr(skntk, name))
            and issubclass(obj, BaseEstimator)]


# --------------------------------------------------------------------------
# parameters at their bounds, small enough to be fast
def _ridge_params(cls):
    return st.fixed_dictionaries({
        "alpha": st.sampled_from([0.0, 1e-12, 1.0, 1e12]),
        "kernel": st.sampled_from(["ntk", "nngp"]),
        "depth": st.sampled_from([1, 2, 5]),
        "w_std": st.sampled_from([0.0, 1.0, 1e3]),
        "b_std": st.sampled_from([0.0, 0.5]),
        "solver": st.sampled_from(["auto", "cholesky", "eigh", "nystrom"]),
        "n_components": st.sampled_from([1, 5]),
        "training_time": st.sampled_from([None, 0.0, 1.0, np.inf]),
        "dtype": st.sampled_from([None, "float32"]),
        "random_state": st.just(0),
    })


def _ridge_cv_params(cls):
    return st.fixed_dictionaries({
        "alphas": st.sampled_from([(1e-3, 1.0), (1e-12,), (1e12,)]),
        "training_times": st.sampled_from([None, (0.0, np.inf)]),
        "kernel": st.sampled_from(["ntk", "nngp"]),
        "depth": st.sampled_from([1, 5]),
        "w_std": st.sampled_from([0.0, 1.0]),
        "b_std": st.sampled_from([0.0, 0.5]),
    })


def _mlp_params(cls):
    return st.fixed_dictionaries({
        "hidden_layer_sizes": st.sampled_from([(1,), (4,), (3, 2)]),
        "activation": st.sampled_from(["relu", "tanh", "logistic", "identity", "erf",
                                       "gelu", "leaky_relu", "abs"]),
        "parameterization": st.sampled_from(["standard", "ntk"]),
        "optimizer": st.sampled_from(["sgd", "adam"]),
        "learning_rate_init": st.sampled_from([1e-3, 1.0]),
        "batch_size": st.sampled_from(["auto", 1]),
        "max_iter": st.sampled_from([1, 3]),
        "early_stopping": st.booleans(),
        "validation_fraction": st.sampled_from([0.1, 0.5]),
        "n_iter_no_change": st.sampled_from([1, 2]),
        "dtype": st.sampled_from(["float32", "float64"]),
        "random_state": st.just(0),
    })


def _empirical_params(cls):
    return st.fixed_dictionaries({
        "hidden_layer_sizes": st.sampled_from([(1, 1), (3, 2)]),
        "layers": st.sampled_from([("W", "V", "u"), "u", ("V",), ("u", "W")]),
        "activation": st.sampled_from(["relu", "tanh", "gelu", "abs"]),
        "parameterization": st.sampled_from(["ntk", "standard"]),
        "n_components": st.sampled_from([None, 1, 2]),
        "train_steps": st.sampled_from([0, 2]),
        "loss": st.sampled_from(["squared_error", "log_loss"]),
        "learning_rate": st.sampled_from([1e-3, 1.0, 1.99]),
        "working_memory": st.sampled_from([None, 1e-4]),
        "random_state": st.just(0),
    })


PARAMS = {
    "NTKRegressor": _ridge_params, "NTKClassifier": _ridge_params,
    "NTKRegressorCV": _ridge_cv_params, "NTKClassifierCV": _ridge_cv_params,
    "TorchMLPRegressor": _mlp_params, "TorchMLPClassifier": _mlp_params,
    "EmpiricalNTKFeatures": _empirical_params,
}


# --------------------------------------------------------------------------
# data
X_DTYPES = ["float16", "float32", "float64", "int32", "int64", "bool", "object",
            "Float64", "Int64"]
VALUES = ["normal", "zeros", "tiny", "huge", "nan", "inf", "duplicates",
          "constant_column"]
LABELS = ["binary", "negative", "strings", "bools", "one_class", "singleton"]
WEIGHTS = [None, "ones", "positive", "zeros", "negative"]


def _values(rng, kind, shape):
    A = rng.standard_normal(shape)
    if kind == "zeros":
        A[:] = 0.0
    elif kind == "tiny":
        A *= 1e-160
    elif kind == "huge":
        A *= 1e150
    elif kind in ("nan", "inf"):
        A.flat[rng.integers(A.size)] = np.nan if kind == "nan" else np.inf
    elif kind == "duplicates" and shape[0] > 1:
        A[1:] = A[0]
    elif kind == "constant_column" and len(shape) == 2:
        A[:, 0] = 3.0
    return A


def _as_dtype(A, dtype):
    """The float array ``A`` in ``dtype`` (numpy or a pandas nullable frame)."""
    if dtype in ("Float64", "Int64"):
        frame = pd.DataFrame(A, columns=[f"c{j}" for j in range(A.shape[1])])
        if dtype == "Int64":
            frame = frame.where(np.isfinite(frame), np.nan)
            frame = frame.clip(-1e9, 1e9).round()
        return frame.astype(dtype)
    if dtype == "bool":
        return A > 0
    if dtype == "object":
        return A.astype(object)
    if dtype.startswith("int"):
        with np.errstate(invalid="ignore"):
            return np.nan_to_num(np.round(A), posinf=1e9, neginf=-1e9).clip(
                -1e9, 1e9).astype(dtype)
    with np.errstate(over="ignore"):
        return A.astype(dtype)


def _labels(rng, kind, n):
    if kind == "one_class":
        return np.full(n, 7)
    if kind == "singleton":  # a class with one sample (the others share two)
        return np.array([5] + [i % 2 for i in range(n - 1)])
    y = np.arange(n) % 2
    rng.shuffle(y)
    if kind == "negative":
        return np.where(y == 1, -1, -5)
    if kind == "strings":
        return np.array(["cat", "dog"])[y]
    if kind == "bools":
        return y.astype(bool)
    return y


@st.composite
def cases(draw, cls):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(1, 12))
    d = draw(st.integers(1, 15))
    case = {
        "cls": cls.__name__, "n": n, "d": d,
        "x_dtype": draw(st.sampled_from(X_DTYPES)),
        "x_values": draw(st.sampled_from(VALUES)),
        "labels": draw(st.sampled_from(LABELS)),
        "y_values": draw(st.sampled_from(VALUES)),
        "weights": draw(st.sampled_from(WEIGHTS)),
        "params": draw(PARAMS[cls.__name__](cls)),
        "params2": draw(PARAMS[cls.__name__](cls)),
        "pandas_y": draw(st.booleans()),
    }
    X = _as_dtype(_values(rng, case["x_values"], (n, d)), case["x_dtype"])
    classification = issubclass(cls, ClassifierMixin) or (
        cls.__name__ == "EmpiricalNTKFeatures" and case["params"]["loss"] == "log_loss")
    y = (_labels(rng, case["labels"], n) if classification
         else _values(rng, case["y_values"], (n,)))
    if case["pandas_y"]:
        y = pd.Series(y, name="target")
    w = case["weights"]
    sw = None if w is None else {
        "ones": np.ones(n), "positive": rng.uniform(0.1, 3.0, n),
        "zeros": np.where(np.arange(n) % 2 == 0, 0.0, 1.0),
        "negative": np.where(np.arange(n) == 0, -1.0, 1.0)}[w]
    case.update(X=X, y=y, sample_weight=sw, classification=classification)
    return case


# --------------------------------------------------------------------------
# the contract
def _snapshot(obj):
    return copy.deepcopy(obj)


def _assert_unchanged(before, after, what):
    if isinstance(before, (pd.DataFrame, pd.Series)):
        assert before.dtypes.equals(after.dtypes) if isinstance(
            before, pd.DataFrame) else before.dtype == after.dtype, what
        assert before.equals(after), f"{what} was modified"
    elif before is not None:
        assert before.dtype == after.dtype and before.shape == after.shape, what
        if before.dtype == object:  # NaN != NaN element by element
            missing = pd.isna(before)
            assert np.array_equal(missing, pd.isna(after)), f"{what} was modified"
            before, after = before[~missing], after[~missing]
        np.testing.assert_array_equal(before, after, err_msg=f"{what} was modified")


def _assert_names_the_fix(err, est, call):
    msg = str(err)
    words = set(est.get_params()) | set(FIX_WORDS)
    # as a word ("X", "y" exactly; "Sample weights" names sample_weight too)
    assert any(re.search(rf"(?<![A-Za-z_]){re.escape(word)}(?![a-z_])", msg,
                         re.IGNORECASE if len(word) > 1 else 0)
               for word in words), (
        f"{call} raised {type(err).__name__} without naming the argument or "
        f"the fix: {msg!r}")


class _Call:
    """Runs one call under the contract; ``ok`` says whether it returned."""

    def __init__(self, est, case):
        self.est, self.case = est, case

    def __call__(self, name, *args, **kwargs):
        before = [_snapshot(a) for a in args] + [_snapshot(v) for v in kwargs.values()]
        try:
            out = getattr(self.est, name)(*args, **kwargs)
        except ALLOWED as err:
            _assert_names_the_fix(err, self.est, name)
            out = err
        except Exception as err:  # anything else breaks the contract
            raise AssertionError(
                f"{name} raised {type(err).__name__}: {err}") from err
        after = list(args) + list(kwargs.values())
        for i, (b, a) in enumerate(zip(before, after)):
            _assert_unchanged(b, a, f"argument {i} of {name}")
        return out


def _finite(out, what):
    arr = np.asarray(out, dtype=np.float64)
    assert np.all(np.isfinite(arr)), f"{what} is not finite: {arr}"


def _r2_defined(y):
    """scikit-learn's R2 (``RegressorMixin.score``) is NaN on one sample,
    -inf when the variance of ``y`` underflows (tiny targets) and when its
    squared residuals overflow (targets of 1e150): its own arithmetic, not
    skntk's, so its finiteness is checked only otherwise (the predictions
    always are)."""
    y = np.asarray(y, dtype=np.float64)
    return (y.size >= 2 and np.max(np.abs(y)) < 1e100
            and (np.ptp(y) == 0 or np.var(y) > 1e-290))


def _check_outputs(call, est, X, y):
    n = X.shape[0]
    if hasattr(est, "predict"):
        out = call("predict", X)
        if not isinstance(out, Exception):
            assert out.shape == (n,), f"predict shape {out.shape}"
            if is_classifier(est):
                assert set(np.unique(out)) <= set(est.classes_), "predict: unknown class"
                np.testing.assert_array_equal(est.classes_, np.unique(np.asarray(y)))
            else:
                assert out.dtype.kind == "f", out.dtype
                _finite(out, "predict")
    if hasattr(est, "predict_proba"):
        out = call("predict_proba", X)
        if not isinstance(out, Exception):
            assert out.shape == (n, len(est.classes_)), out.shape
            _finite(out, "predict_proba")
            assert np.all((out >= 0) & (out <= 1))
            np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    if hasattr(est, "decision_function"):
        out = call("decision_function", X)
        if not isinstance(out, Exception):
            k = len(est.classes_)
            assert out.shape == ((n,) if k <= 2 else (n, k)), out.shape
            _finite(out, "decision_function")
    if hasattr(est, "transform"):
        out = call("transform", X)
        if not isinstance(out, Exception):
            assert out.shape == (n, est.n_features_out_), out.shape
            want = np.float32 if np.asarray(X).dtype == np.float32 else np.float64
            assert out.dtype == want, (out.dtype, np.asarray(X).dtype)
            _finite(out, "transform")
    if hasattr(est, "score") and (is_classifier(est) or is_regressor(est)):
        out = call("score", X, y)
        if not isinstance(out, Exception) and (is_classifier(est) or _r2_defined(y)):
            _finite(out, "score")
    if X.shape[1] > 1:  # a feature missing: a ValueError naming the features
        X_short = X.iloc[:, :-1] if isinstance(X, pd.DataFrame) else X[:, :-1]
        for method in ("predict", "transform"):
            if hasattr(est, method):
                with pytest.raises(ValueError, match="feature"):
                    getattr(est, method)(X_short)


def _fit(call, est, case):
    X, y, sw = case["X"], case["y"], case["sample_weight"]
    kwargs = {}
    if sw is not None and "sample_weight" in inspect.signature(est.fit).parameters:
        kwargs["sample_weight"] = sw
    if isinstance(est, skntk.EmpiricalNTKFeatures) and est.train_steps == 0:
        return call("fit", X, **kwargs)
    return call("fit", X, y, **kwargs)


def _known(case, stage):
    """The KNOWN defect that excludes ``case`` at ``stage``, or None."""
    return next((name for name, applies in KNOWN.items()
                 if applies(case, stage)), None)


def _run(case):
    """Run one example; True if it ran, False if a KNOWN defect excluded it."""
    if _known(case, "all"):
        return False
    cls = getattr(skntk, case["cls"])
    est = cls(**case["params"])
    call = _Call(est, case)
    X, y = case["X"], case["y"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = _fit(call, est, case)
        if isinstance(fitted, Exception):
            # after a failed fit: an error under the contract too (not
            # necessarily NotFittedError: validate_data sets n_features_in_
            # before the fit fails, as in scikit-learn)
            if not _known(case, "after a failed fit"):
                for method in ("predict", "transform"):
                    if hasattr(est, method):
                        out = call(method, X)
                        assert isinstance(out, Exception), f"{method} after a failed fit"
        else:
            assert fitted is est, "fit must return self"
            _check_outputs(call, est, X, y)
        if hasattr(est, "partial_fit"):
            est2 = cls(**case["params"])
            call2 = _Call(est2, case)
            kw = {"classes": np.unique(np.asarray(y))} if is_classifier(est2) else {}
            for _ in range(2):
                out = call2("partial_fit", X, y, **kw)
                if isinstance(out, Exception):
                    break
            else:
                _check_outputs(call2, est2, X, y)
        est.set_params(**case["params2"])
        if not isinstance(_fit(call, est, case), Exception):
            _check_outputs(call, est, X, y)
    return True


def _settings():
    if LONG:
        return settings(max_examples=LONG_EXAMPLES, deadline=None,
                        derandomize=bool(os.environ.get("CI")),
                        suppress_health_check=list(HealthCheck))
    return settings(max_examples=CI_EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("cls", _public_estimator_classes(), ids=lambda c: c.__name__)
def test_api_contract(cls):
    assert cls.__name__ in PARAMS, f"no fuzzer parameters for {cls.__name__}"

    ran = []

    @_settings()
    @given(case=cases(cls))
    def fuzz(case):
        ran.append(_run(case))

    fuzz()
    # shown with pytest -s: the figures of a run
    print(f"\n{cls.__name__}: {len(ran)} examples, {ran.count(False)} excluded "
          "by KNOWN")


def test_every_public_estimator_is_fuzzed():
    names = {cls.__name__ for cls in _public_estimator_classes()}
    assert names == set(PARAMS), names ^ set(PARAMS)
    assert len(names) >= 7


# --------------------------------------------------------------------------
# the contract itself catches what it must (dummy estimators that break it)
class _Breaks(BaseEstimator):
    def __init__(self, how="mutate"):
        self.how = how

    def fit(self, X, y=None):
        if self.how == "mutate":
            X[0, 0] = 1.0
        elif self.how == "mutate_frame":
            X.iloc[0, 0] = 1.0
        elif self.how == "deep":
            raise IndexError("index 3 is out of bounds for axis 0 with size 3")
        elif self.how == "vague":
            raise ValueError("operands could not be broadcast together")
        elif self.how == "named":
            raise ValueError("how='named' is not supported with these rows")
        return self


@pytest.mark.parametrize("how, X, match", [
    ("mutate", np.zeros((2, 2)), "was modified"),
    ("mutate_frame", pd.DataFrame({"a": [0.0, np.nan]}, dtype="Float64"),
     "was modified"),
    ("deep", np.zeros((2, 2)), "raised IndexError"),
    ("vague", np.zeros((2, 2)), "without naming the argument"),
])
def test_the_contract_catches_a_broken_call(how, X, match):
    with pytest.raises(AssertionError, match=match):
        _Call(_Breaks(how), {})("fit", X)


def test_the_contract_accepts_an_error_naming_the_parameter():
    out = _Call(_Breaks("named"), {})("fit", np.zeros((2, 2)))
    assert isinstance(out, ValueError)
    with pytest.raises(AssertionError, match="not finite"):
        _finite(np.array([1.0, np.inf]), "predict")
