"""The significance tests of ``skntk compare``: against hand computations and scipy."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from skntk.compare._stats import (
    bayesian_correlated_ttest,
    corrected_ttest,
    mcnemar_test,
)

A = [0.91, 0.87, 0.93, 0.89, 0.90, 0.88]
B = [0.88, 0.86, 0.90, 0.90, 0.87, 0.86]


def test_corrected_ttest_by_hand():
    # d = a - b = [.03, .01, .03, -.01, .03, .02]: mean 0.11/6, and by hand
    d = [0.03, 0.01, 0.03, -0.01, 0.03, 0.02]
    mean = sum(d) / 6
    var = sum((x - mean) ** 2 for x in d) / 5
    se = math.sqrt((1 / 6 + 20 / 80) * var)  # n_test / n_train = 1/4
    r = corrected_ttest(A, B, n_train=80, n_test=20)
    assert r["difference"] == pytest.approx(mean, abs=1e-15)
    assert r["t"] == pytest.approx(mean / se, rel=1e-12)
    assert r["df"] == 5 and r["n_folds"] == 6 and r["status"] == "ok"
    # p and the interval from the t table: t_{5, 0.975} = 2.570581835636314
    assert r["p_value"] == pytest.approx(2 * stats.t.sf(mean / se, 5), rel=1e-12)
    assert r["ci_low"] == pytest.approx(mean - 2.570581835636314 * se, rel=1e-10)
    assert r["ci_high"] == pytest.approx(mean + 2.570581835636314 * se, rel=1e-10)
    # the correction only widens: the uncorrected test is more confident
    plain = corrected_ttest(A, B, n_train=80, n_test=20, corrected=False)
    assert plain["p_value"] < r["p_value"]


def test_without_correction_it_is_scipys_paired_ttest():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.7, 0.9, 15), rng.uniform(0.7, 0.9, 15)
    r = corrected_ttest(a, b, n_train=100, n_test=25, corrected=False)
    ref = stats.ttest_rel(a, b)
    assert r["t"] == pytest.approx(ref.statistic, rel=1e-12)
    assert r["p_value"] == pytest.approx(ref.pvalue, rel=1e-12)
    one = stats.ttest_1samp(a - b, 0.0)
    assert r["p_value"] == pytest.approx(one.pvalue, rel=1e-12)
    low, high = one.confidence_interval(0.95)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((low, high), rel=1e-10)


def test_n_test_over_n_train_zero_is_the_uncorrected_test():
    r0 = corrected_ttest(A, B, n_train=80, n_test=0)
    r1 = corrected_ttest(A, B, n_train=80, n_test=20, corrected=False)
    assert r0["p_value"] == pytest.approx(r1["p_value"], rel=1e-14)


def test_identical_scores_give_p_one_and_no_nan():
    r = corrected_ttest(A, A, n_train=80, n_test=20)
    assert r["status"] == "identical" and r["p_value"] == 1.0
    assert r["difference"] == 0.0 and r["ci_low"] == r["ci_high"] == 0.0
    b = bayesian_correlated_ttest(A, A, n_train=80, n_test=20, rope=0.01)
    assert (b["p_left"], b["p_rope"], b["p_right"]) == (0.0, 1.0, 0.0)
    # a constant non-zero difference (up to rounding) is certain, not NaN
    shifted = corrected_ttest(np.add(A, 0.1), A, n_train=80, n_test=20)
    assert shifted["status"] == "identical" and shifted["p_value"] == 0.0
    assert shifted["difference"] == pytest.approx(0.1)
    b = bayesian_correlated_ttest(np.add(A, 0.1), A, n_train=80, n_test=20)
    assert b["p_right"] == 1.0


def test_one_fold_is_not_enough():
    r = corrected_ttest([0.9], [0.8], n_train=80, n_test=20)
    assert r["status"] == "not enough folds"
    assert r["p_value"] is None and r["ci_low"] is None and r["t"] is None
    assert r["difference"] == pytest.approx(0.1)
    b = bayesian_correlated_ttest([0.9], [0.8], n_train=80, n_test=20)
    assert b["status"] == "not enough folds" and b["p_rope"] is None


def test_bad_input():
    with pytest.raises(ValueError, match="same folds"):
        corrected_ttest([0.9, 0.8], [0.8], n_train=8, n_test=2)
    with pytest.raises(ValueError, match="finite"):
        corrected_ttest([0.9, np.nan], [0.8, 0.7], n_train=8, n_test=2)
    with pytest.raises(ValueError, match="rope"):
        bayesian_correlated_ttest(A, B, n_train=8, n_test=2, rope=-1)


def test_bayesian_posterior_by_hand():
    d = np.subtract(A, B)
    loc = d.mean()
    scale = math.sqrt((1 / 6 + 1 / 4) * d.var(ddof=1))
    rope = 0.01
    r = bayesian_correlated_ttest(A, B, n_train=80, n_test=20, rope=rope)
    assert r["loc"] == pytest.approx(loc) and r["scale"] == pytest.approx(scale)
    post = stats.t(5, loc=loc, scale=scale)
    assert r["p_left"] == pytest.approx(post.cdf(-rope), rel=1e-12)
    assert r["p_right"] == pytest.approx(post.sf(rope), rel=1e-12)
    assert r["p_left"] + r["p_rope"] + r["p_right"] == pytest.approx(1.0)
    # without a rope, P(right) is one minus the corrected test's one-sided p
    r0 = bayesian_correlated_ttest(A, B, n_train=80, n_test=20, rope=0.0)
    p = corrected_ttest(A, B, n_train=80, n_test=20)["p_value"]
    assert r0["p_right"] == pytest.approx(1 - p / 2, rel=1e-12)


def test_mcnemar_against_scipy_binomtest():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    a = np.where(rng.random(200) < 0.85, y, 1 - y)
    b = np.where(rng.random(200) < 0.75, y, 1 - y)
    r = mcnemar_test(y, a, b)
    n01 = int(np.sum((a == y) & (b != y)))
    n10 = int(np.sum((a != y) & (b == y)))
    assert (r["only_a_right"], r["only_b_right"]) == (n01, n10)
    assert r["p_value"] == pytest.approx(stats.binomtest(n01, n01 + n10).pvalue)
    assert r["difference"] == pytest.approx(np.mean(a == y) - np.mean(b == y))
    assert mcnemar_test(y, a, a)["p_value"] == 1.0


scores = st.lists(st.floats(0, 1, allow_nan=False), min_size=2, max_size=20)


@settings(max_examples=60, deadline=None)
@given(scores, st.data(), st.floats(-0.5, 0.5))
def test_properties(a, data, shift):
    b = data.draw(st.lists(st.floats(0, 1), min_size=len(a), max_size=len(a)))
    ab = corrected_ttest(a, b, n_train=90, n_test=10)
    ba = corrected_ttest(b, a, n_train=90, n_test=10)
    # antisymmetry: swapping the models negates the difference, keeps p
    assert ba["difference"] == pytest.approx(-ab["difference"], abs=1e-12)
    assert ba["p_value"] == pytest.approx(ab["p_value"], abs=1e-9)
    assert ba["ci_low"] == pytest.approx(-ab["ci_high"], abs=1e-9)
    assert 0.0 <= ab["p_value"] <= 1.0
    assert ab["ci_low"] <= ab["difference"] <= ab["ci_high"]
    # adding a constant to both models changes nothing (up to rounding)
    moved = corrected_ttest(np.add(a, shift), np.add(b, shift), n_train=90, n_test=10)
    assert moved["difference"] == pytest.approx(ab["difference"], abs=1e-9)
    if ab["status"] == "ok" and moved["status"] == "ok":
        assert moved["p_value"] == pytest.approx(ab["p_value"], abs=1e-6)
    bay = bayesian_correlated_ttest(a, b, n_train=90, n_test=10, rope=0.01)
    yab = bayesian_correlated_ttest(b, a, n_train=90, n_test=10, rope=0.01)
    assert bay["p_left"] == pytest.approx(yab["p_right"], abs=1e-9)
    assert sum(bay[k] for k in ("p_left", "p_rope", "p_right")) == pytest.approx(1.0)
