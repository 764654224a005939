"""Reliability: bad input never corrupts or crashes (issue 10).

A table of bad (or merely unusual) inputs is run against every public estimator
and the kernel functions. Each case expects either a clear exception whose
message names the argument at fault, or correct output, checked against an
independent reference: the same estimator fitted on a plain C-contiguous float64
copy of the data (layouts, dtypes, DataFrames, memory maps), exact homogeneity
of the ReLU net and its kernel without biases (inputs scaled by 1e-150 ...
1e150), or the 60-digit mpmath evaluation of the kernel recursion in
``tests/_reference.py`` (nearly parallel rows). Every case also checks that the
user's arrays are unchanged (a fingerprint of their bytes, dtype, shape,
strides and flags before and after).

The kernel-function cases here extend ``tests/test_bad_input.py`` (which covers
the kernel's hyperparameters, NaN, inf, 1-d, empty and sparse input) without
repeating it.
"""

import hashlib
import subprocess
import sys
import textwrap
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.gaussian_process import GaussianProcessRegressor

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
    relu_kernel_diag,
)

pd = pytest.importorskip("pandas")

RNG = np.random.default_rng(10)
X = RNG.standard_normal((24, 4))
X_TEST = RNG.standard_normal((7, 4))
Y_CLS = np.arange(24) % 3
Y_REG = np.sin(X[:, 0]) + 0.5 * X[:, 1]


# --------------------------------------------------------------------------- #
# The estimators, with small but honest settings
# --------------------------------------------------------------------------- #


@dataclass
class Spec:
    make: object
    kind: str  # "classifier", "regressor" or "transformer"
    family: str  # which hyperparameter table applies
    min_samples: int = 1
    sample_weight: bool = False
    supervised: bool = True  # does fit use y
    keeps_float32: bool = False  # float32 in gives float32 out

    def y(self):
        return Y_CLS if self.kind == "classifier" else Y_REG


_TORCH = dict(max_iter=5, n_iter_no_change=np.inf, learning_rate_init=0.01,
              random_state=0)

SPECS = {
    "NTKRegressor": Spec(lambda: NTKRegressor(alpha=1e-2, depth=2, b_std=0.1),
                         "regressor", "ridge", min_samples=2, sample_weight=True),
    "NTKClassifier": Spec(lambda: NTKClassifier(alpha=1e-2, depth=2, b_std=0.1),
                          "classifier", "ridge", min_samples=2, sample_weight=True),
    "NTKRegressor-nystrom": Spec(
        lambda: NTKRegressor(alpha=1e-2, depth=2, solver="nystrom", n_components=10,
                             random_state=0),
        "regressor", "nystrom", min_samples=2, sample_weight=True),
    "NTKRegressorCV": Spec(lambda: NTKRegressorCV(depth=2, b_std=0.1),
                           "regressor", "ridge_cv", min_samples=2),
    "NTKClassifierCV": Spec(lambda: NTKClassifierCV(depth=2, b_std=0.1),
                            "classifier", "ridge_cv", min_samples=2),
    "EmpiricalNTKFeatures": Spec(
        lambda: EmpiricalNTKFeatures((8, 6), random_state=0), "transformer",
        "empirical", supervised=False, keeps_float32=True),
    "EmpiricalNTKFeatures-trained": Spec(
        lambda: EmpiricalNTKFeatures((8, 6), train_steps=2, random_state=0),
        "transformer", "empirical", keeps_float32=True),
    "TorchMLPClassifier": Spec(lambda: TorchMLPClassifier((8,), **_TORCH),
                               "classifier", "torch"),
    "TorchMLPRegressor": Spec(lambda: TorchMLPRegressor((8,), **_TORCH),
                              "regressor", "torch"),
}

_METHODS = ("predict", "predict_proba", "decision_function", "transform")


def _fit(spec, Xf, yf, **kw):
    est = spec.make()
    with warnings.catch_warnings():
        # a 5-epoch net may not have converged; not what these tests are about
        warnings.simplefilter("ignore", category=_convergence_warning())
        return est.fit(Xf, yf, **kw)


def _convergence_warning():
    from sklearn.exceptions import ConvergenceWarning
    return ConvergenceWarning


def _outputs(est, Xp):
    return {m: getattr(est, m)(Xp) for m in _METHODS if hasattr(est, m)}


def _assert_outputs_equal(got, ref):
    assert got.keys() == ref.keys()
    for m in ref:
        assert_array_equal(got[m], ref[m], err_msg=m)


def _assert_outputs_close(got, ref):
    """For a different memory layout of the same numbers: BLAS kernels chosen by
    stride may round differently in the last bit, so floats are compared to
    1e-12 relative (labels exactly)."""
    assert got.keys() == ref.keys()
    for m in ref:
        if ref[m].dtype.kind == "f":
            assert_allclose(got[m], ref[m], rtol=1e-12,
                            atol=1e-14 * max(1.0, np.abs(ref[m]).max()), err_msg=m)
        else:
            assert_array_equal(got[m], ref[m], err_msg=m)


def _assert_finite_outputs(out, n_rows):
    assert out
    for m, value in out.items():
        assert value.shape[0] == n_rows, m
        if value.dtype.kind in "fc":
            assert np.all(np.isfinite(value)), m


# --------------------------------------------------------------------------- #
# The user's arrays are never modified
# --------------------------------------------------------------------------- #


def _fingerprint(obj):
    if obj is None or isinstance(obj, (int, float, str)):
        return repr(obj)
    if sparse.issparse(obj):
        return ("sparse", obj.format, obj.shape, obj.dtype.str,
                *(_digest(getattr(obj, a)) for a in ("data", "indices", "indptr")
                  if hasattr(obj, a)))
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        names = tuple(map(str, obj.columns)) if obj.ndim == 2 else (obj.name,)
        return ("pandas", names, tuple(map(str, np.atleast_1d(obj.dtypes))),
                _digest(pd.util.hash_pandas_object(obj, index=True).to_numpy()))
    if isinstance(obj, list):
        return ("list", repr(obj))
    arr = obj
    return ("ndarray", type(arr).__name__, arr.dtype.str, arr.shape, arr.strides,
            arr.flags.writeable, arr.flags.c_contiguous, arr.flags.f_contiguous,
            _digest(arr))


