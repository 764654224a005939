"""Early stopping and sample weights of the network estimators.

scikit-learn's MLP rules, kept in one place: :func:`validation_split` holds out
``validation_fraction`` of the rows (stratified for two classes only, as
``MLPClassifier`` does), with errors that name ``early_stopping`` and
``validation_fraction``; :func:`update_no_improvement` is the "no improvement
by ``tol``" counter of ``_update_no_improvement_count``; and
:func:`check_weights` validates a ``sample_weight``.
"""

import numpy as np
from sklearn.model_selection import train_test_split

from ..utils.compat import check_sample_weight

__all__ = ["check_weights", "update_no_improvement", "validation_split"]


def check_weights(sample_weight, X):
    """``sample_weight`` as float64 (n,), finite, non-negative, not all zero,
    with a finite sum; None stays None (every row weighs 1)."""
    if sample_weight is None:
        return None
    sample_weight = check_sample_weight(sample_weight, X, dtype=np.float64,
                                        ensure_non_negative=True)
    # (scikit-learn's check refuses NaN, inf, negative and all-zero weights)
    with np.errstate(over="ignore"):
        total = float(sample_weight.sum())
    if not np.isfinite(total):
        raise ValueError(f"sample_weight sums to {total}; scale the weights down.")
    return sample_weight


def validation_split(n_samples, *, fraction, stratify, random_state, sample_weight):
    """Indices (train, val) of the early-stopping split of ``n_samples`` rows.

    ``stratify`` is the labels of a two-class problem or None: scikit-learn's
    MLP stratifies only single-output classification with one output unit
    (two classes), so a multiclass ``y`` with a one-sample class still splits.
    Raises a ValueError naming ``early_stopping`` and ``validation_fraction``
    where the split is impossible, holds fewer than 2 validation rows (as
    scikit-learn), or leaves a side whose weights are all zero.
    """
    what = (f"early_stopping=True holds out validation_fraction={fraction!r} of the "
            f"{n_samples} training rows")
    fix = ("Use more rows, change validation_fraction, or set early_stopping=False.")
    if stratify is not None:
        labels, counts = np.unique(stratify, return_counts=True)
        if counts.min() < 2:
            raise ValueError(
                f"{what}, stratified by class (as scikit-learn's MLP does for two "
                f"classes), but class {labels.tolist()[counts.argmin()]!r} has a single row: "
                "each class needs at least 2 rows. Add rows of that class, or set "
                "early_stopping=False.")
    try:
        train, val = train_test_split(np.arange(n_samples), test_size=fraction,
                                      random_state=random_state, stratify=stratify)
    except ValueError as exc:
        reason = str(exc).rstrip(".")
        raise ValueError(f"{what}, and that split is impossible: {reason}. {fix}"
                         ) from exc
    if val.size < 2:
        raise ValueError(
            f"{what}: {val.size} validation row(s), too few to score (at least 2, "
            f"as in scikit-learn). {fix}")
    if sample_weight is not None:
        for name, rows in (("validation", val), ("training", train)):
            if not sample_weight[rows].sum() > 0:
                raise ValueError(
                    f"{what}, and every {name} row drawn has sample_weight 0. "
                    f"Give more rows a positive weight. {fix}")
    return train, val


def update_no_improvement(count, best, value, tol, *, higher_is_better):
    """scikit-learn's MLP rule for one epoch's ``value`` (a validation score,
    higher is better, or a training loss, lower is better).

    The counter grows when ``value`` does not beat the best so far by ``tol``
    (compared *before* the best is updated) and is reset otherwise; then the
    best is updated. Returns ``(count, best, is_new_best)``; training stops
    when ``count > n_iter_no_change``.
    """
    if higher_is_better:
        count = count + 1 if value < best + tol else 0
        improved = value > best
    else:
        count = count + 1 if value > best - tol else 0
        improved = value < best
    return count, (value if improved else best), improved
