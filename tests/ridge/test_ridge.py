"""NTKRegressor / NTKClassifier and their CV versions against independent implementations.

References: scikit-learn's KernelRidge and GaussianProcessRegressor on the same
kernel, numpy's eigvalsh and solve, an explicit Euler integration of gradient
flow, brute-force leave-one-out refits, and the seed notebook's printed
accuracy on real Fashion-MNIST.
"""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import load_digits
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.kernel_ridge import KernelRidge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelBinarizer, StandardScaler

from skntk import (
    NTKClassifier,
    NTKClassifierCV,
    NTKRegressor,
    NTKRegressorCV,
    ReluNTK,
    relu_kernel,
)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    Y = np.column_stack([np.sin(X[:, 0]) + 0.1 * rng.normal(size=40), X[:, 1] ** 2])
    Xt = rng.normal(size=(15, 4))
    return X, Y, Xt


@pytest.mark.parametrize("kernel", ["ntk", "nngp"])
@pytest.mark.parametrize("solver", ["cholesky", "eigh"])
@pytest.mark.parametrize("weighted", [False, True])
def test_equals_kernel_ridge_on_the_same_gram(data, kernel, solver, weighted):
    X, Y, Xt = data
    kw = dict(kernel=kernel, depth=2, w_std=1.3, b_std=0.2)
    sw = np.random.default_rng(1).uniform(0.1, 2.0, size=len(X)) if weighted else None
    ours = NTKRegressor(alpha=0.05, solver=solver, **kw).fit(X, Y, sample_weight=sw)
    ref = KernelRidge(alpha=0.05, kernel="precomputed").fit(
        relu_kernel(X, **kw), Y, sample_weight=sw)
    assert_allclose(ours.predict(Xt), ref.predict(relu_kernel(Xt, X, **kw)),
                    rtol=1e-9, atol=1e-12)
    assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=1e-8, atol=1e-12)
    # single target: 1-d in, 1-d out
    one = NTKRegressor(alpha=0.05, solver=solver, **kw).fit(X, Y[:, 0])
    assert one.predict(Xt).shape == (len(Xt),)


def test_precomputed_equals_named_kernel_and_leaves_input_alone(data):
    X, Y, Xt = data
    K = relu_kernel(X, depth=3)
    K_before = K.copy()
    pre = NTKRegressor(alpha=0.1, kernel="precomputed").fit(K, Y)
    named = NTKRegressor(alpha=0.1, depth=3).fit(X, Y)
    assert_array_equal(K, K_before)
    assert_allclose(pre.predict(relu_kernel(Xt, X, depth=3)), named.predict(Xt),
                    rtol=1e-12)
    assert pre.__sklearn_tags__().input_tags.pairwise
    assert not named.__sklearn_tags__().input_tags.pairwise


@pytest.mark.parametrize("solver", ["cholesky", "eigh"])
def test_return_std_equals_gaussian_process(data, solver):
    X, Y, Xt = data
    y = Y[:, 0]
    kern = ReluNTK(depth=2, w_std=1.1, b_std=0.3)
    gpr = GaussianProcessRegressor(kern, alpha=0.01, optimizer=None).fit(X, y)
    mean_ref, std_ref = gpr.predict(Xt, return_std=True)
    ours = NTKRegressor(alpha=0.01, depth=2, w_std=1.1, b_std=0.3, solver=solver)
    mean, std = ours.fit(X, y).predict(Xt, return_std=True)
    assert_allclose(mean, mean_ref, rtol=1e-9)
    assert_allclose(std, std_ref, rtol=1e-7)
    # at training points with tiny noise the posterior std collapses
    _, std_train = NTKRegressor(alpha=1e-10, depth=2).fit(X, y).predict(
        X, return_std=True)
    assert np.all(std_train < 1e-3 * np.sqrt(relu_kernel(X[:1], depth=2)[0, 0]))