def _digest(arr):
    arr = np.asarray(arr)
    if arr.dtype.kind == "O":
        return hashlib.sha256(repr(arr.tolist()).encode()).hexdigest()
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()


@contextmanager
def unchanged(*objs):
    before = [_fingerprint(o) for o in objs]
    yield
    after = [_fingerprint(o) for o in objs]
    for i, (b, a) in enumerate(zip(before, after)):
        assert a == b, f"argument {i} was modified in place"


def _expect_fit_error(spec, Xf, yf, exc, match, **kw):
    with unchanged(Xf, yf, *kw.values()):
        with pytest.raises(exc, match=match):
            _fit(spec, Xf, yf, **kw)


def _expect_predict_error(spec, Xp, exc, match):
    est = _fit(spec, X, spec.y())
    for m in _METHODS:
        if hasattr(est, m):
            with unchanged(Xp):
                with pytest.raises(exc, match=match):
                    getattr(est, m)(Xp)


def _expect_same_as_reference(spec, Xf, yf, Xp, X_ref, y_ref, Xp_ref, *, exact=True):
    """Fitting on (Xf, yf) and predicting Xp equals doing it on plain copies
    (bitwise when the layout is the same, else to the last bits)."""
    ref = _outputs(_fit(spec, X_ref, y_ref), Xp_ref)
    with unchanged(Xf, yf, Xp):
        got = _outputs(_fit(spec, Xf, yf), Xp)
    (_assert_outputs_equal if exact else _assert_outputs_close)(got, ref)


# --------------------------------------------------------------------------- #
# The table of cases
# --------------------------------------------------------------------------- #

CASES = {}


def case(applies=lambda spec: True):
    def register(fn):
        CASES[fn.__name__.removeprefix("case_")] = (applies, fn)
        return fn
    return register


def _with(value, index=(3, 1)):
    Xb = X.copy()
    Xb[index] = value
    return Xb


def _supervised(spec):
    return spec.supervised


def _classifier(spec):
    return spec.kind == "classifier"


def _regressor(spec):
    return spec.kind == "regressor" or (spec.kind == "transformer" and spec.supervised)


# ---- X at fit time ------------------------------------------------------------


@case()
def case_fit_X_nan(spec):
    _expect_fit_error(spec, _with(np.nan), spec.y(), ValueError, "Input X contains NaN")


@case()
def case_fit_X_inf(spec):
    _expect_fit_error(spec, _with(np.inf), spec.y(), ValueError,
                      "Input X contains infinity")


@case()
def case_fit_X_minus_inf(spec):
    _expect_fit_error(spec, _with(-np.inf), spec.y(), ValueError,
                      "Input X contains infinity")


@case()
def case_fit_X_empty(spec):
    # scikit-learn's message gives the shape rather than the name
    _expect_fit_error(spec, X[:0], spec.y()[:0], ValueError,
                      r"0 sample\(s\) \(shape=\(0, 4\)\)")


@case()
def case_fit_X_zero_features(spec):
    _expect_fit_error(spec, X[:, :0], spec.y(), ValueError,
                      r"0 feature\(s\) \(shape=\(24, 0\)\)")


@case()
def case_fit_X_1d(spec):
    _expect_fit_error(spec, X[:, 0], spec.y(), ValueError, "Expected 2D array")


@case()
def case_fit_X_3d(spec):
    _expect_fit_error(spec, X[:, :, None], spec.y(), ValueError,
                      "Found array with dim 3")


@case()
def case_fit_X_complex(spec):
    _expect_fit_error(spec, X + 1j, spec.y(), ValueError, "Complex data not supported")


@case()
def case_fit_X_strings(spec):
    _expect_fit_error(spec, X.astype(str).astype(object) + "x", spec.y(), ValueError,
                      "could not convert string to float")


@case()
def case_fit_X_sparse_csr(spec):
    _expect_fit_error(spec, sparse.csr_matrix(X), spec.y(), TypeError,
                      "Sparse data was passed for X")


@case()
def case_fit_X_sparse_coo_array(spec):
    _expect_fit_error(spec, sparse.coo_array(X), spec.y(), TypeError,
                      "Sparse data was passed for X")


@case()
def case_one_sample(spec):
    X1, y1 = X[:1], spec.y()[:1]
    if spec.min_samples > 1:
        _expect_fit_error(spec, X1, y1, ValueError,
                          r"1 sample\(s\) \(shape=\(1, 4\)\) while a minimum of 2")
    elif spec.kind == "classifier":
        _expect_fit_error(spec, X1, y1, ValueError, "at least 2 classes")
    else:
        with unchanged(X1, y1):
            est = _fit(spec, X1, y1)
        _assert_finite_outputs(_outputs(est, X_TEST), len(X_TEST))


@case()
def case_two_samples(spec):
    X2, y2 = X[:2], spec.y()[:2]
    with unchanged(X2, y2), warnings.catch_warnings():
        # nystrom: n_components=10 > 2 samples is clamped with a warning
        warnings.simplefilter("ignore", UserWarning)
        est = _fit(spec, X2, y2)
    _assert_finite_outputs(_outputs(est, X_TEST), len(X_TEST))


# ---- X at predict time ----------------------------------------------------------


@case()
def case_predict_X_nan(spec):
    _expect_predict_error(spec, X_TEST + np.where(np.eye(7, 4) > 0, np.nan, 0),
                          ValueError, "Input X contains NaN")


@case()
def case_predict_X_inf(spec):
    _expect_predict_error(spec, X_TEST + np.where(np.eye(7, 4) > 0, np.inf, 0),
                          ValueError, "Input X contains infinity")


@case()
def case_predict_X_wrong_n_features(spec):
    _expect_predict_error(spec, X_TEST[:, :3], ValueError,
                          r"X has 3 features, but \w+ is expecting 4 features")


@case()
def case_predict_X_more_features(spec):
    _expect_predict_error(spec, np.hstack([X_TEST, X_TEST]), ValueError,
                          r"X has 8 features, but \w+ is expecting 4 features")


@case()
def case_predict_X_empty(spec):
    _expect_predict_error(spec, X_TEST[:0], ValueError, r"0 sample\(s\)")


@case()
def case_predict_X_complex(spec):
    _expect_predict_error(spec, X_TEST + 1j, ValueError, "Complex data not supported")


