"""``skntk compare``'s significance section: every pair of models on the same folds.

The statistics are :mod:`skntk.compare._stats`; this module decides the pairs
(each model against the kernel first, then the other pairs), builds the folds of
``--repeats``, and formats the printed table, the CSV columns and the sentence of
the report.
"""

import numpy as np

from ._models import KERNEL, NET
from ._stats import bayesian_correlated_ttest, corrected_ttest

#: The level of the tests, and the default ROPE (one accuracy point).
ALPHA = 0.05
ROPE = 0.01

DEFINITIONS = {
    "difference": "mean over the folds of accuracy(a) - accuracy(b)",
    "ci_low, ci_high": "95% confidence interval of the difference, corrected "
                       "resampled t-test (Nadeau & Bengio 2003)",
    "p_value": "two-sided p-value of the corrected resampled t-test: its variance "
               "is (1/J + n_test/n_train) var(differences), J folds in all repeats",
    "p_left, p_rope, p_right": "Bayesian correlated t-test (Benavoli et al. 2017): "
                               "posterior probability that b is better by more "
                               "than the rope, that they are equivalent within "
                               "it, that a is better by more than it",
}


def make_folds(X, y, n_splits, repeats, random_state):
    """``repeats`` x ``n_splits`` stratified folds, every repeat reshuffled.

    With ``repeats=1`` these are exactly ``StratifiedKFold(n_splits,
    shuffle=True, random_state=random_state)``'s folds (what a run without
    ``--repeats`` has always used).
    """
    from sklearn.model_selection import RepeatedStratifiedKFold

    splitter = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=repeats,
                                       random_state=random_state)
    return list(splitter.split(X, y))


def _pairs(models):
    pairs = [(m, KERNEL) for m in models if m != KERNEL] if KERNEL in models else []
    others = [m for m in models if m != KERNEL]
    pairs += [(a, b) for i, a in enumerate(others) for b in others[i + 1:]]
    return pairs


def significance(scores, n_train, n_test, models, rope=ROPE):
    """Both tests for every pair of ``models``.

    Parameters
    ----------
    scores : dict of str to array-like of shape (n_folds,)
        Each model's accuracy on the same folds (all repeats).
    n_train, n_test : array-like of shape (n_folds,)
    models : list of str
    rope : float

    Returns
    -------
    section : dict
        ``pairs``: one dict per pair (``a``, ``b``, the corrected t-test's
        ``difference``, ``ci_low``, ``ci_high``, ``t``, ``df``, ``p_value``,
        ``significant``, ``status``, and the Bayesian ``p_left``, ``p_rope``,
        ``p_right``); the test names, ``alpha`` and ``rope``.
    """
    pairs = []
    for a, b in _pairs(models):
        t = corrected_ttest(scores[a], scores[b], n_train=n_train, n_test=n_test,
                            confidence=1 - ALPHA)
        bay = bayesian_correlated_ttest(scores[a], scores[b], n_train=n_train,
                                        n_test=n_test, rope=rope)
        pairs.append({
            "a": a, "b": b, "n_folds": t["n_folds"], "difference": t["difference"],
            "ci_low": t["ci_low"], "ci_high": t["ci_high"], "t": t["t"], "df": t["df"],
            "p_value": t["p_value"],
            "significant": None if t["p_value"] is None else t["p_value"] < ALPHA,
            "status": t["status"], "p_left": bay["p_left"], "p_rope": bay["p_rope"],
            "p_right": bay["p_right"]})
    return {"test": "corrected resampled t-test (Nadeau & Bengio 2003)",
            "bayesian": "Bayesian correlated t-test (Benavoli et al. 2017)",
            "alpha": ALPHA, "rope": rope, "n_train_mean": float(np.mean(n_train)),
            "n_test_mean": float(np.mean(n_test)), "definitions": DEFINITIONS,
            "pairs": pairs}


def from_results(results, models, n_folds, rope=ROPE):
    """:func:`significance` of the per-fold results of the CV driver."""
    scores = {m: [results[m, k]["accuracy"] for k in range(n_folds)] for m in models}
    first = models[0]
    n_train = [results[first, k]["n_train"] for k in range(n_folds)]
    n_test = [results[first, k]["n_test"] for k in range(n_folds)]
    return significance(scores, n_train, n_test, models, rope=rope)


def _points(x):
    return "-" if x is None else f"{100 * x:+.2f}"