def test_finite_time_matches_euler_integration_of_gradient_flow():
    """f' = -K (f - y) / N on the train points, f_test' = -K(x, X)(f - y) / N."""
    rng = np.random.default_rng(3)
    X, Xt = rng.normal(size=(12, 3)), rng.normal(size=(5, 3))
    Y = rng.normal(size=(12, 2))
    N = Y.size
    K, Kt = relu_kernel(X, depth=2), relu_kernel(Xt, X, depth=2)
    t_end, steps = 7.0, 70000
    dt = t_end / steps
    f, ft = np.zeros_like(Y), np.zeros((5, 2))
    for _ in range(steps):
        r = f - Y
        f -= dt * (K @ r) / N
        ft -= dt * (Kt @ r) / N
    reg = NTKRegressor(alpha=0.0, depth=2, training_time=t_end).fit(X, Y)
    # Euler's global error is O(dt): 1e-4 relative here
    assert_allclose(reg.predict(Xt), ft, rtol=2e-3, atol=1e-4)
    staged = list(reg.staged_predict(X, [0.0, t_end]))
    assert_allclose(staged[0], 0.0, atol=1e-14)
    assert_allclose(staged[1], f, rtol=2e-3, atol=1e-4)


def test_finite_time_converges_to_ridge(data):
    X, Y, Xt = data
    ridge = NTKRegressor(alpha=0.02, depth=2).fit(X, Y).predict(Xt)
    flow = NTKRegressor(alpha=0.02, depth=2, solver="eigh", training_time=1e9)
    assert_allclose(flow.fit(X, Y).predict(Xt), ridge, rtol=1e-8)
    staged = list(flow.staged_predict(Xt, [1.0, 100.0, np.inf]))
    assert_allclose(staged[-1], ridge, rtol=1e-8)
    # predictions at t from one fit equal separate fits at that t
    direct = NTKRegressor(alpha=0.02, depth=2, training_time=100.0).fit(X, Y)
    assert_allclose(staged[1], direct.predict(Xt), rtol=1e-10)


def test_finite_time_sample_weight_equals_repeated_samples(data):
    X, Y, Xt = data
    w = np.random.default_rng(5).integers(0, 3, size=len(X))
    kw = dict(alpha=0.0, depth=1, training_time=3.0)
    weighted = NTKRegressor(**kw).fit(X, Y, sample_weight=w)
    repeated = NTKRegressor(**kw).fit(np.repeat(X, w, axis=0), np.repeat(Y, w, axis=0))
    assert_allclose(weighted.predict(Xt), repeated.predict(Xt), rtol=1e-7, atol=1e-9)


def test_diagnostics_against_numpy(data):
    X, Y, _ = data
    y = Y[:, 0]
    K = relu_kernel(X, depth=2)
    lam_min = np.linalg.eigvalsh(K)[0]
    bound = np.sqrt(y @ np.linalg.solve(K, y) / len(y))
    for solver in ("cholesky", "eigh"):
        reg = NTKRegressor(alpha=0.0, depth=2, solver=solver).fit(X, y)
        assert_allclose(reg.gram_min_eigenvalue(), lam_min, rtol=1e-6)
        assert_allclose(reg.generalization_bound(), bound, rtol=1e-8)
    reg = NTKRegressor(alpha=0.5, depth=2).fit(X, Y)
    ref = np.sqrt(np.einsum("ij,ij->j", Y, np.linalg.solve(K + 0.5 * np.eye(40), Y)) / 40)
    assert_allclose(reg.generalization_bound(), ref, rtol=1e-10)
    assert_allclose(reg.gram_min_eigenvalue(), lam_min, rtol=1e-6)


def test_duplicate_rows_without_ridge_get_jitter_and_no_nan():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    X = np.vstack([X, X[:5]])
    y = rng.normal(size=35)
    for Xin in (X, X.astype(np.float32)):
        reg = NTKRegressor(alpha=0.0, depth=2)
        with pytest.warns(UserWarning, match=r"alpha=0\.0.*jitter="):
            reg.fit(Xin, y)
        assert reg.jitter_ > 0
        pred, std = reg.predict(rng.normal(size=(10, 3)), return_std=True)
        assert np.all(np.isfinite(pred)) and np.all(np.isfinite(std))


