"""Issue 18's ridge defects: tiny inputs, aliasing of the user's arrays,
sample weights of the CV estimators, the Nystrom clamp.

References: brute-force weighted refits on n - 1 rows (leave-one-out),
scikit-learn's KernelRidge (the exact kernel ridge the clamped Nystrom solver
must equal), and the inputs' own values before and after each call.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.kernel_ridge import KernelRidge
from sklearn.preprocessing import LabelBinarizer, StandardScaler

from skntk import (
    NTKClassifier,
    NTKClassifierCV,
    NTKRegressor,
    NTKRegressorCV,
    relu_kernel,
)

RNG = np.random.default_rng(0)
X0 = RNG.normal(size=(30, 4))
Y0 = np.sin(X0[:, 0]) + 0.1 * RNG.normal(size=30)
LABELS = np.where(X0[:, 1] > 0, "b", "a")

# ---- defect 4: tiny inputs never give NaN ----------------------------------- #

SOLVERS = [dict(solver="cholesky"), dict(solver="eigh"),
           dict(solver="nystrom", n_components=20, random_state=0),
           dict(solver="cholesky", device="cpu")]


@pytest.mark.parametrize("dtype", [None, "float32"])
@pytest.mark.parametrize("kernel", ["ntk", "nngp"])
@pytest.mark.parametrize("options", SOLVERS, ids=lambda o: o["solver"] + (
    "-cpu" if "device" in o else ""))
@pytest.mark.parametrize("scale", [1e-155, 1e-210])
def test_inputs_whose_kernel_underflows_are_refused(dtype, kernel, options, scale):
    """Rows of norm 1e-155 made the Gram subnormal (NaN predictions), below
    1e-200 exactly 0 (predictions 0, a warning blaming duplicates): now a
    ValueError that says the scale underflows and names the fix."""
    X = X0 * scale
    for est, y in ((NTKRegressor(alpha=0.0, kernel=kernel, dtype=dtype, **options), Y0),
                   (NTKClassifier(alpha=1e-2, kernel=kernel, dtype=dtype, **options),
                    LABELS)):
        with pytest.raises(ValueError, match="scale of X underflows.*StandardScaler"):
            est.fit(X, y)


@pytest.mark.parametrize("est", [NTKRegressorCV(), NTKClassifierCV(),
                                 NTKRegressor(kernel="precomputed")])
def test_cv_and_precomputed_refuse_an_underflowing_gram(est):
    X = X0 * 1e-155
    y = LABELS if isinstance(est, NTKClassifierCV) else Y0
    if est.kernel == "precomputed":
        X = relu_kernel(X0) * 1e-306
    with pytest.raises(ValueError, match="underflows"):
        est.fit(X, y)


@pytest.mark.parametrize("dtype, scales", [
    (None, 10.0 ** -np.arange(100, 200, 4)),
    ("float32", 10.0 ** -np.arange(2, 40, 2))])
def test_interpolation_is_exact_down_to_the_refusal(dtype, scales):
    """With b_std = 0 the kernel is homogeneous of degree 2, so interpolation
    (alpha = 0) of rescaled data gives the same predictions: at every scale
    the fit either predicts y at the training points (no NaN) or refuses."""
    refused = False
    for s in scales:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # jitter, near-singular
            try:
                reg = NTKRegressor(alpha=0.0, dtype=dtype).fit(X0 * s, Y0)
                clf = NTKClassifier(alpha=0.0, dtype=dtype).fit(X0 * s, LABELS)
            except ValueError as exc:
                assert "underflows" in str(exc)
                refused = True
                continue
        assert not refused, "a smaller scale was accepted after a refusal"
        assert_allclose(reg.predict(X0 * s), Y0, atol=1e-3)
        assert_array_equal(clf.predict(X0 * s), LABELS)
    assert refused


@pytest.mark.parametrize("dtype", [None, "float32"])
@pytest.mark.parametrize("scale", [1e-155, 1e-250, 0.0])
def test_tiny_inputs_are_fine_with_a_bias(dtype, scale):
    """With b_std > 0 the bias dominates: the kernel is (nearly) the constant
    b_std^2-driven one, and the fit is the constant kernel's ridge fit."""
    reg = NTKRegressor(alpha=1e-3, b_std=0.5, dtype=dtype).fit(X0 * scale, Y0)
    pred = reg.predict(X0 * scale)
    assert np.all(np.isfinite(pred))
    c = float(relu_kernel(np.zeros((1, 4)), b_std=0.5)[0, 0])  # k(0, 0)
    n = len(Y0)
    # constant kernel c: K = c 1 1', prediction c n mean(y) / (c n + alpha)
    expected = c * n * Y0.mean() / (c * n + 1e-3)
    # float32: a rank-one Gram solved with alpha = 1e-3 keeps ~3 digits
    assert_allclose(pred, expected, rtol=1e-2 if dtype else 1e-9)
    clf = NTKClassifier(alpha=1e-3, b_std=0.5, dtype=dtype).fit(X0 * scale, LABELS)
    assert set(clf.predict(X0 * scale)) <= {"a", "b"}


