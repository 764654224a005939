"""The teacher network of seed "Learning Using NTK v2.0": labels from a random
three-layer ReLU net."""

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

from ..utils.compat import Interval, StrOptions, validate_params
from ..utils.warn import warn

__all__ = ["make_teacher_network", "teacher_labels"]


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "hidden": [Interval(Integral, 1, None, closed="left")],
        "threshold": [StrOptions({"zero", "median"})],
        "return_teacher": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_teacher_network(n_samples=100, n_features=25, hidden=25, *,
                         threshold="zero", return_teacher=False,
                         random_state=None):
    """Binary labels from a random three-layer ReLU teacher network.

    ``y = sign(u' relu(V relu(W x)) - t)`` for ``x ~ N(0, I)`` and a teacher with
    independent Gaussian entries of variance ``1 / fan_in`` (``W``: ``1 / n_features``,
    ``V`` and ``u``: ``1 / hidden``), as in the seed notebook "Learning Using NTK
    v2.0" (where ``hidden = n_features = 25``). A score of exactly ``t`` is labelled
    ``-1``, as in the seed.

    Parameters
    ----------
    n_samples : int, default=100
        Number of samples.

    n_features : int, default=25
        Input dimension ``d``.

    hidden : int, default=25
        Width of both hidden layers of the teacher.

    threshold : {"zero", "median"}, default="zero"
        ``"zero"`` (the seed): ``t = 0``. A random teacher's raw signs are often
        very unbalanced, since ``relu(V relu(W x))`` is a non-negative vector and
        ``u`` may weigh it mostly one way (over seeds, the median share of the
        smaller class is about 25%): a ``UserWarning`` is issued when the smaller
        class holds under 10% of the samples, and a ``ValueError`` when there is a
        single class (use another ``random_state`` or ``"median"``).
        ``"median"``: ``t`` is the median of the teacher's scores on the generated
        samples, so the two classes are balanced (to within ties). Generate the
        training and test samples in one call so that they share ``t``.

    return_teacher : bool, default=False
        Also return the teacher's parameters.

    random_state : int, RandomState instance or None, default=None
        Seeds the draws: first the teacher (``W``, ``V``, ``u``), then ``X`` row by
        row, so that the same seed gives the same teacher for every ``n_samples``
        and the first rows of ``X`` do not depend on ``n_samples``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Inputs, independent standard normal entries.

    y : ndarray of shape (n_samples,)
        Labels in ``{-1, 1}`` (int).

    teacher : dict
        Only with ``return_teacher=True``: ``W`` of shape (hidden, n_features),
        ``V`` of shape (hidden, hidden), ``u`` of shape (hidden,), and the
        ``threshold`` ``t`` (float).

    Examples
    --------
    >>> from skntk.datasets import make_teacher_network
    >>> X, y = make_teacher_network(200, threshold="median", random_state=0)
    >>> X.shape, int((y == 1).sum()), int((y == -1).sum())
    ((200, 25), 100, 100)
    """
    rng = check_random_state(random_state)
    W = rng.standard_normal((hidden, n_features)) / np.sqrt(n_features)
    V = rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)
    u = rng.standard_normal(hidden) / np.sqrt(hidden)
    X = rng.standard_normal((n_samples, n_features))
    score = _teacher_score(X, {"W": W, "V": V, "u": u})
    t = float(np.median(score)) if threshold == "median" else 0.0
    y = _sign(score, t)
    if threshold == "zero" and n_samples > 1 and np.all(y == y[0]):
        raise ValueError(
            f"The teacher's labels are all {y[0]:+d}: with threshold='zero' a random "
            "teacher can give a single class (its output u' relu(...) may have one "
            "sign almost everywhere). Use threshold='median' for balanced classes "
            "or another random_state."
        )
    minority = min(np.mean(y == 1), np.mean(y == -1))
    if threshold == "zero" and n_samples > 1 and minority < 0.1:
        warn(
            f"The teacher's labels are unbalanced: {minority:.1%} of the samples are "
            "in the smaller class. threshold='median' balances them.",
            UserWarning
        )
    if return_teacher:
        return X, y, {"W": W, "V": V, "u": u, "threshold": t}
    return X, y


def teacher_labels(X, teacher):
    """The labels a teacher network gives: ``sign(u' relu(V relu(W x)) - t)``.

    The forward pass of :func:`make_teacher_network`, for other inputs or for
    other weights (a score of exactly ``t`` is labelled ``-1``, as in the seed).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs.

    teacher : dict
        ``W`` of shape (hidden, n_features), ``V`` of shape (hidden, hidden),
        ``u`` with ``hidden`` entries (any shape), and optionally the
        ``threshold`` ``t`` (0 if absent): the ``teacher`` that
        ``make_teacher_network(..., return_teacher=True)`` returns, for one.

    Returns
    -------
    y : ndarray of shape (n_samples,)
        Labels in ``{-1, 1}`` (int).

    Examples
    --------
    >>> from skntk.datasets import make_teacher_network, teacher_labels
    >>> X, y, teacher = make_teacher_network(50, threshold="median",
    ...                                      return_teacher=True, random_state=0)
    >>> bool((teacher_labels(X, teacher) == y).all())
    True
    """
    return _sign(_teacher_score(X, teacher), teacher.get("threshold", 0.0))


def _teacher_score(X, teacher):
    """``u' relu(V relu(W x))`` for each row of X."""
    h = np.maximum(np.maximum(X @ teacher["W"].T, 0) @ teacher["V"].T, 0)
    return h @ np.ravel(teacher["u"])


def _sign(score, t):
    return np.where(score > t, 1, -1)