def test_indefinite_precomputed_kernel_is_solved_exactly_with_a_warning():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(20, 20))
    K = A + A.T  # symmetric, indefinite
    y = rng.normal(size=20)
    with pytest.warns(UserWarning, match="not positive"):
        reg = NTKRegressor(alpha=0.1, kernel="precomputed").fit(K, y)
    assert_allclose(reg.predict(K), K @ np.linalg.solve(K + 0.1 * np.eye(20), y),
                    rtol=1e-8)


def test_classifier_equals_kernel_ridge_on_the_coding():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300], y[:300]
    clf = NTKClassifier(alpha=0.1, depth=2, b_std=0.1).fit(X[:200], y[:200])
    Y = LabelBinarizer(neg_label=-1).fit_transform(y[:200])
    kw = dict(depth=2, b_std=0.1)
    ref = KernelRidge(alpha=0.1, kernel="precomputed").fit(relu_kernel(X[:200], **kw), Y)
    scores = ref.predict(relu_kernel(X[200:], X[:200], **kw))
    assert_allclose(clf.decision_function(X[200:]), scores, rtol=1e-9, atol=1e-12)
    assert_array_equal(clf.predict(X[200:]), np.arange(10)[scores.argmax(1)])
    assert clf.score(X[200:], y[200:]) > 0.9


@pytest.mark.parametrize("labels", [["no", "yes"], [1, 2], [-1, 1]])
def test_classifier_binary_labels(labels):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    t = (X[:, 0] > 0).astype(int)
    y = np.asarray(labels, dtype=object if isinstance(labels[0], str) else None)[t]
    clf = NTKClassifier(alpha=1e-2).fit(X, y)
    assert list(clf.classes_) == sorted(labels)
    assert clf.decision_function(X).shape == (60,)
    assert set(clf.predict(X)) <= set(labels)
    assert clf.score(X, y) > 0.9
    staged = list(NTKClassifier(alpha=1e-2, training_time=1e6).fit(X, y)
                  .staged_predict(X, [1e6]))
    assert_array_equal(staged[0], clf.predict(X))


def _brute_force_loo(X, Y, alpha, make):
    errs = []
    for i in range(len(X)):
        keep = np.arange(len(X)) != i
        est = make(alpha).fit(X[keep], Y[keep])
        errs.append(Y[i] - est.predict(X[i:i + 1])[0])
    return np.asarray(errs)


def test_regressor_cv_loo_equals_brute_force(data):
    X, Y, _ = data
    alphas = [1e-3, 0.1, 10.0]
    cv = NTKRegressorCV(alphas=alphas, depth=2, store_cv_results=True).fit(X, Y)
    for j, alpha in enumerate(alphas):
        loo = _brute_force_loo(X, Y, alpha, lambda a: NTKRegressor(alpha=a, depth=2))
        assert_allclose(cv.cv_results_[:, :, j], loo**2, rtol=1e-7, atol=1e-12)
    mse = [np.mean(_brute_force_loo(X, Y, a, lambda a: NTKRegressor(alpha=a, depth=2))
                   ** 2) for a in alphas]
    assert cv.alpha_ == alphas[int(np.argmin(mse))]
    assert_allclose(cv.best_score_, -min(mse), rtol=1e-7)
    ref = NTKRegressor(alpha=cv.alpha_, depth=2).fit(X, Y)
    assert_allclose(cv.predict(X[:5]), ref.predict(X[:5]), rtol=1e-8)


def test_classifier_cv_loo_accuracy_equals_brute_force():
    X, y = load_digits(return_X_y=True)
    X, y = X[:120], y[:120]
    alphas = [1e-2, 10.0, 1e3]
    cv = NTKClassifierCV(alphas=alphas, scoring="accuracy").fit(X, y)
    accs = []
    for a in alphas:
        hits = [NTKClassifier(alpha=a).fit(np.delete(X, i, 0), np.delete(y, i))
                .predict(X[i:i + 1])[0] == y[i] for i in range(len(X))]
        accs.append(np.mean(hits))
    assert_allclose(cv.best_score_, max(accs))
    assert cv.alpha_ == alphas[int(np.argmax(accs))]


