"""The width sweep as a scikit-learn-style Display object.

Like the Displays of :mod:`skntk.compare._display`: the constructor takes the
numbers, ``from_estimator`` computes them with public estimators,
``from_sweep`` takes ``skntk compare --widths``'s rows, and ``plot`` draws and
stores ``figure_`` and ``axes_``.
"""

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from ._display import _axes

__all__ = ["WidthSweepDisplay"]


def _opt(values):
    if values is None:
        return None
    arr = np.asarray([np.nan if v is None else v for v in values], dtype=float)
    return None if np.all(np.isnan(arr)) else arr


class WidthSweepDisplay:
    """A net at several widths against its kernel: accuracy, agreement, drift.

    The left panel draws the net's held-out accuracy (mean ± std over folds)
    and how often it predicts the kernel's label, against the width; the right
    panel, when the nets recorded them, the relative movement of the weights
    ``||theta_T - theta_0|| / ||theta_0||`` and of the empirical NTK
    ``||Theta_T - Theta_0||_F / ||Theta_0||_F`` at the end of training, on log
    axes with a ``1 / sqrt(width)`` guide: in the lazy (kernel) regime both fall
    like it.

    Parameters
    ----------
    widths : array-like of shape (n_widths,)
    net_scores : array-like of shape (n_widths, n_folds) or (n_widths,)
        The net's held-out scores at each width (one column per fold).
    agreement : array-like of shape (n_widths,), default=None
        Fraction of held-out samples on which the net and the kernel agree.
    kernel_score : float, default=None
        The kernel's mean held-out score.
    weight_change : array-like of shape (n_widths,), default=None
    ntk_change : array-like of shape (n_widths,), default=None

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes (two when drift is known, else one)
    figure_ : matplotlib Figure

    Examples
    --------
    >>> from skntk.compare import WidthSweepDisplay
    >>> disp = WidthSweepDisplay([64, 256], [[0.90, 0.92], [0.94, 0.95]],
    ...                          agreement=[0.93, 0.97], kernel_score=0.96,
    ...                          weight_change=[0.2, 0.1]).plot()
    >>> len(disp.axes_)
    2
    """

    def __init__(self, widths, net_scores, *, agreement=None, kernel_score=None,
                 weight_change=None, ntk_change=None):
        self.widths = np.asarray(widths)
        scores = np.asarray(net_scores, dtype=float)
        self.net_scores = scores[:, None] if scores.ndim == 1 else scores
        self.agreement = _opt(agreement)
        self.kernel_score = kernel_score
        self.weight_change = _opt(weight_change)
        self.ntk_change = _opt(ntk_change)

    @classmethod
    def from_sweep(cls, rows, *, kernel_results=None, ax=None):
        """From the rows of ``skntk compare --widths`` (``results.json``'s
        ``width_sweep``).

        Parameters
        ----------
        rows : list of dict
            One per width: ``width``, ``accuracy`` (per fold),
            ``agreement_with_ntk_mean`` and optionally ``weight_change_mean``,
            ``ntk_change_mean``.
        kernel_results : list of dict, default=None
            The kernel's fold results (their ``accuracy``), for its line.
        ax : matplotlib Axes or pair of Axes, default=None

        Returns
        -------
        display : WidthSweepDisplay
        """
        kernel = (None if not kernel_results else
                  float(np.mean([r["accuracy"] for r in kernel_results])))
        return cls([r["width"] for r in rows], [r["accuracy"] for r in rows],
                   agreement=[r.get("agreement_with_ntk_mean") for r in rows],
                   kernel_score=kernel,
                   weight_change=[r.get("weight_change_mean") for r in rows],
                   ntk_change=[r.get("ntk_change_mean") for r in rows]).plot(ax=ax)

    @classmethod
    def from_estimator(cls, net, kernel, X, y, *, widths, cv=3, param_name=None,
                       ax=None):
        """Cross-validate the net at each width and the kernel on the same folds.

        Parameters
        ----------
        net : estimator (or Pipeline) with a ``hidden_layer_sizes`` parameter
            Cloned with every hidden layer set to each width; if it has a
            ``record_drift`` parameter it is switched on and the fitted
            ``weight_change_`` and ``ntk_change_`` are drawn.
        kernel : estimator (or Pipeline)
        X, y : array-like
        widths : sequence of int
        cv : int or cross-validation generator, default=3
        param_name : str, default=None
            The width parameter; None finds ``hidden_layer_sizes``.
        ax : matplotlib Axes or pair of Axes, default=None

        Returns
        -------
        display : WidthSweepDisplay
        """
        from sklearn.model_selection import check_cv

        last = net.steps[-1][0] + "__" if isinstance(net, Pipeline) else ""
        param_name = param_name or f"{last}hidden_layer_sizes"
        depth = len(tuple(np.atleast_1d(net.get_params()[param_name])))
        folds = list(check_cv(cv, y, classifier=True).split(X, y))
        kernel_pred, kernel_acc = [], []
        for train, test in folds:
            pred = clone(kernel).fit(X[train], y[train]).predict(X[test])
            kernel_pred.append(pred)
            kernel_acc.append(np.mean(pred == y[test]))
        scores, agree, drift = [], [], {"weight_change_": [], "ntk_change_": []}
        for w in widths:
            est = clone(net).set_params(**{param_name: (int(w),) * depth})
            if f"{last}record_drift" in est.get_params():
                est.set_params(**{f"{last}record_drift": True})
            s, a, d = [], [], {k: [] for k in drift}
            for (train, test), kp in zip(folds, kernel_pred):
                fitted = est.fit(X[train], y[train])
                pred = fitted.predict(X[test])
                s.append(np.mean(pred == y[test]))
                a.append(np.mean(pred == kp))
                final = fitted[-1] if isinstance(fitted, Pipeline) else fitted
                for k in d:
                    curve = getattr(final, k, None)
                    d[k].append(np.nan if curve is None else np.ravel(curve)[-1])
            scores.append(s)
            agree.append(np.mean(a))
            for k in drift:
                drift[k].append(np.mean(d[k]))
        return cls(widths, scores, agreement=agree,
                   kernel_score=float(np.mean(kernel_acc)),
                   weight_change=drift["weight_change_"],
                   ntk_change=drift["ntk_change_"]).plot(ax=ax)

    def plot(self, ax=None):
        """Draw the panels.

        Parameters
        ----------
        ax : matplotlib Axes, or a pair of Axes when drift is known, default=None

        Returns
        -------
        display : WidthSweepDisplay
        """
        drift = self.weight_change is not None or self.ntk_change is not None
        ncols = 2 if drift else 1
        self.figure_, axes = _axes(ax, ncols=ncols,
                                   figsize=(10, 4) if drift else (5.5, 4))
        self.axes_ = np.atleast_1d(axes)
        left = self.axes_[0]
        mean, std = self.net_scores.mean(axis=1), self.net_scores.std(axis=1)
        (line,) = left.plot(self.widths, mean, "s-", label="net accuracy")
        left.fill_between(self.widths, mean - std, mean + std, alpha=0.2,
                          color=line.get_color())
        if self.agreement is not None:
            left.plot(self.widths, self.agreement, "o-", label="agreement net / NTK")
        if self.kernel_score is not None:
            left.axhline(self.kernel_score, color="gray", ls=":", label="NTK accuracy")
        left.set_ylabel("fraction of held-out samples")
        left.set_title("Net versus NTK across widths")
        left.legend()
        if drift:
            right = self.axes_[1]
            for values, label, marker in ((self.weight_change, "weight change", "o-"),
                                          (self.ntk_change, "NTK change", "s-")):
                if values is not None:
                    right.plot(self.widths, values, marker, label=label)
            known = [v for v in (self.weight_change, self.ntk_change) if v is not None]
            first = np.nanmax(np.vstack(known)[:, 0])
            right.plot(self.widths, first * np.sqrt(self.widths[0] / self.widths),
                       "k--", lw=1, label=r"$\propto 1/\sqrt{\mathrm{width}}$")
            right.set_yscale("log")
            right.set_ylabel("relative change from initialisation")
            right.set_title("How far training moved the net")
            right.legend()
        for a in self.axes_:
            a.set_xscale("log", base=2)
            a.set_xticks(self.widths, [str(w) for w in self.widths])
            a.minorticks_off()
            a.set_xlabel("hidden-layer width")
            a.grid(alpha=0.3)
        return self