@case()
def case_predict_X_sparse(spec):
    _expect_predict_error(spec, sparse.csr_matrix(X_TEST), TypeError,
                          "Sparse data was passed for X")


@case()
def case_predict_before_fit(spec):
    from sklearn.exceptions import NotFittedError

    est = spec.make()
    for m in _METHODS:
        if hasattr(est, m):
            with pytest.raises(NotFittedError, match="not fitted yet"):
                getattr(est, m)(X_TEST)


# ---- y ----------------------------------------------------------------------------


@case(_supervised)
def case_y_nan(spec):
    y = spec.y().astype(float)
    y[5] = np.nan
    _expect_fit_error(spec, X, y, ValueError, "Input y contains NaN")


@case(_supervised)
def case_y_inf(spec):
    y = spec.y().astype(float)
    y[5] = np.inf
    _expect_fit_error(spec, X, y, ValueError, "Input y contains infinity")


@case(_supervised)
def case_y_wrong_length(spec):
    _expect_fit_error(spec, X, spec.y()[:-1], ValueError,
                      r"inconsistent numbers of samples: \[24, 23\]")


@case(_supervised)
def case_y_complex(spec):
    _expect_fit_error(spec, X, spec.y() + 1j, ValueError, "Complex data not supported")


@case(_supervised)
def case_y_none(spec):
    _expect_fit_error(spec, X, None, ValueError, "requires y to be passed")


@case(_regressor)
def case_y_strings_for_a_regressor(spec):
    y = np.array(["a", "b", "c"])[Y_CLS]
    # scikit-learn's own message, or ours where it names the loss
    _expect_fit_error(spec, X, y, ValueError,
                      "could not convert string to float|needs numeric targets y")


@case(_classifier)
def case_y_one_class(spec):
    _expect_fit_error(spec, X, np.full(24, 7), ValueError, "at least 2 classes")


@case(_classifier)
def case_y_continuous(spec):
    _expect_fit_error(spec, X, Y_REG, ValueError, "Unknown label type: continuous")


@case(_classifier)
def case_y_mixed_str_and_int(spec):
    y = np.array([0, "a", 1] * 8, dtype=object)
    _expect_fit_error(spec, X, y, ValueError, "Unknown label type|Mix type of y")


def _labels_case(spec, labels):
    """Labels of any sortable type give the same model as the codes 0..k-1."""
    y = labels[Y_CLS]
    ref = _fit(spec, X, Y_CLS)
    with unchanged(y):
        est = _fit(spec, X, y)
    assert_array_equal(est.classes_, labels)
    assert_array_equal(est.predict(X_TEST), labels[ref.predict(X_TEST)])
    for m in ("predict_proba", "decision_function"):
        if hasattr(est, m):
            assert_array_equal(getattr(est, m)(X_TEST), getattr(ref, m)(X_TEST))


@case(_classifier)
def case_y_string_labels(spec):
    _labels_case(spec, np.array(["ant", "bee", "cat"]))


@case(_classifier)
def case_y_object_labels(spec):
    _labels_case(spec, np.array(["ant", "bee", "cat"], dtype=object))


@case(_classifier)
def case_y_negative_float_labels(spec):
    _labels_case(spec, np.array([-2.0, 0.0, 7.0]))


@case(_classifier)
def case_y_bool_labels(spec):
    y = Y_CLS > 0
    ref = _fit(spec, X, (Y_CLS > 0).astype(int))
    with unchanged(y):
        est = _fit(spec, X, y)
    assert_array_equal(est.classes_, [False, True])
    assert_array_equal(est.predict(X_TEST), ref.predict(X_TEST).astype(bool))


# ---- sample_weight ------------------------------------------------------------------


@case(lambda spec: spec.sample_weight)
def case_sample_weight_negative(spec):
    sw = np.ones(24)
    sw[2] = -1.0
    _expect_fit_error(spec, X, spec.y(), ValueError,
                      "Negative values in data passed to `sample_weight`",
                      sample_weight=sw)


@case(lambda spec: spec.sample_weight)
def case_sample_weight_nan(spec):
    sw = np.ones(24)
    sw[2] = np.nan
    _expect_fit_error(spec, X, spec.y(), ValueError, "sample_weight", sample_weight=sw)


@case(lambda spec: spec.sample_weight)
def case_sample_weight_wrong_length(spec):
    _expect_fit_error(spec, X, spec.y(), ValueError, r"sample_weight.shape == \(23,\)",
                      sample_weight=np.ones(23))


@case(lambda spec: spec.sample_weight)
def case_sample_weight_read_only(spec):
    sw = np.linspace(0.5, 2.0, 24)
    sw.setflags(write=False)
    ref = _outputs(_fit(spec, X, spec.y(), sample_weight=sw.copy()), X_TEST)
    with unchanged(sw):
        got = _outputs(_fit(spec, X, spec.y(), sample_weight=sw), X_TEST)
    _assert_outputs_equal(got, ref)


# ---- layouts and dtypes: the same answer as a plain float64 copy -----------------


@case()
def case_read_only_memmap(spec):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "X.dat"
        mm = np.memmap(path, dtype=np.float64, mode="w+", shape=X.shape)
        mm[:] = X
        mm.flush()
        del mm
        Xm = np.memmap(path, dtype=np.float64, mode="r", shape=X.shape)
        ypath = Path(tmp) / "y.npy"
        np.save(ypath, spec.y())
        ym = np.load(ypath, mmap_mode="r")
        file_before = path.read_bytes()
        _expect_same_as_reference(spec, Xm, ym, Xm[:7], X, spec.y(), X[:7])
        assert path.read_bytes() == file_before
        del Xm, ym


@case()
def case_read_only_array(spec):
    Xr, yr = X.copy(), spec.y().copy()
    Xr.setflags(write=False)
    yr.setflags(write=False)
    _expect_same_as_reference(spec, Xr, yr, Xr, X, spec.y(), X)


@case()
def case_fortran_order(spec):
    _expect_same_as_reference(spec, np.asfortranarray(X), spec.y(),
                              np.asfortranarray(X_TEST), X, spec.y(), X_TEST,
                              exact=False)


