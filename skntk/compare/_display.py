"""Figures of the net-versus-kernel comparison, as scikit-learn Display objects.

Each Display stores the numbers it draws; ``from_estimator`` (or
``from_estimators``) computes them with the public estimators and
``from_predictions`` takes numbers computed elsewhere. ``plot`` draws on a
given ``ax`` or a new figure and stores ``figure_`` and ``ax_``. matplotlib is
imported only when a figure is drawn.
"""

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from ..datasets import first_rows_per_class

__all__ = ["AgreementDisplay", "GramSpectrumDisplay", "LearningCurveComparisonDisplay"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("Plotting needs matplotlib: pip install matplotlib") from None
    return plt


def _axes(ax, ncols=1, figsize=None):
    plt = _pyplot()
    if ax is None:
        fig, ax = plt.subplots(1, ncols, figsize=figsize, layout="constrained")
        return fig, ax
    first = ax[0] if ncols > 1 else ax
    if ncols > 1 and len(ax) != ncols:
        raise ValueError(f"ax must be None or a sequence of {ncols} Axes, "
                         f"got {len(ax)}.")
    return first.figure, ax


def _final_step(estimator):
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


class LearningCurveComparisonDisplay:
    """Held-out score versus training-set size, for several models on one axes.

    Parameters
    ----------
    train_sizes : array-like of shape (n_sizes,)
        Numbers of training samples.
    test_scores : dict of str to array-like of shape (n_sizes, n_folds)
        Held-out scores of each model, one column per fold.
    score_name : str, default="accuracy"
        Label of the y axis.

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    lines_ : dict of str to matplotlib Line2D

    See Also
    --------
    sklearn.model_selection.LearningCurveDisplay : The same for one model.

    Examples
    --------
    >>> from skntk.compare._display import LearningCurveComparisonDisplay
    >>> disp = LearningCurveComparisonDisplay(
    ...     [50, 100], {"mlp": [[0.8, 0.9], [0.9, 0.92]],
    ...                 "ntk": [[0.85, 0.87], [0.93, 0.95]]})
    >>> disp = disp.plot()
    >>> sorted(disp.lines_)
    ['mlp', 'ntk']
    """

    def __init__(self, train_sizes, test_scores, *, score_name="accuracy"):
        self.train_sizes = np.asarray(train_sizes)
        self.test_scores = {k: np.asarray(v, dtype=float)
                            for k, v in test_scores.items()}
        self.score_name = score_name

    @classmethod
    def from_estimators(cls, estimators, X, y, *,
                        train_sizes=(0.1, 0.325, 0.55, 0.775, 1.0), cv=5,
                        scoring="accuracy", n_jobs=None, random_state=None, ax=None):
        """Compute learning curves with :func:`sklearn.model_selection.learning_curve`.

        Every model gets the same folds and the same training subsets.

        Parameters
        ----------
        estimators : dict of str to estimator
            The models, by name (the legend).
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        train_sizes : array-like, default=(0.1, 0.325, 0.55, 0.775, 1.0)
            Fractions of the training fold (floats) or numbers of samples (ints).
        cv : int, cross-validation generator or iterable, default=5
            The folds; materialised once so that all models share them.
        scoring : str or callable, default="accuracy"
        n_jobs : int, default=None
        random_state : int, default=None
            Seeds the shuffling of the training fold before it is cut (the cut
            is otherwise its first rows).
        ax : matplotlib Axes, default=None

        Returns
        -------
        display : LearningCurveComparisonDisplay
        """
        from sklearn.model_selection import check_cv, learning_curve
        from sklearn.utils.multiclass import type_of_target

        classifier = type_of_target(y) in ("binary", "multiclass")
        folds = list(check_cv(cv, y, classifier=classifier).split(X, y))
        scores, sizes = {}, None
        for name, est in estimators.items():
            sizes, _, test, *_ = learning_curve(
                est, X, y, train_sizes=train_sizes, cv=folds, scoring=scoring,
                n_jobs=n_jobs, shuffle=random_state is not None,
                random_state=random_state, error_score="raise")
            scores[name] = test
        name = scoring if isinstance(scoring, str) else "score"
        return cls(sizes, scores, score_name=name).plot(ax=ax)

    def plot(self, ax=None, *, title=None):
        """Draw mean ± std across folds for every model.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
        title : str, default=None

        Returns
        -------
        display : LearningCurveComparisonDisplay
        """
        self.figure_, self.ax_ = _axes(ax, figsize=(5.5, 4))
        self.lines_ = {}
        for name, scores in self.test_scores.items():
            mean, std = scores.mean(axis=1), scores.std(axis=1)
            (line,) = self.ax_.plot(self.train_sizes, mean, "o-", label=name)
            self.ax_.fill_between(self.train_sizes, mean - std, mean + std,
                                  color=line.get_color(), alpha=0.2)
            self.lines_[name] = line
        self.ax_.set_xlabel("training-set size")
        self.ax_.set_ylabel(f"held-out {self.score_name}")
        self.ax_.set_title(title or "Learning curve (mean ± std over folds)")
        self.ax_.grid(alpha=0.3)
        self.ax_.legend()
        return self


class GramSpectrumDisplay:
    """Smallest eigenvalue of the NTK Gram and the bound sqrt(y' K^-1 y / n), versus n.

    The two plots of the TP5 notebook, side by side: as n grows the Gram's
    smallest eigenvalue shrinks, and the data-dependent generalization bound
    sqrt(y' K^-1 y / n) (Arora et al., 2019) decreases when the labels are
    learnable.

    Parameters
    ----------
    n_values : array-like of shape (n_points,)
        Training-set sizes.
    min_eigenvalues : array-like of shape (n_points,)
    bounds : array-like of shape (n_points,)
    reference : dict, default=None
        Published values to draw beside ours: keys ``"n_values"`` and
        ``"min_eigenvalues"`` (and optionally ``"bounds"``), and ``"label"``.

    Attributes
    ----------
    axes_ : ndarray of two matplotlib Axes
    figure_ : matplotlib Figure

    References
    ----------
    S. Arora, S. Du, W. Hu, Z. Li, R. Wang. Fine-Grained Analysis of Optimization
    and Generalization for Overparameterized Two-Layer Neural Networks. ICML 2019,
    arXiv:1901.08584.

    Examples
    --------
    >>> from skntk.compare._display import GramSpectrumDisplay
    >>> disp = GramSpectrumDisplay([100, 400], [23.5, 15.2], [0.41, 0.30]).plot()
    >>> len(disp.axes_)
    2
    """

    def __init__(self, n_values, min_eigenvalues, bounds, *, reference=None):
        self.n_values = np.asarray(n_values)
        self.min_eigenvalues = np.asarray(min_eigenvalues, dtype=float)
        self.bounds = np.asarray(bounds, dtype=float)
        self.reference = reference

    @classmethod
    def from_estimator(cls, estimator, X, y, *, n_values, scale=1.0, reference=None,
                       ax=None):
        """Fit a clone of a kernel ridge estimator on the first rows, for each n.

        Parameters
        ----------
        estimator : NTKRegressor, NTKClassifier or a Pipeline ending in one
            Its fitted diagnostics ``gram_min_eigenvalue()`` and
            ``generalization_bound()`` are read; use ``alpha=0`` for the
            notebook's quantities.
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Targets the estimator is fitted on. The rows used for each n are
            the first ``n / n_classes`` of each distinct value of ``y``
            (:func:`~skntk.datasets.first_rows_per_class`); for a regressor on
            continuous targets, pass them already in the order wanted and they
            are cut at n.
        n_values : array-like of int
        scale : float, default=1.0
            Multiplies the Gram (its eigenvalues by ``scale``, the bound by
            ``1 / sqrt(scale)``): the TP5 notebook's kernel is ``n_features``
            times skntk's.
        reference : dict, default=None
            See the class parameters.
        ax : pair of matplotlib Axes, default=None

        Returns
        -------
        display : GramSpectrumDisplay
        """
        y = np.asarray(y)
        discrete = y.dtype.kind in "OUSbi" or np.unique(y).size <= 0.1 * y.size
        eig, bound = [], []
        for n in n_values:
            rows = first_rows_per_class(y, n) if discrete else np.arange(int(n))
            fitted = _final_step(clone(estimator).fit(X[rows], y[rows]))
            eig.append(scale * fitted.gram_min_eigenvalue())
            b = np.ravel(fitted.generalization_bound())
            bound.append(float(np.mean(b)) / np.sqrt(scale))
        return cls(n_values, eig, bound, reference=reference).plot(ax=ax)

    def plot(self, ax=None):
        """Draw both panels.

        Parameters
        ----------
        ax : pair of matplotlib Axes, default=None

        Returns
        -------
        display : GramSpectrumDisplay
        """
        self.figure_, self.axes_ = _axes(ax, ncols=2, figsize=(9, 3.8))
        left, right = self.axes_
        left.plot(self.n_values, self.min_eigenvalues, "o-", label="skntk")
        right.plot(self.n_values, self.bounds, "o-", label="skntk")
        ref = self.reference
        if ref is not None:
            label = ref.get("label", "reference")
            left.plot(ref["n_values"], ref["min_eigenvalues"], "s--", label=label)
            if ref.get("bounds") is not None:
                right.plot(ref["n_values"], ref["bounds"], "s--", label=label)
            left.legend()
            right.legend()
        left.set_title("Smallest eigenvalue of the Gram")
        left.set_ylabel(r"$\lambda_{\min}(K)$")
        right.set_title(r"Bound $\sqrt{y^\top K^{-1} y / n}$")
        for a in self.axes_:
            a.set_xlabel("n (training samples)")
            a.grid(alpha=0.3)
        return self


class AgreementDisplay:
    """How often a finite net and its kernel predict the same label, versus width.

    Parameters
    ----------
    widths : array-like of shape (n_widths,)
        Hidden-layer widths of the net.
    agreement : array-like of shape (n_widths,)
        Fraction of held-out samples on which net and kernel agree.
    net_scores : array-like of shape (n_widths,), default=None
        The net's held-out accuracy at each width.
    kernel_score : float, default=None
        The kernel's held-out accuracy (independent of the width).

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    Examples
    --------
    >>> from skntk.compare._display import AgreementDisplay
    >>> disp = AgreementDisplay.from_predictions(
    ...     [16, 256], [[0, 1, 1, 0], [0, 1, 0, 0]], [0, 1, 0, 0], y_true=[0, 1, 0, 1])
    >>> disp.agreement.tolist(), disp.net_scores.tolist(), disp.kernel_score
    ([0.75, 1.0], [0.5, 0.75], 0.75)
    """

    def __init__(self, widths, agreement, *, net_scores=None, kernel_score=None):
        self.widths = np.asarray(widths)
        self.agreement = np.asarray(agreement, dtype=float)
        self.net_scores = None if net_scores is None else np.asarray(net_scores, float)
        self.kernel_score = kernel_score

    @classmethod
    def from_predictions(cls, widths, net_predictions, kernel_predictions, *,
                         y_true=None, ax=None, plot=True):
        """From held-out predictions of the net at each width and of the kernel.

        Parameters
        ----------
        widths : array-like of shape (n_widths,)
        net_predictions : sequence of array-like of shape (n_samples,)
            One array of predicted labels per width.
        kernel_predictions : array-like of shape (n_samples,)
        y_true : array-like of shape (n_samples,), default=None
            With it, the accuracies are drawn too.
        ax : matplotlib Axes, default=None
        plot : bool, default=True
            Draw the figure (False only computes; matplotlib is then not needed).

        Returns
        -------
        display : AgreementDisplay
        """
        kernel = np.asarray(kernel_predictions)
        nets = [np.asarray(p) for p in net_predictions]
        if len(nets) != len(widths):
            raise ValueError(f"net_predictions has {len(nets)} arrays for "
                             f"{len(widths)} widths.")
        for p in nets:
            if p.shape != kernel.shape:
                raise ValueError(f"net predictions of shape {p.shape} do not match "
                                 f"kernel_predictions of shape {kernel.shape}.")
        agreement = [float(np.mean(p == kernel)) for p in nets]
        net_scores = kernel_score = None
        if y_true is not None:
            y_true = np.asarray(y_true)
            net_scores = [float(np.mean(p == y_true)) for p in nets]
            kernel_score = float(np.mean(kernel == y_true))
        disp = cls(widths, agreement, net_scores=net_scores, kernel_score=kernel_score)
        return disp.plot(ax=ax) if plot else disp

    @classmethod
    def from_estimator(cls, net, kernel, X_train, y_train, X_test, y_test, *, widths,
                       param_name=None, ax=None, plot=True):
        """Fit the net at each width and the kernel once; compare on held-out data.

        Parameters
        ----------
        net : estimator (or Pipeline) with a ``hidden_layer_sizes`` parameter
            Cloned and refitted with ``hidden_layer_sizes`` set to one layer of
            each width, or to the same width in every layer if it has several.
        kernel : estimator (or Pipeline)
        X_train, y_train, X_test, y_test : array-like
        widths : sequence of int
        param_name : str, default=None
            The width parameter; None finds ``hidden_layer_sizes`` (prefixed
            with the last step's name in a Pipeline).
        ax : matplotlib Axes, default=None
        plot : bool, default=True

        Returns
        -------
        display : AgreementDisplay
        """
        if param_name is None:
            param_name = "hidden_layer_sizes"
            if isinstance(net, Pipeline):
                param_name = f"{net.steps[-1][0]}__{param_name}"
        depth = len(tuple(np.atleast_1d(net.get_params()[param_name])))
        kernel_pred = clone(kernel).fit(X_train, y_train).predict(X_test)
        net_preds = [clone(net).set_params(**{param_name: (int(w),) * depth})
                     .fit(X_train, y_train).predict(X_test) for w in widths]
        return cls.from_predictions(widths, net_preds, kernel_pred, y_true=y_test,
                                    ax=ax, plot=plot)

    def plot(self, ax=None):
        """Draw agreement (and accuracies, if known) against width, log x axis.

        Parameters
        ----------
        ax : matplotlib Axes, default=None

        Returns
        -------
        display : AgreementDisplay
        """
        self.figure_, self.ax_ = _axes(ax, figsize=(5.5, 4))
        self.ax_.plot(self.widths, self.agreement, "o-", label="agreement net / NTK")
        if self.net_scores is not None:
            self.ax_.plot(self.widths, self.net_scores, "s--", label="net accuracy")
        if self.kernel_score is not None:
            self.ax_.axhline(self.kernel_score, color="gray", ls=":",
                             label="NTK accuracy")
        self.ax_.set_xscale("log", base=2)
        self.ax_.set_xticks(self.widths, [str(w) for w in self.widths])
        self.ax_.minorticks_off()
        self.ax_.set_xlabel("hidden-layer width")
        self.ax_.set_ylabel("fraction of held-out samples")
        self.ax_.set_title("Net versus NTK: agreement versus width")
        self.ax_.grid(alpha=0.3)
        self.ax_.legend()
        return self
