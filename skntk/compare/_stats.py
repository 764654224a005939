"""Significance of a difference between two models' fold scores: plain numpy/scipy.

Cross-validation folds share training rows, so their scores are correlated and
the ordinary paired t-test is far too confident. Two standard remedies:

- :func:`corrected_ttest`, the corrected resampled t-test of Nadeau & Bengio
  (2003): the variance of the mean difference over ``J`` folds is inflated from
  ``s^2 / J`` to ``(1 / J + n_test / n_train) s^2``;
- :func:`bayesian_correlated_ttest`, its Bayesian twin (Corani & Benavoli 2015,
  Benavoli et al. 2017): the posterior of the mean difference is a Student t with
  ``J - 1`` degrees of freedom, location the mean difference and the same scale;
  a region of practical equivalence (ROPE) gives P(left), P(rope), P(right).

:func:`mcnemar_test` compares two classifiers on one fixed test set (the
presets, which have no folds). Every function returns a plain dict (JSON-able);
a degenerate input (one fold, identical scores) gives a stated result, never NaN.

References
----------
C. Nadeau, Y. Bengio. Inference for the Generalization Error. Machine Learning
52, 239-281 (2003).
A. Benavoli, G. Corani, J. Demšar, M. Zaffalon. Time for a change: a tutorial
for comparing multiple classifiers through Bayesian analysis. JMLR 18(77), 2017.
"""

import numpy as np
from scipy import stats

__all__ = ["bayesian_correlated_ttest", "corrected_ttest", "mcnemar_test"]


def _differences(a, b):
    a = np.asarray(a, dtype=float).ravel()
    b = np.asarray(b, dtype=float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"the two models have {a.size} and {b.size} fold scores; "
                         "a paired test needs the same folds for both")
    if a.size == 0:
        raise ValueError("no fold scores")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError("fold scores must be finite")
    return a - b


def _ratio(n_test, n_train):
    n_test, n_train = np.mean(n_test), np.mean(n_train)
    if n_train <= 0 or n_test < 0:
        raise ValueError(f"n_train must be > 0 and n_test >= 0, got {n_train}, "
                         f"{n_test}")
    return float(n_test / n_train)


def _scale(d, ratio):
    """The corrected standard error of the mean difference, and the mean."""
    mean = float(np.mean(d))
    var = float(np.var(d, ddof=1))
    if np.ptp(d) <= 1e-12 * max(1.0, float(np.max(np.abs(d)))):
        var = 0.0  # the same difference on every fold, up to rounding
    return mean, float(np.sqrt((1.0 / d.size + ratio) * var))


def corrected_ttest(a, b, *, n_train, n_test, confidence=0.95, corrected=True):
    """Nadeau & Bengio's corrected resampled t-test of ``mean(a - b) == 0``.

    Parameters
    ----------
    a, b : array-like of shape (n_folds,)
        The two models' scores on the same folds (all repeats, flattened).
    n_train, n_test : int or array-like
        Training and held-out rows of a fold (their means if they vary).
    confidence : float, default=0.95
        Level of the confidence interval of the mean difference.
    corrected : bool, default=True
        False drops the ``n_test / n_train`` term: the ordinary paired t-test
        (:func:`scipy.stats.ttest_rel`), too confident on overlapping folds.

    Returns
    -------
    result : dict
        ``difference`` (mean of ``a - b``), ``ci_low``, ``ci_high``, ``t``,
        ``df``, ``p_value`` (two-sided) and ``n_folds``; ``status`` is ``"ok"``,
        ``"identical"`` (the same difference on every fold) or
        ``"not enough folds"`` (one fold: no variance, so ``t``, the interval
        and ``p_value`` are None).

    Examples
    --------
    >>> r = corrected_ttest([0.9, 0.8, 0.85], [0.8, 0.8, 0.8], n_train=80, n_test=20)
    >>> round(r["difference"], 4), round(r["p_value"], 3), r["status"]
    (0.05, 0.321, 'ok')
    """
    d = _differences(a, b)
    ratio = _ratio(n_test, n_train) if corrected else 0.0
    out = {"n_folds": int(d.size), "difference": float(np.mean(d)), "t": None,
           "df": int(d.size - 1), "p_value": None, "ci_low": None, "ci_high": None,
           "confidence": confidence, "status": "ok"}
    if d.size < 2:
        out["status"] = "not enough folds"
        return out
    mean, se = _scale(d, ratio)
    if se == 0.0:  # the same difference on every fold
        out.update(status="identical", ci_low=mean, ci_high=mean,
                   t=0.0 if mean == 0 else float(np.copysign(np.inf, mean)),
                   p_value=1.0 if mean == 0 else 0.0)
        return out
    t = mean / se
    half = float(stats.t.ppf(0.5 + confidence / 2, d.size - 1)) * se
    out.update(t=float(t), p_value=float(2 * stats.t.sf(abs(t), d.size - 1)),
               ci_low=mean - half, ci_high=mean + half)
    return out