@case()
def case_non_contiguous(spec):
    big = np.zeros((48, 12))
    big[::2, ::3] = X
    ybig = np.repeat(spec.y(), 2)
    Xs, ys = big[::2, ::3], ybig[::2]
    assert not Xs.flags.c_contiguous and not ys.flags.c_contiguous
    tbig = np.zeros((7, 8))
    tbig[:, ::2] = X_TEST
    _expect_same_as_reference(spec, Xs, ys, tbig[:, ::2], X, spec.y(), X_TEST,
                              exact=False)


@case()
def case_negative_strides(spec):
    Xr = X[::-1, ::-1]
    _expect_same_as_reference(spec, Xr, spec.y()[::-1], X_TEST[:, ::-1],
                              np.ascontiguousarray(Xr), spec.y()[::-1].copy(),
                              np.ascontiguousarray(X_TEST[:, ::-1]), exact=False)


@case()
def case_float16(spec):
    X16, T16 = X.astype(np.float16), X_TEST.astype(np.float16)
    ref = _outputs(_fit(spec, X16.astype(np.float64), spec.y()), T16.astype(np.float64))
    with unchanged(X16, T16):
        got = _outputs(_fit(spec, X16, spec.y()), T16)
    _assert_outputs_equal(got, ref)


@case()
def case_int_X(spec):
    Xi, Ti = np.round(3 * X).astype(np.int32), np.round(3 * X_TEST).astype(np.int64)
    ref = _outputs(_fit(spec, Xi.astype(np.float64), spec.y()), Ti.astype(np.float64))
    with unchanged(Xi, Ti):
        got = _outputs(_fit(spec, Xi, spec.y()), Ti)
    _assert_outputs_equal(got, ref)


@case()
def case_bool_X(spec):
    Xb, Tb = X > 0, X_TEST > 0
    ref = _outputs(_fit(spec, Xb.astype(np.float64), spec.y()), Tb.astype(np.float64))
    with unchanged(Xb, Tb):
        got = _outputs(_fit(spec, Xb, spec.y()), Tb)
    _assert_outputs_equal(got, ref)


@case()
def case_float32(spec):
    X32, T32 = X.astype(np.float32), X_TEST.astype(np.float32)
    ref = _outputs(_fit(spec, X32.astype(np.float64), spec.y()), T32.astype(np.float64))
    with unchanged(X32, T32):
        got = _outputs(_fit(spec, X32, spec.y()), T32)
    if spec.keeps_float32:
        for m in ref:
            assert got[m].dtype == np.float32
            assert_allclose(got[m], ref[m], rtol=1e-4, atol=1e-5 * np.abs(ref[m]).max())
    else:  # the float32 values, widened exactly
        _assert_outputs_equal(got, ref)


@case()
def case_python_lists(spec):
    ref = _outputs(_fit(spec, X, spec.y()), X_TEST)
    got = _outputs(_fit(spec, X.tolist(), spec.y().tolist()), X_TEST.tolist())
    _assert_outputs_equal(got, ref)


@case()
def case_pandas_dataframe(spec):
    cols = ["alpha", "beta", "gamma", "delta"]
    df = pd.DataFrame(X, columns=cols)
    df_test = pd.DataFrame(X_TEST, columns=cols)
    ys = pd.Series(spec.y(), name="target")
    ref = _outputs(_fit(spec, X, spec.y()), X_TEST)
    with unchanged(df, ys, df_test):
        est = _fit(spec, df, ys)
        got = _outputs(est, df_test)
    assert_array_equal(est.feature_names_in_, cols)
    assert est.n_features_in_ == 4
    _assert_outputs_close(got, ref)  # a DataFrame's values are in Fortran order
    renamed = df_test.rename(columns={"beta": "BETA"})
    with pytest.raises(ValueError, match="feature names"):
        _outputs(est, renamed)
    reordered = df_test[cols[::-1]]
    with pytest.raises(ValueError, match="feature names"):
        _outputs(est, reordered)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        _assert_outputs_close(_outputs(est, X_TEST), ref)


@case()
def case_pandas_mixed_dtypes(spec):
    df = pd.DataFrame({"a": X[:, 0], "b": X[:, 1].astype(np.float32),
                       "c": np.round(X[:, 2] * 3).astype(int), "d": X[:, 3] > 0})
    ref_X = df.to_numpy(dtype=np.float64)
    with unchanged(df):
        est = _fit(spec, df, spec.y())
        got = _outputs(est, df)
    _assert_outputs_close(got, _outputs(_fit(spec, ref_X, spec.y()), ref_X))


@case()
def case_pandas_nullable_with_missing(spec):
    df = pd.DataFrame(X, columns=list("abcd")).astype("Float64")
    df.iloc[2, 1] = pd.NA
    _expect_fit_error(spec, df, spec.y(), ValueError, "Input X contains NaN")


@case()
def case_constant_and_zero_rows(spec):
    Xz = X.copy()
    Xz[:3] = 0.0  # rows of norm 0: angle pi / 2 in the kernel, dead units in the net
    Xz[:, 2] = 1.0  # a constant feature
    with unchanged(Xz):
        est = _fit(spec, Xz, spec.y())
    _assert_finite_outputs(_outputs(est, Xz), len(Xz))


@case()
def case_exactly_duplicated_rows(spec):
    Xd = np.vstack([X, X[:12]])
    yd = np.concatenate([spec.y(), spec.y()[:12]])
    with unchanged(Xd, yd):
        est = _fit(spec, Xd, yd)
    out = _outputs(est, Xd)
    _assert_finite_outputs(out, len(Xd))
    for m, value in out.items():  # a row and its copy get the same output
        assert_allclose(value[24:], value[:12], rtol=1e-12, atol=1e-12, err_msg=m)


# --------------------------------------------------------------------------- #
# Absurd hyperparameters: a clear error naming the parameter
# --------------------------------------------------------------------------- #