def test_pipeline_grid_search_and_pickle():
    X, y = load_digits(return_X_y=True)
    X, y = X[:400], y[:400]
    pipe = make_pipeline(StandardScaler(), NTKClassifier())
    grid = GridSearchCV(pipe, {"ntkclassifier__depth": [1, 2],
                               "ntkclassifier__alpha": [1e-2, 1.0],
                               "ntkclassifier__kernel": ["ntk", "nngp"]},
                        cv=KFold(3, shuffle=True, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no jitter or other warnings on real data
        grid.fit(X, y)
    assert grid.best_score_ > 0.9
    clone = pickle.loads(pickle.dumps(grid.best_estimator_))
    assert_array_equal(clone.predict(X[:50]), grid.best_estimator_.predict(X[:50]))
    assert_allclose(clone.decision_function(X[:50]),
                    grid.best_estimator_.decision_function(X[:50]), rtol=0, atol=0)


# --------------------------------------------------------------------------- #
# Bad input: clear errors naming the argument
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("params, match", [
    (dict(alpha=-1.0), "alpha"),
    (dict(depth=0), "depth"),
    (dict(kernel="rbf"), "kernel"),
    (dict(solver="cholesky", training_time=1.0), "solver='eigh'"),
    (dict(training_time=-2.0), "training_time"),
    (dict(w_std=np.inf), "w_std"),
])
def test_bad_parameters(data, params, match):
    X, Y, _ = data
    with pytest.raises(ValueError, match=match):
        NTKRegressor(**params).fit(X, Y)


def test_bad_data(data):
    X, Y, Xt = data
    with pytest.raises(ValueError, match="square"):
        NTKRegressor(kernel="precomputed").fit(X, Y)
    K = relu_kernel(X)
    K_nan = K.copy()
    K_nan[0, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        NTKRegressor(kernel="precomputed").fit(K_nan, Y)
    pre = NTKRegressor(kernel="precomputed").fit(K, Y)
    with pytest.raises(ValueError, match=r"\(n_test, 40\)"):
        pre.predict(relu_kernel(Xt, X)[:, :30])
    y_nan = Y[:, 0].copy()
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match="y"):
        NTKRegressor().fit(X, y_nan)
    with pytest.raises(ValueError, match="minimum of 2"):
        NTKRegressor().fit(X[:1], Y[:1])
    with pytest.raises(ValueError, match="4 features"):
        NTKRegressor().fit(X, Y).predict(Xt[:, :3])
    with pytest.raises(ValueError, match="precomputed"):
        pre.predict(relu_kernel(Xt, X), return_std=True)
    with pytest.raises(ValueError, match="at least 2 classes"):
        NTKClassifier().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="alphas"):
        NTKRegressorCV(alphas=[0.0, 1.0]).fit(X, Y)
    with pytest.raises(ValueError, match="solver='eigh'"):
        list(NTKRegressor().fit(X, Y).staged_predict(Xt, [1.0]))
    with pytest.raises(ValueError, match="training_times"):
        list(NTKRegressor(solver="eigh").fit(X, Y).staged_predict(Xt, [-1.0]))


# --------------------------------------------------------------------------- #
# The seed's experiment on real Fashion-MNIST
# --------------------------------------------------------------------------- #


def test_seed_tp5_ntk_regression_on_fashion_mnist():
    """TP5: Dress (3) vs Shirt (6), first 100 of each class, pixels in [-1, 1],
    ridge-free NTK regression on labels / 9 thresholded at 4.5 / 9; the
    notebook printed 100% train and 91% test accuracy."""
    from skntk.datasets import load_fashion_mnist

    kw = dict(classes=[3, 6], scale="symmetric", return_X_y=True)
    X, y = load_fashion_mnist("train", n_per_class=100, **kw)
    Xt, yt = load_fashion_mnist("test", **kw)
    assert X.shape == (200, 784) and Xt.shape == (2000, 784)
    reg = NTKRegressor(alpha=0.0, depth=1).fit(X, y / 9)

    def classify(f):
        return np.where(f > 4.5 / 9, 6, 3)

    assert np.mean(classify(reg.predict(X)) == y) == 1.0
    test_acc = np.mean(classify(reg.predict(Xt)) == yt)
    assert abs(test_acc - 0.91) <= 0.02, test_acc


# --------------------------------------------------------------------------- #
# Scale: float32, memory guard, chunked prediction, in-place factorisation
# --------------------------------------------------------------------------- #


def test_float32_agrees_with_float64():
    X, y = load_digits(return_X_y=True)
    X, y = X[:600], y[:600]
    c64 = NTKClassifier(alpha=0.1, depth=2, b_std=0.1).fit(X[:400], y[:400])
    c32 = NTKClassifier(alpha=0.1, depth=2, b_std=0.1, dtype="float32").fit(
        X[:400], y[:400])
    assert c32.dual_coef_.dtype == np.float32 and c32.L_.dtype == np.float32
    s64, s32 = c64.decision_function(X[400:]), c32.decision_function(X[400:])
    assert_allclose(s32, s64, rtol=0, atol=1e-3 * np.abs(s64).max())
    assert np.mean(c32.predict(X[400:]) == c64.predict(X[400:])) >= 0.99


def test_memory_guard_fails_before_allocating(monkeypatch):
    X = np.random.default_rng(0).normal(size=(3000, 5))
    y = X[:, 0]
    monkeypatch.setenv("SKNTK_MAX_MEMORY", "50MB")  # the Gram needs 72 MB
    with pytest.raises(MemoryError, match=r"3000 x 3000 float64.*dtype='float32'"):
        NTKRegressor().fit(X, y)
    # float32 (36 MB) fits; the eigen solver's workspace (3 arrays) does not
    NTKRegressor(dtype="float32").fit(X, y)
    with pytest.raises(MemoryError, match="3 such arrays"):
        NTKRegressor(dtype="float32", solver="eigh").fit(X, y)
    monkeypatch.setenv("SKNTK_MAX_MEMORY", "lots")
    with pytest.raises(ValueError, match="SKNTK_MAX_MEMORY"):
        NTKRegressor().fit(X, y)


def test_chunked_prediction_equals_one_block(data):
    import sklearn

    X, Y, Xt = data
    Xt = np.vstack([Xt] * 20)
    reg = NTKRegressor(alpha=0.1, depth=2, solver="eigh").fit(X, Y)
    whole = reg.predict(Xt, return_std=True)
    staged = list(reg.staged_predict(Xt, [3.0]))
    with sklearn.config_context(working_memory=0.001):  # ~3 rows per chunk
        assert len(reg._row_chunks(len(Xt))) > 50
        chunked = reg.predict(Xt, return_std=True)
        assert_allclose(list(reg.staged_predict(Xt, [3.0]))[0], staged[0], rtol=1e-12)
    assert_allclose(chunked[0], whole[0], rtol=1e-12)
    assert_allclose(chunked[1], whole[1], rtol=1e-12)


def test_fit_factors_the_gram_in_place():
    """Peak memory of fit: one n x n array (plus tiles), never two."""
    import tracemalloc

    X = np.random.default_rng(0).normal(size=(1500, 20))
    y = X[:, 0]
    # warm up on the same shape: numba compiles the code paths this size takes
    # (serial or parallel tiles) outside the traced fit
    NTKRegressor().fit(X, y)
    tracemalloc.start()
    reg = NTKRegressor(alpha=1e-2).fit(X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gram = 1500 * 1500 * 8
    assert peak < 1.5 * gram, peak / gram


def test_verbose_logs_progress(capsys):
    X = np.random.default_rng(0).normal(size=(100, 3))
    NTKRegressor(verbose=1).fit(X, X[:, 0])
    err = capsys.readouterr().err
    assert "Gram matrix 100 x 100" in err and "Cholesky" in err
    NTKRegressor().fit(X, X[:, 0])
    assert capsys.readouterr().err == ""


def test_nystrom_with_all_rows_as_centres_is_exact_kernel_ridge(data):
    X, Y, Xt = data
    exact = NTKRegressor(alpha=0.05, depth=2).fit(X, Y)
    ny = NTKRegressor(alpha=0.05, depth=2, solver="nystrom", n_components=len(X),
                      tol=1e-12).fit(X, Y)
    assert_allclose(ny.predict(Xt), exact.predict(Xt), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("weighted", [False, True])
def test_nystrom_equals_the_direct_nystrom_solution(weighted):
    """(K_nm' W K_nm + alpha K_mm) beta = K_nm' W y, solved densely by numpy."""
    rng = np.random.default_rng(2)
    X, Xt = rng.normal(size=(300, 6)), rng.normal(size=(40, 6))
    Y = np.column_stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]])
    w = rng.uniform(0.2, 3.0, size=300) if weighted else np.ones(300)
    ny = NTKRegressor(alpha=0.3, depth=2, b_std=0.2, solver="nystrom", n_components=60,
                      tol=1e-10, random_state=0)
    ny.fit(X, Y, sample_weight=w if weighted else None)
    C = X[ny.support_]
    assert_array_equal(ny.centers_, C)
    kw = dict(depth=2, b_std=0.2)
    Knm, Kmm = relu_kernel(X, C, **kw), relu_kernel(C, **kw)
    beta = np.linalg.solve(Knm.T @ (w[:, None] * Knm) + 0.3 * Kmm,
                           Knm.T @ (w[:, None] * Y))
    assert_allclose(ny.predict(Xt), relu_kernel(Xt, C, **kw) @ beta, rtol=1e-6,
                    atol=1e-8)
    assert 1 <= ny.n_iter_ < 100
    # same random_state, same centres; another, other centres
    again = NTKRegressor(solver="nystrom", n_components=60, random_state=0).fit(X, Y)
    other = NTKRegressor(solver="nystrom", n_components=60, random_state=1).fit(X, Y)
    assert_array_equal(again.support_, ny.support_)
    assert not np.array_equal(other.support_, ny.support_)


