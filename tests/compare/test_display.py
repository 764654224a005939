"""The Display objects of the comparison's figures."""

import pytest

from skntk.datasets import first_rows_per_class

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def test_displays_from_estimators():
    from sklearn.datasets import load_digits
    from sklearn.svm import SVC

    from skntk import NTKClassifier, NTKRegressor
    from skntk.compare._display import (
        AgreementDisplay,
        GramSpectrumDisplay,
        LearningCurveComparisonDisplay,
    )

    X, y = load_digits(n_class=3, return_X_y=True)
    X = X[:150] / 8 - 1
    y = y[:150]
    disp = LearningCurveComparisonDisplay.from_estimators(
        {"ntk": NTKClassifier(alpha=1e-3), "svc": SVC()}, X, y, train_sizes=[0.5, 1.0],
        cv=3)
    assert disp.test_scores["ntk"].shape == (2, 3)
    assert disp.train_sizes.tolist() == [50, 100]
    assert disp.ax_.get_xlabel() == "training-set size"

    disp = GramSpectrumDisplay.from_estimator(NTKRegressor(alpha=0.0), X, y,
                                              n_values=[30, 90], scale=64.0)
    ref = NTKRegressor(alpha=0.0).fit(X[_first(y, 30)], y[_first(y, 30)])
    assert disp.min_eigenvalues[0] == pytest.approx(64 * ref.gram_min_eigenvalue())
    assert disp.bounds[0] == pytest.approx(ref.generalization_bound() / 8)
    assert disp.min_eigenvalues[1] < disp.min_eigenvalues[0]
    assert len(disp.axes_) == 2

    # an SVC standing in for the net: only hidden_layer_sizes must be settable
    disp = AgreementDisplay.from_estimator(
        _WidthSVC(), NTKClassifier(alpha=1e-3), X[:100], y[:100], X[100:], y[100:],
        widths=[1, 4], plot=False)
    assert disp.agreement.shape == (2,) and disp.kernel_score > 0.9
    assert not hasattr(disp, "figure_")


def _first(y, n):
    return first_rows_per_class(y, n)


class _WidthSVC:
    """A classifier with a ``hidden_layer_sizes`` parameter, for AgreementDisplay."""

    def __init__(self, hidden_layer_sizes=(1,)):
        self.hidden_layer_sizes = hidden_layer_sizes

    def get_params(self, deep=True):
        return {"hidden_layer_sizes": self.hidden_layer_sizes}

    def set_params(self, **params):
        self.hidden_layer_sizes = params["hidden_layer_sizes"]
        return self

    def fit(self, X, y):
        from sklearn.svm import SVC

        self.svc_ = SVC(C=float(self.hidden_layer_sizes[0])).fit(X, y)
        return self

    def predict(self, X):
        return self.svc_.predict(X)


def test_display_input_errors():
    from skntk.compare._display import AgreementDisplay, GramSpectrumDisplay

    with pytest.raises(ValueError, match="net_predictions has 1 arrays for 2 widths"):
        AgreementDisplay.from_predictions([1, 2], [[0, 1]], [0, 1], plot=False)
    with pytest.raises(ValueError, match="do not match kernel_predictions"):
        AgreementDisplay.from_predictions([1], [[0, 1, 1]], [0, 1], plot=False)
    with pytest.raises(ValueError, match="sequence of 2 Axes"):
        _, ax = plt.subplots()
        GramSpectrumDisplay([1], [1.0], [1.0]).plot(ax=[ax])
