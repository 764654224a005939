"""Early stopping and sample weights of TorchMLPClassifier / TorchMLPRegressor.

References are scikit-learn's own MLP: its ``_update_no_improvement_count``
driven by a scripted sequence of scores (the counter), ``MLPRegressor`` /
``MLPClassifier`` on the same data (epoch counts and validation scores of the
same order), its errors (``partial_fit`` with early stopping, impossible
validation splits) and its ``check_sample_weight_equivalence_on_dense_data``;
and exact identities (integer weights = repeated rows with full-batch
training, zero weights = removed rows).
"""

import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_blobs, make_classification
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import (
    check_sample_weight_equivalence_on_dense_data,
)

from skntk import TorchMLPClassifier, TorchMLPRegressor


def _regression(n=400):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + np.sin(2 * X[:, 0])
    return X, (y - y.mean()) / y.std()


# --------------------------------------------------------------------------- #
# the "no improvement" counter
# --------------------------------------------------------------------------- #

# scripted validation scores: a rise by more than tol, rises smaller than tol,
# a new best after a dip, a plateau, a NaN (scikit-learn resets on it)
SCRIPT = [0.1, 0.3, 0.30005, 0.30008, 0.2, 0.5, 0.5, 0.49, 0.50009, 0.6, 0.6,
          np.nan, 0.55, 0.55, 0.55, 0.55, 0.61, 0.55]


def _sklearn_counts(values, tol, early_stopping):
    """scikit-learn's own counter on scripted values: its
    ``_update_no_improvement_count`` with the score (or loss) fed in."""
    ref = MLPRegressor(tol=tol, early_stopping=early_stopping)
    ref.coefs_, ref.intercepts_ = [np.zeros(1)], [np.zeros(1)]
    ref._no_improvement_count = 0
    ref.loss_curve_ = []
    if early_stopping:
        ref.validation_scores_, ref.best_validation_score_ = [], -np.inf
    else:
        ref.best_loss_ = np.inf
    counts, bests = [], []
    for v in values:
        ref._score = lambda X, y, sample_weight=None, v=v: v
        ref.loss_curve_.append(v)
        ref._update_no_improvement_count(early_stopping, None, None, None)
        counts.append(ref._no_improvement_count)
        bests.append(ref.best_validation_score_ if early_stopping else ref.best_loss_)
    return counts, bests


@pytest.mark.parametrize("early_stopping", [True, False])
@pytest.mark.parametrize("tol", [1e-4, 0.0, 0.05])
def test_no_improvement_counter_is_scikit_learns(early_stopping, tol):
    values = SCRIPT if early_stopping else [-v for v in SCRIPT]  # losses fall
    want_counts, want_bests = _sklearn_counts(values, tol, early_stopping)
    est = TorchMLPRegressor(tol=tol)
    est._no_improvement_count = 0
    est.validation_scores_, est.best_validation_score_ = [], -np.inf
    est.best_loss_ = np.inf
    counts, bests = [], []
    for v in values:
        est._record_epoch(v, early_stopping=early_stopping)
        counts.append(est._no_improvement_count)
        bests.append(est.best_validation_score_ if early_stopping else est.best_loss_)
    assert counts == want_counts
    np.testing.assert_array_equal(bests, want_bests)
    if early_stopping:
        np.testing.assert_array_equal(est.validation_scores_, values)
    if tol == 1e-4 and early_stopping:
        # by hand: +0.2 resets; +5e-5 and +8e-5 (< tol) count; ...
        assert counts[:6] == [0, 0, 1, 2, 3, 0]


def _scripted(est, scores):
    """Make ``est`` see ``scores`` as its validation scores, one per epoch,
    and keep a copy of the network at each epoch."""
    seen = []

    def val_score(module, X_val, y_val, w_val):
        seen.append({k: v.clone() for k, v in module.state_dict().items()})
        return scores[len(seen) - 1]

    est._val_score = val_score
    return seen