def test_an_all_zero_X_is_not_refused():
    """Exact zeros have the exact kernel 0: nothing underflowed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pred = NTKRegressor(alpha=1.0).fit(np.zeros((5, 2)), np.arange(5.0)).predict(
            np.ones((2, 2)))
    assert_array_equal(pred, 0.0)


# ---- defect 5: the fitted model owns its data ---------------------------------- #

ESTIMATORS = [NTKRegressor(alpha=0.1), NTKClassifier(alpha=0.1),
              NTKRegressorCV(), NTKClassifierCV(),
              NTKRegressor(alpha=0.1, solver="eigh", dtype="float32")]


def _target(est):
    return LABELS if "Classifier" in type(est).__name__ else Y0


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: repr(e))
def test_writing_into_X_after_fit_changes_no_prediction(est):
    X = X0.copy()
    est.fit(X, _target(est))
    assert est.X_fit_ is not X and not np.shares_memory(est.X_fit_, X)
    before = est.predict(X0[:7])
    X[:] = 123.0
    assert_array_equal(est.predict(X0[:7]), before)


@pytest.mark.parametrize("est", [NTKRegressor(copy_X=False),
                                 NTKClassifierCV(copy_X=False)])
def test_copy_X_false_keeps_the_documented_alias(est):
    X = X0.copy()
    est.fit(X, _target(est))
    assert est.X_fit_ is X
    # a float32 fit must convert: then a copy is stored even with copy_X=False
    if isinstance(est, NTKRegressor):
        est32 = NTKRegressor(copy_X=False, dtype="float32").fit(X, Y0)
        assert not np.shares_memory(est32.X_fit_, X)


@pytest.mark.parametrize("dtype, expected", [(None, np.float64), ("float32", np.float32),
                                             ("float64", np.float64)])
@pytest.mark.parametrize("solver", ["cholesky", "nystrom"])
def test_X_fit_is_stored_in_the_fit_dtype(dtype, expected, solver):
    est = NTKRegressor(dtype=dtype, solver=solver, n_components=10,
                       random_state=0).fit(X0, Y0)
    assert est.X_fit_.dtype == expected
    assert est.X_fit_.flags.c_contiguous


@pytest.mark.parametrize("est", [NTKRegressor(alpha=0.1, solver="eigh"),
                                 NTKClassifier(alpha=0.1),
                                 NTKRegressor(solver="nystrom", n_components=10,
                                              random_state=0),
                                 NTKRegressor(device="cpu"),
                                 NTKRegressor(kernel="precomputed"),
                                 NTKRegressorCV(), NTKClassifierCV()],
                         ids=lambda e: repr(e))
def test_fit_and_predict_modify_nothing_the_user_passed(est):
    X = relu_kernel(X0) if est.kernel == "precomputed" else X0.copy()
    y = _target(est).copy()
    w = np.linspace(0.5, 2.0, len(y))
    X_before, y_before, w_before = X.copy(), y.copy(), w.copy()
    est.fit(X, y, sample_weight=w)
    Xt = X[:5].copy()
    Xt_before = Xt.copy()
    est.predict(Xt)
    if hasattr(est, "decision_function"):
        est.decision_function(Xt)
    assert_array_equal(X, X_before)
    assert_array_equal(y, y_before)
    assert_array_equal(w, w_before)
    assert_array_equal(Xt, Xt_before)


# ---- defect 6: sample weights of the CV estimators ---------------------------- #


def _weights():
    w = np.random.default_rng(1).uniform(0.2, 3.0, size=len(Y0))
    w[3] = 0.0  # a zero weight: the sample is as if absent
    return w


def _brute_force_loo(alpha, X, Y, w, **kw):
    """Weighted LOO residuals by refitting NTKRegressor on the other n - 1 rows."""
    n = len(X)
    resid = np.empty_like(Y)
    for i in range(n):
        keep = np.arange(n) != i
        fit = NTKRegressor(alpha=alpha, solver="eigh", **kw).fit(
            X[keep], Y[keep], sample_weight=w[keep])
        resid[i] = Y[i] - fit.predict(X[i:i + 1])[0]
    return resid


def test_weighted_loo_equals_brute_force_refits():
    """cv_results_ = w_i (y_i - f_{-i}(x_i))^2, f_{-i} the weighted fit on the
    other rows; best_score_ its mean; the final model the weighted fit."""
    alphas = [1e-2, 0.3, 3.0]
    w = _weights()
    cv = NTKRegressorCV(alphas=alphas, depth=2, b_std=0.3,
                        store_cv_results=True).fit(X0, Y0, sample_weight=w)
    scores = []
    for a, alpha in enumerate(alphas):
        r = _brute_force_loo(alpha, X0, Y0, w, depth=2, b_std=0.3)
        assert_allclose(cv.cv_results_[:, a], w * r**2, rtol=1e-7, atol=1e-12)
        scores.append(-np.mean(w * r**2))
    best = int(np.argmax(scores))
    assert cv.alpha_ == alphas[best]
    assert_allclose(cv.best_score_, scores[best], rtol=1e-8)
    ref = NTKRegressor(alpha=cv.alpha_, depth=2, b_std=0.3).fit(X0, Y0, sample_weight=w)
    assert_allclose(cv.predict(X0[:9]), ref.predict(X0[:9]), rtol=1e-8, atol=1e-10)
    m, s = cv.predict(X0[:9], return_std=True)
    assert_allclose(s, ref.predict(X0[:9], return_std=True)[1], rtol=1e-6, atol=1e-9)


def test_weighted_loo_accuracy_equals_brute_force_refits():
    alphas = [1e-2, 1.0, 30.0]
    w = _weights()
    cv = NTKClassifierCV(alphas=alphas, scoring="accuracy").fit(X0, LABELS,
                                                                sample_weight=w)
    Y = LabelBinarizer(pos_label=1, neg_label=-1).fit_transform(LABELS).astype(float)
    scores = []
    for alpha in alphas:
        loo = Y - _brute_force_loo(alpha, X0, Y, w)
        right = np.where(loo[:, 0] > 0, "b", "a") == LABELS
        scores.append(np.sum(w * right) / np.sum(w))
    ties = np.flatnonzero(np.isclose(scores, max(scores)))
    assert cv.alpha_ == alphas[ties[0]]
    assert_allclose(cv.best_score_, max(scores))


def test_unit_weights_change_nothing_and_integer_weights_are_validated():
    a = NTKRegressorCV(store_cv_results=True).fit(X0, Y0)
    b = NTKRegressorCV(store_cv_results=True).fit(X0, Y0, sample_weight=np.ones(30))
    assert a.alpha_ == b.alpha_
    assert_allclose(b.cv_results_, a.cv_results_, rtol=1e-12)
    assert_allclose(b.dual_coef_, a.dual_coef_, rtol=1e-12)
    with pytest.raises(ValueError, match="sample_weight"):
        NTKRegressorCV().fit(X0, Y0, sample_weight=np.ones(29))
    with pytest.raises(ValueError, match="[Nn]egative"):
        NTKClassifierCV().fit(X0, LABELS, sample_weight=-np.ones(30))


def test_weighted_gcv_over_training_times_runs_on_the_scaled_problem():
    w = _weights()
    cv = NTKRegressorCV(training_times=[1.0, np.inf]).fit(X0, Y0, sample_weight=w)
    ref = NTKRegressor(alpha=cv.alpha_, solver="eigh",
                       training_time=None if np.isinf(cv.training_time_)
                       else cv.training_time_).fit(X0, Y0, sample_weight=w)
    assert_allclose(cv.predict(X0[:5]), ref.predict(X0[:5]), rtol=1e-8, atol=1e-10)


# ---- defect 8: the Nystrom clamp ------------------------------------------------ #


def test_nystrom_clamps_n_components_with_a_warning():
    """As scikit-learn's Nystroem: more centres than samples means all of
    them, i.e. exact kernel ridge (KernelRidge on the same Gram)."""
    with pytest.warns(UserWarning, match="n_components=1000 > n_samples=30"):
        est = NTKRegressor(alpha=0.1, solver="nystrom", tol=1e-12).fit(X0, Y0)
    assert est.n_components_ == 30
    assert_array_equal(est.support_, np.arange(30))
    kr = KernelRidge(alpha=0.1, kernel="precomputed").fit(relu_kernel(X0), Y0)
    assert_allclose(est.predict(X0[:6]), kr.predict(relu_kernel(X0[:6], X0)),
                    rtol=1e-6, atol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        small = NTKRegressor(solver="nystrom", n_components=12,
                             random_state=0).fit(X0, Y0)
    assert small.n_components_ == 12
    assert NTKRegressor().fit(X0, Y0).n_components_ is None
    clf = NTKClassifier(solver="nystrom")
    with pytest.warns(UserWarning, match="n_components"):
        clf.fit(StandardScaler().fit_transform(X0), LABELS)
    assert clf.n_components_ == 30


# --------------------------------------------------------------------------- #
# found by the API fuzzer (tests/test_fuzz.py)
# --------------------------------------------------------------------------- #

@pytest.mark.parametrize("cls", [NTKRegressor, NTKRegressorCV])
def test_a_failed_fit_leaves_an_unfitted_model(cls):
    """predict after a fit that raised is NotFittedError, not AttributeError,
    also when an earlier fit had succeeded."""
    from sklearn.exceptions import NotFittedError

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((12, 3)), rng.standard_normal(12)
    est = cls(w_std=1.0).fit(X, y)
    est.set_params(w_std=0.0)  # with b_std=0 the kernel is zero: refused after
    with pytest.raises(ValueError):  # validate_data has reset n_features_in_
        est.fit(X, y)
    with pytest.raises(NotFittedError):
        est.predict(X)


def test_float32_targets_that_overflow_are_refused():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 3))
    y = np.full(10, 1e39)
    with pytest.raises(ValueError, match="overflow dtype='float32'"):
        NTKRegressor(dtype="float32").fit(X, y)
    assert np.isfinite(NTKRegressor().fit(X, y).predict(X)).all()  # float64 fits