def bayesian_correlated_ttest(a, b, *, n_train, n_test, rope=0.01):
    """Benavoli et al.'s Bayesian correlated t-test with a ROPE.

    The posterior of the mean difference ``mu`` of ``a - b`` is a Student t with
    ``n_folds - 1`` degrees of freedom, location ``mean(a - b)`` and scale
    ``sqrt((1 / n_folds + n_test / n_train) * var(a - b))`` (the correlation
    between folds taken as ``n_test / (n_train + n_test)``).

    Parameters
    ----------
    a, b : array-like of shape (n_folds,)
    n_train, n_test : int or array-like
    rope : float, default=0.01
        Half-width of the region of practical equivalence, in score units.

    Returns
    -------
    result : dict
        ``p_left`` = P(mu < -rope) (``b`` better), ``p_rope`` = P(|mu| <= rope),
        ``p_right`` = P(mu > rope) (``a`` better), ``loc``, ``scale``, ``df``,
        ``rope``, ``n_folds`` and ``status`` as for :func:`corrected_ttest` (with
        one fold the probabilities are None; with identical differences the
        posterior is a point mass).

    Examples
    --------
    >>> r = bayesian_correlated_ttest([0.9, 0.92, 0.91], [0.8, 0.8, 0.81],
    ...                               n_train=80, n_test=20, rope=0.01)
    >>> r["p_right"] > 0.95, round(r["p_left"] + r["p_rope"] + r["p_right"], 12)
    (True, 1.0)
    """
    if not rope >= 0:
        raise ValueError(f"rope must be >= 0, got {rope}")
    d = _differences(a, b)
    ratio = _ratio(n_test, n_train)
    out = {"n_folds": int(d.size), "rope": float(rope), "loc": float(np.mean(d)),
           "scale": None, "df": int(d.size - 1), "p_left": None, "p_rope": None,
           "p_right": None, "status": "ok"}
    if d.size < 2:
        out["status"] = "not enough folds"
        return out
    mean, scale = _scale(d, ratio)
    out["scale"] = scale
    if scale == 0.0:
        left, right = float(mean < -rope), float(mean > rope)
        out.update(status="identical", p_left=left, p_right=right,
                   p_rope=1.0 - left - right)
        return out
    post = stats.t(d.size - 1, loc=mean, scale=scale)
    left, right = float(post.cdf(-rope)), float(post.sf(rope))
    out.update(p_left=left, p_right=right, p_rope=max(0.0, 1.0 - left - right))
    return out


def mcnemar_test(y_true, pred_a, pred_b):
    """McNemar's exact test: two classifiers on the same fixed test set.

    Only the rows where exactly one of them is right count: under the null both
    kinds of disagreement are equally likely, so ``n01`` (only ``a`` right) is
    Binomial(``n01 + n10``, 1/2); the p-value is the two-sided exact binomial one.

    Parameters
    ----------
    y_true, pred_a, pred_b : array-like of shape (n_samples,)

    Returns
    -------
    result : dict
        ``difference`` (accuracy of ``a`` minus that of ``b``), ``only_a_right``,
        ``only_b_right``, ``p_value`` (1.0 when they never disagree),
        ``n_samples``.

    Examples
    --------
    >>> r = mcnemar_test([0, 1, 1, 0, 1], [0, 1, 1, 0, 0], [0, 0, 1, 1, 0])
    >>> r["only_a_right"], r["only_b_right"], r["p_value"]
    (2, 0, 0.5)
    """
    y_true, pred_a, pred_b = (np.asarray(v).ravel() for v in (y_true, pred_a, pred_b))
    if not y_true.shape == pred_a.shape == pred_b.shape:
        raise ValueError("y_true, pred_a and pred_b must have the same length")
    right_a, right_b = pred_a == y_true, pred_b == y_true
    n01 = int(np.sum(right_a & ~right_b))
    n10 = int(np.sum(~right_a & right_b))
    p = 1.0 if n01 + n10 == 0 else float(stats.binomtest(n01, n01 + n10).pvalue)
    return {"difference": float(np.mean(right_a) - np.mean(right_b)),
            "only_a_right": n01, "only_b_right": n10, "p_value": min(1.0, p),
            "n_samples": int(y_true.size)}