def test_fit_stops_where_the_counter_says_and_keeps_the_best_epoch():
    X, y = _regression(120)
    n_iter_no_change = 4
    # rises for 30 epochs (by more than tol), then a plateau below the best
    scores = list(np.linspace(-0.9, 0.9, 30)) + [0.85] * 50
    counts, _ = _sklearn_counts(scores, 1e-4, True)
    stop = next(i for i, c in enumerate(counts) if c > n_iter_no_change) + 1
    assert stop == 30 + n_iter_no_change + 1
    est = TorchMLPRegressor((8,), early_stopping=True,
                            n_iter_no_change=n_iter_no_change, max_iter=200,
                            random_state=0)
    seen = _scripted(est, scores)
    est.fit(X, y)
    assert est.n_iter_ == len(est.validation_scores_) == stop
    assert est.best_validation_score_ == 0.9
    best = seen[29]  # the network of epoch 30 is restored, as scikit-learn does
    for k, v in est.module_.state_dict().items():
        torch.testing.assert_close(v, best[k], rtol=0, atol=0)
    assert not torch.equal(seen[-1]["layers.0.weight"], best["layers.0.weight"])

    # a warm start whose scores never beat 0.9 keeps that network (scikit-learn
    # restores its stored best coefficients)
    est.set_params(warm_start=True, max_iter=10)
    _scripted(est, [0.5] * 10)
    est.fit(X, y)
    assert est.best_validation_score_ == 0.9
    for k, v in est.module_.state_dict().items():
        torch.testing.assert_close(v, best[k], rtol=0, atol=0)


# --------------------------------------------------------------------------- #
# against scikit-learn's MLP on the same data
# --------------------------------------------------------------------------- #

# scikit-learn's init is Glorot with random biases: xavier_normal and b_std
# are the closest of ours
ES = dict(hidden_layer_sizes=(32,), early_stopping=True, learning_rate_init=1e-3,
          max_iter=300, n_iter_no_change=10, tol=1e-4)
OURS = dict(init="xavier_normal", b_std=0.1)


@pytest.mark.parametrize("seed", [0, 2])
def test_regression_trains_as_long_as_scikit_learns(seed):
    """Validation R2 improves for 100+ epochs: training must not stop at
    n_iter_no_change + 1 = 11 epochs (it did, whatever happened)."""
    X, y = _regression()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
        sk = MLPRegressor(random_state=seed, **ES).fit(X, y)
        ours = TorchMLPRegressor(random_state=seed, **OURS, **ES).fit(X, y)
    assert sk.n_iter_ > 80 and ours.n_iter_ > 80
    assert 1 / 3 < ours.n_iter_ / sk.n_iter_ < 3, (ours.n_iter_, sk.n_iter_)
    assert ours.best_validation_score_ > 0.9 and sk.best_validation_score_ > 0.9
    assert abs(ours.best_validation_score_ - sk.best_validation_score_) < 0.08
    v = np.asarray(ours.validation_scores_)
    assert v[0] < 0.5 < v[60]  # it kept improving well past epoch 11
    assert ours.best_validation_score_ == v.max()
    assert len(v) == ours.n_iter_ and ours.best_loss_ is None


@pytest.mark.parametrize("seed", [0, 1])
def test_classification_trains_as_long_as_scikit_learns(seed):
    X, y = make_classification(400, 8, n_informative=5, n_classes=3,
                               class_sep=1.5, random_state=0)
    X = StandardScaler().fit_transform(X)
    sk = MLPClassifier(random_state=seed, **ES).fit(X, y)
    ours = TorchMLPClassifier(random_state=seed, **OURS, **ES).fit(X, y)
    assert 1 / 3 < ours.n_iter_ / sk.n_iter_ < 3, (ours.n_iter_, sk.n_iter_)
    assert ours.n_iter_ > ES["n_iter_no_change"] + 11
    assert abs(ours.best_validation_score_ - sk.best_validation_score_) < 0.1
    assert ours.best_validation_score_ == max(ours.validation_scores_)


# --------------------------------------------------------------------------- #
# partial_fit and the validation split
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("Est, Ref", [(TorchMLPClassifier, MLPClassifier),
                                      (TorchMLPRegressor, MLPRegressor)])
def test_partial_fit_refuses_early_stopping_as_scikit_learn(Est, Ref):
    X, y = make_blobs(60, n_features=3, centers=2, random_state=0)
    kw = dict(classes=[0, 1]) if Est is TorchMLPClassifier else {}
    with pytest.raises(ValueError) as sk_err:
        Ref(early_stopping=True).partial_fit(X, y, **kw)
    est = Est(early_stopping=True)
    with pytest.raises(ValueError, match="early_stopping=False") as our_err:
        est.partial_fit(X, y, **kw)
    assert str(sk_err.value) in str(our_err.value)
    assert not hasattr(est, "module_") and not hasattr(est, "n_iter_")
    # the same estimator trains incrementally without it
    est.set_params(early_stopping=False).partial_fit(X, y, **kw)
    assert est.n_iter_ == 1