def test_nystrom_bad_input(data):
    X, Y, Xt = data
    with pytest.raises(ValueError, match="precomputed"):
        NTKRegressor(solver="nystrom", kernel="precomputed").fit(relu_kernel(X), Y)
    with pytest.raises(ValueError, match="solver='eigh'"):
        NTKRegressor(solver="nystrom", training_time=1.0).fit(X, Y)
    ny = NTKRegressor(solver="nystrom", n_components=10).fit(X, Y)
    with pytest.raises(ValueError, match="nystrom"):
        ny.predict(Xt, return_std=True)
    with pytest.raises(ValueError, match="nystrom"):
        ny.gram_min_eigenvalue()


def test_cv_over_training_times_is_gcv_of_the_flow():
    """GCV against a dense reference: H = K K_a^-1 (I - expm(-t K_a / N))."""
    from scipy.linalg import expm

    rng = np.random.default_rng(4)
    X = rng.normal(size=(50, 3))
    y = np.sin(2 * X[:, 0]) + 0.3 * rng.normal(size=50)
    alphas, times = [1e-3, 0.1], [0.5, 20.0, np.inf]
    cv = NTKRegressorCV(alphas=alphas, training_times=times, depth=2,
                        store_cv_results=True).fit(X, y)
    K = relu_kernel(X, depth=2)
    ref = np.empty((2, 3))
    for a, alpha in enumerate(alphas):
        Ka = K + alpha * np.eye(50)
        for j, t in enumerate(times):
            flow = np.eye(50) if np.isinf(t) else np.eye(50) - expm(-t * Ka / 50)
            H = K @ np.linalg.solve(Ka, flow)
            ref[a, j] = np.mean((y - H @ y) ** 2) / (1 - np.trace(H) / 50) ** 2
    assert_allclose(cv.cv_results_, ref, rtol=1e-6)
    a, j = np.unravel_index(np.argmin(ref), ref.shape)
    assert (cv.alpha_, cv.training_time_) == (alphas[a], times[j])
    direct = NTKRegressor(alpha=cv.alpha_, depth=2, solver="eigh",
                          training_time=None if np.isinf(cv.training_time_)
                          else cv.training_time_).fit(X, y)
    assert_allclose(cv.predict(X[:7]), direct.predict(X[:7]), rtol=1e-8)
    with pytest.raises(ValueError, match="training_times"):
        NTKRegressorCV(training_times=[-1.0]).fit(X, y)
    with pytest.raises(ValueError, match="scoring='accuracy'"):
        NTKClassifierCV(training_times=[1.0], scoring="accuracy").fit(X, y > 0)