def _p(x):
    if x is None:
        return "-"
    return "<0.001" if x < 1e-3 else f"{x:.3f}"


def pair_cells(pair):
    """The printed cells of one pair: difference, interval, p, the Bayesian three."""
    if pair["status"] == "not enough folds":
        return [_points(pair["difference"]), "not enough folds", "-", "-"]
    ci = f"[{_points(pair['ci_low'])}, {_points(pair['ci_high'])}]"
    bay = "/".join(f"{pair[k]:.2f}" for k in ("p_left", "p_rope", "p_right"))
    return [_points(pair["difference"]), ci, _p(pair["p_value"]), bay]


PAIR_HEADER = ["a - b (points)", "95% CI", "p (corrected t)", "P(b>a)/P(rope)/P(a>b)"]


def significance_table(section):
    """The printed table: each model against the kernel (every pair without one)."""
    from ._report import format_table

    pairs = section["pairs"]
    versus = [p for p in pairs if p["b"] == KERNEL]
    rows = [[f"{p['a']} vs {p['b']}", *pair_cells(p)] for p in versus or pairs]
    return format_table(["pair (a vs b)", *PAIR_HEADER], rows)


def csv_columns(section):
    """Per model, its test against the kernel as CSV columns (empty without one)."""
    out = {}
    for p in section["pairs"]:
        if p["b"] == KERNEL and p["a"] not in out:
            out[p["a"]] = {"difference_vs_ntk": p["difference"],
                           "ci_low_vs_ntk": p["ci_low"], "ci_high_vs_ntk": p["ci_high"],
                           "p_value_vs_ntk": p["p_value"],
                           "p_rope_vs_ntk": p["p_rope"]}
    return out


CSV_COLUMNS = ["repeat", "difference_vs_ntk", "ci_low_vs_ntk", "ci_high_vs_ntk",
               "p_value_vs_ntk", "p_rope_vs_ntk"]


def sentence(section, agreement, net=NET, kernel=KERNEL):
    """The plain-language summary of the net against its kernel (or None)."""
    pair = next((p for p in section["pairs"] if p["a"] == net and p["b"] == kernel),
                None)
    parts = []
    if agreement is not None:
        parts.append(f"the net ({net}) and its NTK ({kernel}) agree on "
                     f"{agreement['mean']:.1%} of held-out predictions")
    if pair is not None:
        diff = f"{100 * pair['difference']:+.1f} points"
        if pair["status"] == "not enough folds":
            parts.append(f"the difference in accuracy, {diff}, cannot be tested on "
                         "one fold")
        else:
            verdict = "is" if pair["significant"] else "is not"
            parts.append(f"the difference in accuracy, {diff} "
                         f"(net minus kernel), {verdict} significant at "
                         f"{ALPHA:.0%} (p = {_p(pair['p_value'])}, corrected "
                         f"resampled t-test over {pair['n_folds']} folds)")
    if not parts:
        return None
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def print_sections(report):
    """Print the significance table and the width sweep's (if any) of a report."""
    section = report.get("significance")
    if section and section["pairs"]:
        folds = section["pairs"][0]["n_folds"]
        print(f"\nsignificance over {folds} folds (a - b in accuracy points; "
              f"Bayesian rope ±{100 * section['rope']:g} points):")
        print(significance_table(section))
    if report.get("width_sweep"):
        from ._sweep import sweep_table

        print("\nwidth sweep (the net at each width, on the same folds):")
        print(sweep_table(report["width_sweep"]))


def mcnemar_fields(y_true, pred, pred_kernel):
    """A preset row's columns against the kernel on its fixed test set (McNemar).

    ``difference_vs_ntk`` is in accuracy points (percent), as the presets' rows.
    """
    from ._stats import mcnemar_test

    r = mcnemar_test(y_true, pred, pred_kernel)
    return {"difference_vs_ntk": 100 * r["difference"], "p_value_vs_ntk": r["p_value"],
            "test_vs_ntk": f"McNemar exact, {r['only_a_right']} rows only this one "
                           f"right, {r['only_b_right']} only the NTK"}


def p_cell(row):
    """The printed ``vs NTK`` cell of a preset row."""
    if row.get("p_value_vs_ntk") is None:
        return ""
    return f"{row['difference_vs_ntk']:+.1f} (p {_p(row['p_value_vs_ntk'])})"