def test_multiclass_with_a_one_sample_class_fits_as_in_scikit_learn():
    """scikit-learn stratifies the split only for two classes."""
    X, y = make_blobs(61, n_features=3, centers=3, random_state=0)
    y[0] = 3  # a class with a single row
    kw = dict(hidden_layer_sizes=(8,), early_stopping=True, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        MLPClassifier(random_state=0, **kw).fit(X, y)
        est = TorchMLPClassifier(random_state=0, **kw).fit(X, y)
    assert est.classes_.tolist() == [0, 1, 2, 3]
    assert est.predict_proba(X).shape == (61, 4)


@pytest.mark.parametrize("Est", [TorchMLPClassifier, TorchMLPRegressor])
def test_impossible_validation_splits_name_the_parameters(Est):
    X, y = make_blobs(30, n_features=3, centers=2, random_state=0)
    y = y.astype(float) if Est is TorchMLPRegressor else y
    cases = [
        # one validation row: too few to score (scikit-learn refuses too; a
        # stratified split of two classes is refused by train_test_split)
        (X[:10], y[:10], dict(validation_fraction=0.1), "too few|impossible"),
        # no training row left
        (X[:4], y[:4], dict(validation_fraction=0.9), "impossible"),
    ]
    for Xc, yc, params, what in cases:
        est = Est(early_stopping=True, **params)
        with pytest.raises(ValueError, match=what) as err:
            est.fit(Xc, yc)
        assert "early_stopping" in str(err.value)
        assert "validation_fraction" in str(err.value)


def test_binary_one_row_class_is_refused_where_scikit_learn_refuses():
    """Two classes are stratified (by scikit-learn too): a one-row class
    cannot be split; the error says which parameters to change."""
    X = np.random.default_rng(0).standard_normal((41, 3))
    y = np.r_[1, np.zeros(40, dtype=int)]
    with pytest.raises(ValueError):
        MLPClassifier(early_stopping=True).fit(X, y)
    with pytest.raises(ValueError, match="class 1 has a single row") as err:
        TorchMLPClassifier(early_stopping=True).fit(X, y)
    assert "early_stopping" in str(err.value)
    assert "validation_fraction" in str(err.value)


# --------------------------------------------------------------------------- #
# sample_weight
# --------------------------------------------------------------------------- #

WEIGHTED = [
    (TorchMLPRegressor, {}),
    (TorchMLPClassifier, {}),
    (TorchMLPClassifier, dict(loss="mse")),
    (TorchMLPClassifier, dict(optimizer="sgd", learning_rate_init=0.05)),
]


def _outputs(est, X):
    return est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)


@pytest.mark.parametrize("Est, extra", WEIGHTED)
def test_integer_weights_are_repeated_rows_and_zero_weights_removed_rows(Est, extra):
    """Full batch (``batch_size="auto"`` is every row below 200): the weighted
    mean loss is the mean over the repeated rows, to rounding."""
    rng = np.random.RandomState(42)
    X = rng.rand(40, 6)
    y = rng.randint(0, 3, 40)
    sw = rng.randint(0, 4, 40)
    assert (sw == 0).any() and (sw > 1).any() and sw.sum() < 200
    kw = dict(hidden_layer_sizes=(16,), max_iter=60, n_iter_no_change=np.inf,
              random_state=0, dtype="float64", **extra)
    weighted = Est(**kw).fit(X, y, sample_weight=sw)
    repeated = Est(**kw).fit(X.repeat(sw, axis=0), y.repeat(sw))
    np.testing.assert_allclose(_outputs(weighted, X), _outputs(repeated, X),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_,
                               rtol=1e-9)