HYPER = {
    "ridge": [
        (dict(depth=0), "depth"), (dict(depth=-3), "depth"), (dict(depth=2.5), "depth"),
        (dict(depth="2"), "depth"), (dict(alpha=-1.0), "alpha"),
        (dict(alpha=np.nan), "alpha"), (dict(alpha=np.inf), "alpha"),
        (dict(w_std=np.inf), "w_std"), (dict(w_std=-1.0), "w_std"),
        (dict(w_std=np.nan), "w_std"), (dict(b_std=-0.5), "b_std"),
        (dict(b_std=np.inf), "b_std"), (dict(kernel="rbf"), "kernel"),
        (dict(solver="lu"), "solver"), (dict(training_time=-1.0), "training_time"),
        (dict(training_time=np.nan), "training_time"),
        (dict(w_std=1e200), "w_std"), (dict(b_std=1e200), "b_std"),
    ],
    "nystrom": [
        (dict(n_components=0), "n_components"),
        (dict(n_components=2.5), "n_components"),
        (dict(random_state="seed"), "random_state"), (dict(depth=0), "depth"),
        (dict(alpha=-1.0), "alpha"), (dict(w_std=np.inf), "w_std"),
        (dict(w_std=1e200), "w_std"),
    ],
    "ridge_cv": [
        (dict(depth=0), "depth"), (dict(depth=2.5), "depth"),
        (dict(alphas=[-1.0, 1.0]), "alphas"), (dict(alphas=[0.0, 1.0]), "alphas"),
        (dict(alphas=[]), "alphas"), (dict(alphas=[np.inf]), "alphas"),
        (dict(alphas=[np.nan, 1.0]), "alphas"), (dict(alphas=[[1.0, 2.0]]), "alphas"),
        (dict(w_std=np.inf), "w_std"), (dict(w_std=-1.0), "w_std"),
        (dict(b_std=np.nan), "b_std"), (dict(kernel="rbf"), "kernel"),
        (dict(w_std=1e200), "w_std"),
    ],
    "empirical": [
        (dict(hidden_layer_sizes=(0, 4)), "hidden_layer_sizes"),
        (dict(hidden_layer_sizes=(4,)), "hidden_layer_sizes"),
        (dict(hidden_layer_sizes=(4, 4, 4)), "hidden_layer_sizes"),
        (dict(hidden_layer_sizes=(-1, 4)), "hidden_layer_sizes"),
        (dict(hidden_layer_sizes=(4.5, 4)), "hidden_layer_sizes"),
        (dict(layers=("X",)), "layers"), (dict(layers=()), "layers"),
        (dict(layers=("W", "W")), "layers"), (dict(parameterization="mup"),
                                               "parameterization"),
        (dict(n_components=0), "n_components"), (dict(n_components=10**9),
                                                 "n_components"),
        (dict(train_steps=-1), "train_steps"),
        (dict(learning_rate=-1.0), "learning_rate"),
        (dict(learning_rate=0.0), "learning_rate"), (dict(loss="hinge"), "loss"),
        (dict(working_memory=0), "working_memory"),
        (dict(working_memory=-5.0), "working_memory"), (dict(device="tpu:7"), "device"),
        (dict(init_params={"W": np.full((8, 4), np.inf)}), "init_params"),
        (dict(init_params={"V": np.ones((2, 2))}), "init_params"),
        (dict(train_steps=3, learning_rate=1e12), "learning_rate"),
    ],
    "torch": [
        (dict(hidden_layer_sizes=(0,)), "hidden_layer_sizes"),
        (dict(hidden_layer_sizes=(-3,)), "hidden_layer_sizes"),
        (dict(hidden_layer_sizes=(8, 2.5)), "hidden_layer_sizes"),
        (dict(hidden_layer_sizes="wide"), "hidden_layer_sizes"),
        (dict(learning_rate_init=0.0), "learning_rate_init"),
        (dict(learning_rate_init=-0.1), "learning_rate_init"),
        (dict(learning_rate_init=np.inf), "learning_rate_init"),
        (dict(learning_rate_init=1e12, optimizer="sgd"), "learning_rate_init"),
        (dict(w_std=np.inf), "w_std"), (dict(w_std=-1.0), "w_std"),
        (dict(b_std=np.nan), "b_std"), (dict(batch_size=0), "batch_size"),
        (dict(max_iter=0), "max_iter"),
        (dict(early_stopping=True, validation_fraction=1.5), "validation_fraction"),
        (dict(n_iter_no_change=0), "n_iter_no_change"), (dict(tol=-1.0), "tol"),
        (dict(device="tpu"), "device"), (dict(dtype="float16"), "dtype"),
        (dict(activation="swish"), "activation"), (dict(optimizer="lbfgs"), "optimizer"),
        (dict(activation="tanh", negative_slope=0.1), "negative_slope"),
        (dict(activation="leaky_relu", negative_slope=np.nan), "negative_slope"),
        (dict(loss="hinge"), "loss"),
        (dict(parameterization="ntk", init="xavier_normal"), "init"),
    ],
}


def _hyper_case(spec, params, match):
    est = spec.make().set_params(**params)
    Xc, yc = X.copy(), spec.y().copy()
    with unchanged(Xc, yc):
        with pytest.raises(ValueError, match=match), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(Xc, yc)


def _short(value):
    if isinstance(value, np.ndarray):
        return f"array{value.shape}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_short(v)}" for k, v in value.items()) + "}"
    return repr(value)


# Known failures, (spec, case) -> reason; empty since the issue-10 fixes landed.
XFAIL = {
}


def _params():
    out = []
    for sname, spec in SPECS.items():
        for cname, (applies, _) in CASES.items():
            if applies(spec):
                out.append((sname, cname))
        for params, _ in HYPER[spec.family]:
            out.append((sname, "hyper-" + ",".join(f"{k}={_short(v)}"
                                                   for k, v in params.items())))
    return [pytest.param(s, c, id=f"{s}-{c}",
                         marks=[pytest.mark.xfail(strict=True, reason=XFAIL[s, c])]
                         if (s, c) in XFAIL else [])
            for s, c in out]


@pytest.mark.parametrize("spec_name, case_name", _params())
def test_bad_input(spec_name, case_name):
    spec = SPECS[spec_name]
    if case_name.startswith("hyper-"):
        index = [c for c, _ in _params_of(spec)].index(case_name)
        _hyper_case(spec, *HYPER[spec.family][index])
    else:
        CASES[case_name][1](spec)


def _params_of(spec):
    return [("hyper-" + ",".join(f"{k}={_short(v)}" for k, v in p.items()), m)
            for p, m in HYPER[spec.family]]


def test_every_public_estimator_is_in_the_table():
    import inspect

    from sklearn.base import BaseEstimator

    import skntk

    public = {name for name in skntk.__all__
              if inspect.isclass(getattr(skntk, name))
              and issubclass(getattr(skntk, name), BaseEstimator)}
    tabled = {type(spec.make()).__name__ for spec in SPECS.values()}
    assert public == tabled