def test_blocked_cholesky_path_equals_lapack(monkeypatch):
    """Above 2**31 elements (n > 46340) the factorisation and solves run in
    column blocks (LAPACK's LP64 interface crashes there); force that path on a
    small problem and compare with scipy's LAPACK path."""
    import skntk.linalg.cholesky as blocked

    rng = np.random.default_rng(0)
    X, Y, Xt = rng.normal(size=(700, 6)), rng.normal(size=(700, 2)), rng.normal(
        size=(9, 6))
    ref = NTKRegressor(alpha=0.1, depth=2).fit(X, Y)
    monkeypatch.setattr(blocked, "LARGE", 1000)
    monkeypatch.setattr(blocked, "_BLOCK", 128)
    monkeypatch.setattr(blocked, "_PANEL", 200)  # updates in column panels too
    big = NTKRegressor(alpha=0.1, depth=2).fit(X, Y)
    assert blocked.is_large(700)
    assert_allclose(big.L_, ref.L_, rtol=1e-10, atol=1e-12)
    for a, b in zip(big.predict(Xt, return_std=True), ref.predict(Xt, return_std=True)):
        assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    assert_allclose(big.gram_min_eigenvalue(), ref.gram_min_eigenvalue(), rtol=1e-6)
    # not positive definite: the same escalation (jitter, warning) as LAPACK's
    Xd = np.vstack([X, X[:5]])
    with pytest.warns(UserWarning, match="jitter"):
        NTKRegressor(alpha=0.0, depth=2).fit(Xd, np.ones(len(Xd)))