@pytest.mark.parametrize("Est", [TorchMLPClassifier, TorchMLPRegressor])
def test_zero_weight_batch_is_skipped_with_minibatches(Est):
    """Unshuffled batches of 10: zeroing the first 10 rows trains exactly as
    dropping them (that batch takes no optimizer step)."""
    X, y = make_blobs(60, n_features=3, centers=3, random_state=0)
    y = y if Est is TorchMLPClassifier else y.astype(float)
    kw = dict(hidden_layer_sizes=(8,), batch_size=10, shuffle=False, max_iter=5,
              n_iter_no_change=np.inf, random_state=0)
    sw = np.r_[np.zeros(10), np.full(50, 2.5)]
    weighted = Est(**kw).fit(X, y, sample_weight=sw)
    dropped = Est(**kw).fit(X[10:], y[10:])
    np.testing.assert_allclose(_outputs(weighted, X), _outputs(dropped, X),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(weighted.loss_curve_, dropped.loss_curve_, rtol=1e-6)


@pytest.mark.parametrize("Est", [TorchMLPClassifier, TorchMLPRegressor])
def test_partial_fit_with_weights_is_one_weighted_epoch(Est):
    X, y = make_blobs(60, n_features=3, centers=3, random_state=0)
    y = y if Est is TorchMLPClassifier else y.astype(float)
    sw = np.random.RandomState(0).rand(60)
    kw = dict(hidden_layer_sizes=(8,), batch_size=16, shuffle=False, max_iter=1,
              n_iter_no_change=np.inf, random_state=0)
    cls = dict(classes=[0, 1, 2]) if Est is TorchMLPClassifier else {}
    inc = Est(**kw).partial_fit(X, y, sample_weight=sw, **cls)
    full = Est(**kw).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(_outputs(inc, X), _outputs(full, X), rtol=1e-6)
    unweighted = Est(**kw).partial_fit(X, y, **cls)
    assert not np.allclose(_outputs(inc, X), _outputs(unweighted, X))


@pytest.mark.parametrize("Est", [TorchMLPClassifier, TorchMLPRegressor])
def test_sample_weight_equivalence_check_passes_in_float64(Est):
    """scikit-learn's own check, on the common-check instance in float64 (in
    float32 it is an expected failure of tests/_instances.py: rounding)."""
    est = Est(hidden_layer_sizes=(32,), max_iter=100, learning_rate_init=0.01,
              dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_sample_weight_equivalence_on_dense_data(Est.__name__, est)


@pytest.mark.parametrize("Est", [TorchMLPClassifier, TorchMLPRegressor])
def test_weighted_early_stopping_and_bad_weights(Est):
    X, y = make_blobs(80, n_features=3, centers=2, random_state=0)
    y = y if Est is TorchMLPClassifier else y.astype(float)
    sw = np.ones(80)
    kw = dict(hidden_layer_sizes=(8,), early_stopping=True, max_iter=30,
              validation_fraction=0.25, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = Est(**kw).fit(X, y, sample_weight=sw)
        b = Est(**kw).fit(X, y)
    # weights 1 are no weights: the same split, scores and stopping epoch
    assert a.n_iter_ == b.n_iter_
    np.testing.assert_allclose(a.validation_scores_, b.validation_scores_,
                               rtol=1e-5, atol=1e-6)
    sw0 = sw.copy()
    for bad, what in ((-sw, "Negative"), (sw * np.nan, "NaN"), (sw[:5], "shape"),
                      (0 * sw, "non-zero"),
                      (np.full(80, 1e308), "sample_weight sums to inf")):
        with pytest.raises(ValueError, match=what):
            clone(a).fit(X, y, sample_weight=bad)
    np.testing.assert_array_equal(sw, sw0)
    # one row with weight: the training or the validation side weighs nothing
    with pytest.raises(ValueError, match="sample_weight 0.*validation_fraction"):
        Est(**kw).fit(X, y, sample_weight=np.r_[np.ones(1), np.zeros(79)])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_predictions_agree_to_float64_rounding_however_rows_are_batched(dtype):
    """The dtype docstring's promise (issue 18, defect 10)."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((60, 7))
    y = X[:, 0] * X[:, 1] + np.sin(X[:, 2])
    est = TorchMLPRegressor((64, 32), dtype=dtype, max_iter=5, random_state=0,
                            n_iter_no_change=np.inf).fit(X, y)
    whole = est.predict(X)
    one_by_one = np.concatenate([est.predict(X[i:i + 1]) for i in range(len(X))])
    reversed_rows = est.predict(X[::-1])[::-1]
    scale = np.abs(whole).max()
    for other in (one_by_one, reversed_rows):
        assert np.abs(other - whole).max() <= 1e-14 * scale


def test_outputs_that_overflow_are_an_error_not_inf():
    """Found by the API fuzzer: SGD on inputs of 1e100 left finite parameters
    whose outputs overflow float64; predict returned -inf."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 2)) * 1e100, rng.standard_normal(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = TorchMLPRegressor((1,), optimizer="sgd", max_iter=1, dtype="float64",
                                random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="not finite.*Scale X"):
        est.predict(X)