# --------------------------------------------------------------------------- #
# kernel="precomputed": a Gram matrix of the wrong shape
# --------------------------------------------------------------------------- #

RIDGE = [NTKRegressor, NTKClassifier, NTKRegressorCV, NTKClassifierCV]


def _target(cls):
    return Y_CLS if "Classifier" in cls.__name__ else Y_REG


@pytest.mark.parametrize("cls", RIDGE, ids=lambda c: c.__name__)
@pytest.mark.parametrize("bad, match", [
    (lambda K: K[:, :20], r"square Gram matrix.*shape \(24, 20\)"),
    (lambda K: K[:20], r"square Gram matrix|inconsistent numbers of samples"),
    (lambda K: np.where(np.eye(24) > 0, np.nan, K), "Input X contains NaN"),
    (lambda K: K[:, :, None], "dim 3"),
])
def test_precomputed_gram_of_the_wrong_shape_at_fit(cls, bad, match):
    K = relu_kernel(X, depth=2)
    Kb = bad(K)
    with unchanged(Kb):
        with pytest.raises(ValueError, match=match):
            cls(kernel="precomputed").fit(Kb, _target(cls))


@pytest.mark.parametrize("cls", RIDGE, ids=lambda c: c.__name__)
@pytest.mark.parametrize("n_cols", [23, 25, 4])
def test_precomputed_kernel_of_the_wrong_shape_at_predict(cls, n_cols):
    est = cls(kernel="precomputed").fit(relu_kernel(X, depth=2), _target(cls))
    Kt = RNG.standard_normal((7, n_cols))
    with unchanged(Kt):
        with pytest.raises(ValueError, match=r"precomputed.*\(n_test, 24\)"):
            est.predict(Kt)


@pytest.mark.parametrize("cls", RIDGE, ids=lambda c: c.__name__)
def test_precomputed_equals_named_kernel_with_odd_layouts(cls):
    kw = dict(depth=2, b_std=0.1)
    K, Kt = relu_kernel(X, **kw), relu_kernel(X_TEST, X, **kw)
    ref = cls(**kw).fit(X, _target(cls))
    Kf = np.asfortranarray(K)
    Kf.setflags(write=False)
    with unchanged(Kf, Kt):
        pre = cls(kernel="precomputed").fit(Kf, _target(cls))
        got = pre.predict(Kt[:, :])
    assert_allclose(_numeric(got), _numeric(ref.predict(X_TEST)), rtol=1e-10,
                    atol=1e-12)


def _numeric(a):
    return a if a.dtype.kind == "f" else a.astype(float)


# --------------------------------------------------------------------------- #
# Absurd depth: a clear error, or a correct answer, quickly
# --------------------------------------------------------------------------- #

_DEPTH_SCRIPT = textwrap.dedent("""
    import numpy as np
    from skntk import (NTKClassifierCV, NTKRegressor, ReluNTK, relu_kernel,
                       relu_kernel_diag)
    X = np.random.default_rng(0).standard_normal((10, 3))
    y = np.arange(10) % 2
    calls = {
        "relu_kernel": lambda: relu_kernel(X, depth=10**6),
        "relu_kernel_diag": lambda: relu_kernel_diag(X, depth=10**6),
        "ReluNTK": lambda: ReluNTK(depth=10**6)(X),
        "NTKRegressor": lambda: NTKRegressor(depth=10**6).fit(X, y).predict(X),
        "NTKClassifierCV": lambda: NTKClassifierCV(depth=10**6).fit(X, y)
                                                  .decision_function(X),
    }
    for name, call in calls.items():
        try:
            out = call()
        except ValueError as exc:
            assert "depth" in str(exc), (name, str(exc))
            print(name, "ValueError")
        else:
            assert np.all(np.isfinite(out)), name
            print(name, "finite")
""")