def test_review_fixes_cv_inf_time_stale_attributes_and_ties(data):
    X, Y, Xt = data
    y = Y[:, 0]
    # GCV choosing t = inf is the converged model: std and bound available
    cv = NTKRegressorCV(alphas=[0.1], training_times=[np.inf]).fit(X, y)
    ref = NTKRegressor(alpha=0.1).fit(X, y)
    assert_allclose(cv.predict(Xt, return_std=True)[1],
                    ref.predict(Xt, return_std=True)[1], rtol=1e-8)
    assert_allclose(cv.generalization_bound(), ref.generalization_bound(), rtol=1e-8)
    # a refit with another solver or a precomputed kernel drops stale state
    est = NTKRegressor(solver="nystrom", n_components=10).fit(X, y)
    est.set_params(solver="cholesky").fit(X, y)
    assert est.support_ is None and est.centers_ is None
    est.set_params(kernel="precomputed").fit(relu_kernel(X), y)
    assert est.X_fit_ is None
    # accuracy ties go to the smallest alpha, whatever the order given
    Xc, yc = load_digits(return_X_y=True)
    a = NTKClassifierCV(alphas=[1e-2, 1e-4, 1e-3], scoring="accuracy").fit(
        Xc[:80], yc[:80])
    b = NTKClassifierCV(alphas=[1e-4, 1e-3, 1e-2], scoring="accuracy").fit(
        Xc[:80], yc[:80])
    assert a.alpha_ == b.alpha_
    # a float32 precomputed Gram stays float32 on the way in
    K32 = relu_kernel(X.astype(np.float32))
    pre = NTKRegressor(kernel="precomputed", dtype="float32").fit(K32, y)
    assert pre.L_.dtype == np.float32


def test_eigh_refuses_sizes_beyond_lapack_workspace(data, monkeypatch):
    import skntk.linalg.spectral as spectral

    X, Y, _ = data
    monkeypatch.setattr(spectral, "EIGH_MAX_N", 30)  # really 32766
    for est in (NTKRegressor(solver="eigh"), NTKRegressor(training_time=1.0),
                NTKRegressorCV()):
        with pytest.raises(ValueError, match="at most 30 training samples"):
            est.fit(X, Y)
    NTKRegressor().fit(X, Y)  # Cholesky has no such limit