@pytest.mark.slow
def test_depth_of_a_million_fails_fast_or_finishes():
    """relu_kernel_diag(10 rows, depth=10**6) took 14 s, NTKRegressor fit and
    predict on 24 rows 108 s: an absurd depth must be refused up front (or
    computed quickly). Run in a subprocess so that a hang costs 20 s, not minutes."""
    try:
        res = subprocess.run([sys.executable, "-c", _DEPTH_SCRIPT], capture_output=True,
                             text=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("depth=10**6 neither failed nor finished within 20 s")
    assert res.returncode == 0, res.stderr[-2000:]
    assert len(res.stdout.splitlines()) == 5


# --------------------------------------------------------------------------- #
# The kernel functions: what tests/test_bad_input.py does not cover
# --------------------------------------------------------------------------- #

KERNEL_CALLS = {
    "relu_kernel(X)": lambda A, **kw: relu_kernel(A, **kw),
    "relu_kernel(X, Y)": lambda A, **kw: relu_kernel(X[:5], A, **kw),
    "relu_kernel_diag": lambda A, **kw: relu_kernel_diag(A, **kw),
    "ReluNTK()(X)": lambda A, **kw: ReluNTK(**kw)(A),
    "ReluNTK()(X, eval_gradient)":
        lambda A, **kw: ReluNTK(**kw)(A, eval_gradient=True)[0],
    "ReluNTK().diag": lambda A, **kw: ReluNTK(**kw).diag(A),
}


def _kernel_arg(name):
    return "Y" if name == "relu_kernel(X, Y)" else "X"


@pytest.mark.parametrize("call", KERNEL_CALLS, ids=str)
@pytest.mark.parametrize("bad, exc, match", [
    (X + 1j, ValueError, "Complex data not supported"),
    (X.astype(str).astype(object) + "x", ValueError, "could not convert string"),
    (_with(np.nan), ValueError, "Input {arg} contains NaN"),
    (_with(-np.inf), ValueError, "Input {arg} contains infinity"),
    (X[:, :, None], ValueError, "Found array with dim 3"),
    (sparse.csr_matrix(X), TypeError, "Sparse data was passed for {arg}"),
], ids=["complex", "strings", "nan", "-inf", "3d", "sparse"])
def test_kernel_functions_bad_input(call, bad, exc, match):
    with unchanged(bad):
        with pytest.raises(exc, match=match.format(arg=_kernel_arg(call))):
            KERNEL_CALLS[call](bad)


@pytest.mark.parametrize("call", KERNEL_CALLS, ids=str)
def test_kernel_functions_odd_layouts_equal_plain_float64(call):
    ref = KERNEL_CALLS[call](X, depth=2, b_std=0.1)
    big = np.zeros((48, 8))
    big[::2, ::2] = X
    cases = {
        "fortran": np.asfortranarray(X),
        "strided": big[::2, ::2],
        "dataframe": pd.DataFrame(X, columns=list("abcd")),
        "list": X.tolist(),
    }
    for name, A in cases.items():
        with unchanged(A):
            got = KERNEL_CALLS[call](A, depth=2, b_std=0.1)
        assert_allclose(got, ref, rtol=1e-14, atol=0, err_msg=name)
    Xi = np.round(3 * X).astype(np.int16)
    with unchanged(Xi):
        got = KERNEL_CALLS[call](Xi, depth=2)
    assert_array_equal(got, KERNEL_CALLS[call](Xi.astype(np.float64), depth=2))


def test_kernel_functions_read_only_memmap(tmp_path):
    path = tmp_path / "X.npy"
    np.save(path, X)
    Xm = np.load(path, mmap_mode="r")
    before = path.read_bytes()
    with unchanged(Xm):
        for call in KERNEL_CALLS.values():
            assert_array_equal(call(Xm, depth=3), call(X, depth=3))
    assert path.read_bytes() == before


@pytest.mark.parametrize("kw, match", [
    (dict(w_std=1e200), "w_std"),
    (dict(b_std=1e200), "b_std"),
], ids=["w_std=1e200", "b_std=1e200"])
def test_kernel_huge_finite_hyperparameters_name_the_parameter(kw, match):
    for name in ("relu_kernel(X)", "relu_kernel_diag"):
        with pytest.raises(ValueError, match=match):
            KERNEL_CALLS[name](X, **kw)


def test_kernel_values_that_overflow_get_a_clear_error():
    """w_std = 1e100 squares to a finite number, but the NTK (about w_std^4 |x|^2
    at depth 1) overflows: refused, not inf."""
    for name in ("relu_kernel(X)", "relu_kernel_diag", "relu_kernel(X, Y)"):
        with pytest.raises(ValueError, match="overflow"):
            KERNEL_CALLS[name](X, w_std=1e100)


def test_relu_ntk_in_a_gaussian_process_refuses_bad_input():
    gpr = GaussianProcessRegressor(ReluNTK(depth=2, b_std=0.1), alpha=1e-3)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        gpr.fit(_with(np.nan), Y_REG)
    gpr.fit(X, Y_REG)
    with pytest.raises(ValueError, match="X has 3 features|3 features"):
        gpr.predict(X_TEST[:, :3])


# --------------------------------------------------------------------------- #
# Numerical stress: scales 1e-150 ... 1e150, duplicates, nearly parallel rows
# --------------------------------------------------------------------------- #

SCALES = [1e-150, 1e-100, 1e-20, 1e20, 1e100, 1e150]


@pytest.mark.parametrize("scale", SCALES, ids=lambda s: f"{s:.0e}")
@pytest.mark.parametrize("cls", RIDGE, ids=lambda c: c.__name__)
def test_ridge_is_exactly_scale_invariant(cls, scale):
    """Without biases the NTK is homogeneous of degree 2, k(cx, cy) = c^2 k(x, y),
    so scaling X by c and the ridge by c^2 must give the same predictions:
    an independent reference at every scale. The same X with the ridge left
    alone still gives finite output."""
    y = _target(cls)
    ridge = {"alphas": [1e-2, 1e-1, 1.0]} if "CV" in cls.__name__ else {"alpha": 1e-2}
    scaled = {k: (np.asarray(v) * scale**2 if k == "alphas" else v * scale**2)
              for k, v in ridge.items()}
    ref = cls(depth=2, **ridge).fit(X, y)
    est = cls(depth=2, **scaled).fit(X * scale, y)
    methods = ("decision_function",) if "Classifier" in cls.__name__ else ("predict",)
    for m in methods:
        assert_allclose(getattr(est, m)(X_TEST * scale), getattr(ref, m)(X_TEST),
                        rtol=1e-9, atol=1e-12)
    if "CV" in cls.__name__:
        assert est.alpha_ == pytest.approx(ref.alpha_ * scale**2, rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # singular at 1e-150 is expected
        plain = cls(depth=2).fit(X * scale, y)
    for m in methods:
        assert np.all(np.isfinite(getattr(plain, m)(X_TEST * scale)))


@pytest.mark.parametrize("scale", SCALES, ids=lambda s: f"{s:.0e}")
def test_empirical_features_are_exactly_homogeneous(scale):
    """The net has no biases, so every gradient block is homogeneous of degree 1
    in x: transform(c X) = c transform(X), and the empirical NTK scales by c^2."""
    est = EmpiricalNTKFeatures((8, 6), random_state=0).fit(X)
    ref = est.transform(X_TEST)
    got = EmpiricalNTKFeatures((8, 6), random_state=0).fit(X * scale).transform(
        X_TEST * scale)
    assert np.all(np.isfinite(got))
    assert_allclose(got / scale, ref, rtol=1e-12, atol=0)
    K = est.empirical_ntk(X_TEST * scale)
    assert np.all(np.isfinite(K))
    assert_allclose(K / scale**2, est.empirical_ntk(X_TEST), rtol=1e-12,
                    atol=1e-300 / scale**2 if scale < 1 else 0)


def _float32_loses(scale):
    lo, hi = float(np.finfo(np.float32).tiny), float(np.finfo(np.float32).max)
    return not (lo <= scale <= hi / 10)


@pytest.mark.parametrize("cls", [TorchMLPClassifier, TorchMLPRegressor],
                         ids=lambda c: c.__name__)
@pytest.mark.parametrize("scale", [
    pytest.param(s, id=f"{s:.0e}") for s in SCALES])
def test_torch_nets_on_extreme_scales(cls, scale):
    """float32 training cannot represent 1e150 (inf) nor 1e-150 (0): a clear error
    naming X and float32, or finite output with a warning that precision is
    lost. At representable scales whose squared loss overflows float32 (1e20),
    the divergence error must say to scale the input."""
    y = _target(cls)
    Xs = X * scale
    lost = _float32_loses(scale)
    est = cls((8,), **_TORCH)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.fit(Xs, y)
        except ValueError as exc:
            if lost:
                assert "X" in str(exc) and "float32" in str(exc), str(exc)
            else:
                assert "scale the input" in str(exc), str(exc)
            return
        out = _outputs(est, X_TEST * scale)
    _assert_finite_outputs(out, len(X_TEST))
    if lost:
        assert any(issubclass(w.category, UserWarning)
                   and "float32" in str(w.message) for w in caught), \
            "precision was lost silently"


@pytest.mark.parametrize("cls", [TorchMLPClassifier, TorchMLPRegressor],
                         ids=lambda c: c.__name__)
@pytest.mark.parametrize("scale", [1e-150, 1e150], ids=lambda s: f"{s:.0e}")
def test_torch_nets_in_float64_on_extreme_scales(cls, scale):
    """In float64 the inputs are representable: finite output, or (1e150: the
    squared loss overflows) a clear error that says to scale the input."""
    est = cls((8,), dtype="float64", **_TORCH)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X * scale, _target(cls))
    except ValueError as exc:
        assert scale > 1 and "scale the input" in str(exc), str(exc)
        return
    _assert_finite_outputs(_outputs(est, X_TEST * scale), len(X_TEST))


def test_kernel_on_nearly_parallel_rows_matches_60_digit_reference():
    """1,000 rows x_i = v + 1e-9 e_i: the kernel is finite, symmetric, has no
    negative eigenvalue beyond rounding, and the tiny differences
    k(x_i, x_i) - k(x_i, x_j) that carry all the information agree with mpmath."""
    mp_ref = pytest.importorskip("_reference")
    rng = np.random.default_rng(3)
    v = rng.standard_normal(5)
    Xp = v + 1e-9 * rng.standard_normal((1000, 5))
    K = relu_kernel(Xp, depth=3, b_std=0.1)
    assert np.all(np.isfinite(K))
    assert_array_equal(K, K.T)
    lam = np.linalg.eigvalsh(K)
    assert lam[0] > -1e-12 * lam[-1]
    idx = [0, 1, 2, 999]
    _, ref = mp_ref.mp_relu_kernel(Xp[idx], Xp[idx], 3, 1.0, 0.1)
    Ks = K[np.ix_(idx, idx)]
    assert_allclose(Ks, ref, rtol=1e-14)
    gap = np.diag(Ks)[:, None] - Ks
    gap_ref = np.diag(ref)[:, None] - ref
    off = ~np.eye(4, dtype=bool)
    assert_allclose(gap[off], gap_ref[off], rtol=1e-4)


def _nearly_parallel(n=1000, d=5):
    rng = np.random.default_rng(4)
    v = rng.standard_normal(d)
    return v + 1e-9 * rng.standard_normal((n, d)), rng


@pytest.mark.parametrize("cls", [NTKRegressor, NTKClassifier], ids=lambda c: c.__name__)
@pytest.mark.parametrize("solver", [
    "cholesky", "eigh"])
def test_ridge_without_regularisation_warns_on_nearly_parallel_rows(cls, solver):
    """The Gram of 1,000 nearly parallel rows has condition number 1e14: with
    alpha=0 the fit must say that precision is lost (jitter, floored
    eigenvalues or ill-conditioning), and still predict finite values."""
    Xp, rng = _nearly_parallel()
    y = (rng.standard_normal(1000) > 0).astype(int)
    with pytest.warns(UserWarning, match="jitter|singular|ill-conditioned"):
        est = cls(alpha=0.0, depth=2, solver=solver).fit(Xp, y)
    for m in ("predict", "decision_function"):
        if hasattr(est, m):
            out = getattr(est, m)(Xp[:50])
            assert out.shape == (50,)
            if out.dtype.kind == "f":
                assert np.all(np.isfinite(out)), m


@pytest.mark.parametrize("spec_name", ["NTKRegressor", "NTKClassifierCV",
                                       "EmpiricalNTKFeatures", "TorchMLPRegressor",
                                       "TorchMLPClassifier"])
def test_estimators_on_nearly_parallel_rows_are_finite(spec_name):
    spec = SPECS[spec_name]
    Xp, rng = _nearly_parallel()
    y = np.arange(1000) % 3 if spec.kind == "classifier" else rng.standard_normal(1000)
    with unchanged(Xp, y):
        est = _fit(spec, Xp, y)
    _assert_finite_outputs(_outputs(est, Xp[:50]), 50)


@pytest.mark.parametrize("cls", [NTKRegressor, NTKClassifier], ids=lambda c: c.__name__)
@pytest.mark.parametrize("solver", [
    "cholesky", "eigh"])
def test_duplicated_rows_without_regularisation_warn(cls, solver):
    """Exactly duplicated rows make the Gram singular: with alpha=0 a warning,
    finite output, and (the minimum-norm solution) the same value for a row
    and its copies."""
    Xd = np.vstack([X, X, X[:5]])
    y = np.concatenate([_target(cls)] * 2 + [_target(cls)[:5]])
    with pytest.warns(UserWarning, match="jitter|singular"):
        est = cls(alpha=0.0, depth=2, solver=solver).fit(Xd, y)
    for m in ("predict", "decision_function"):
        if hasattr(est, m):
            out = getattr(est, m)(np.vstack([X_TEST, Xd]))
            if out.dtype.kind == "f":
                assert np.all(np.isfinite(out)), m
            assert_allclose(_numeric(out[7 + 24:7 + 48]), _numeric(out[7:7 + 24]),
                            rtol=1e-9, atol=1e-9)


def test_kernel_of_exactly_duplicated_rows_equals_the_diagonal():
    """Duplicated rows are at angle exactly 0: k(x, x') = k(x, x) = closed form."""
    Xd = np.vstack([X, X])
    for kw in (dict(depth=1), dict(depth=4, w_std=1.4, b_std=0.3)):
        K = relu_kernel(Xd, **kw)
        diag = relu_kernel_diag(X, **kw)
        assert_allclose(np.diag(K[:24, 24:]), diag, rtol=1e-15)
        assert_allclose(relu_kernel(X, X, **kw).diagonal(), diag, rtol=1e-15)
