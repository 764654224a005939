"""``skntk compare --repeats`` and ``--widths``: the significance and the sweep."""

import csv
import json

import numpy as np
import pytest
from _compare_cli import one_line_error as _one_line_error
from _compare_cli import run as _run
from scipy import stats
from sklearn.base import BaseEstimator, ClassifierMixin

from skntk.compare._cli import main
from skntk.compare._significance import make_folds
from skntk.compare._sweep import fitted_diagnostics, summarize, sweep_table


@pytest.mark.parametrize("argv, needle", [
    (["--repeats", "0"], "--repeats: expected a positive integer, got '0'"),
    (["--repeats", "-2"], "--repeats: expected a positive integer"),
    (["--widths", "64,abc"], "--widths: expected comma-separated positive integer"),
    (["--widths", "0,64"], "got '0'"),
    (["--widths", "64,2.5"], "got '2.5'"),
    (["--widths", "64,64"], "a width is listed twice"),
    (["--rope", "-0.1"], "--rope: expected an accuracy difference in [0, 1)"),
])
def test_bad_arguments_are_one_line_errors(argv, needle, tmp_path, capsys):
    try:
        code = main(["compare", *argv, "--output", str(tmp_path)])
    except SystemExit as exc:  # argparse's exit
        code = exc.code
    line = _one_line_error(capsys.readouterr().err, code, 2)
    assert line.startswith("skntk compare: error: ") and needle in line
    assert not any(tmp_path.iterdir())  # nothing written


def _hand_corrected_p(a, b, n_train, n_test):
    d = np.subtract(a, b)
    se = np.sqrt((1 / d.size + n_test / n_train) * d.var(ddof=1))
    return 2 * stats.t.sf(abs(d.mean() / se), d.size - 1)


@pytest.mark.slow
def test_repeats_give_the_corrected_test_in_every_output(tmp_path, capsys):
    out = tmp_path / "r"
    code, stdout, err = _run(["compare", "--quick", "--models", "ntk,svc-rbf",
                              "--n-train", "60", "--cv", "3", "--repeats", "2",
                              "--no-figures", "--output", str(out)], capsys)
    assert code == 0, err
    report = json.loads((out / "results.json").read_text())
    assert report["settings"]["cv"] == 3 and report["settings"]["repeats"] == 2
    assert report["settings"]["folds"].startswith("RepeatedStratifiedKFold(")
    rows = report["results"]
    assert {(r["model"], r["fold"], r["repeat"]) for r in rows} == {
        (m, k, k // 3) for m in ("ntk", "svc-rbf") for k in range(6)}
    folds = report["folds"]
    assert len(folds) == 6
    # every row is held out once per repeat
    for r in range(2):
        held = sorted(i for f in folds[3 * r:3 * r + 3] for i in f["test_indices"])
        assert held == list(range(60))
    # the corrected t-test, recomputed by hand from the fold accuracies
    acc = {m: [r["accuracy"] for r in rows if r["model"] == m]
           for m in ("ntk", "svc-rbf")}
    (pair,) = report["significance"]["pairs"]
    assert (pair["a"], pair["b"], pair["n_folds"]) == ("svc-rbf", "ntk", 6)
    n_train = np.mean([r["n_train"] for r in rows])
    n_test = np.mean([r["n_test"] for r in rows])
    assert pair["difference"] == pytest.approx(np.mean(acc["svc-rbf"])
                                               - np.mean(acc["ntk"]))
    if pair["status"] == "ok":
        assert pair["p_value"] == pytest.approx(
            _hand_corrected_p(acc["svc-rbf"], acc["ntk"], n_train, n_test))
    # the CSV carries the columns, the printed table the pair
    with open(out / "results.csv", newline="") as f:
        csv_rows = list(csv.DictReader(f))
    svc = [r for r in csv_rows if r["model"] == "svc-rbf"]
    assert float(svc[0]["difference_vs_ntk"]) == pytest.approx(pair["difference"])
    assert {r["repeat"] for r in csv_rows} == {"0", "1"}
    assert "svc-rbf vs ntk" in stdout and "significance over 6 folds" in stdout
    assert (out / "report.html").is_file()


def test_one_repeat_is_the_unrepeated_folds():
    from sklearn.model_selection import StratifiedKFold

    y = np.repeat([0, 1, 2], 7)
    X = np.zeros((21, 1))
    before = [t.tolist() for _, t in StratifiedKFold(
        3, shuffle=True, random_state=4).split(X, y)]
    once = [t.tolist() for _, t in make_folds(X, y, 3, 1, 4)]
    twice = [t.tolist() for _, t in make_folds(X, y, 3, 2, 4)]
    assert once == before and twice[:3] == before and twice[3:] != before


def test_sweep_summary_and_drift_columns():
    # hand-made fold results: two widths, two folds, the second width recording drift
    y_pred_kernel = [np.array([0, 1, 1, 0]), np.array([1, 1, 0, 0])]
    kernel = [{"accuracy": 1.0, "predictions": p, "n_train": 4, "n_test": 4}
              for p in y_pred_kernel]
    results = {}
    for w, preds, diag in ((8, [[0, 1, 0, 0], [1, 1, 0, 1]], None),
                           (32, [[0, 1, 1, 0], [1, 1, 0, 1]],
                            [{"weight_change": [0.1, 0.2], "ntk_change": [0.3, 0.4]},
                             {"weight_change": [0.1, 0.4], "ntk_change": [0.2, 0.6]}])):
        for k in range(2):
            pred = np.array(preds[k])
            results[f"mlp@{w}", k] = {
                "accuracy": float(np.mean(pred == y_pred_kernel[k])),
                "predictions": pred, "fit_time": 1.0, "n_train": 4, "n_test": 4,
                **({"diagnostics": diag[k]} if diag else {})}
    rows = summarize([8, 32], results, kernel, 2)
    assert rows[0]["agreement_with_ntk"] == [0.75, 0.75]
    assert rows[1]["agreement_with_ntk"] == [1.0, 0.75]
    assert rows[0]["weight_change_mean"] is None
    assert rows[1]["weight_change_mean"] == pytest.approx(0.3)  # last epochs .2, .4
    assert rows[1]["ntk_change_mean"] == pytest.approx(0.5)
    assert rows[1]["vs_ntk"]["difference"] == pytest.approx(-0.125)
    table = sweep_table(rows)
    assert "weight change" in table and "ntk change" in table
    assert "weight change" not in sweep_table(rows[:1])


def test_fitted_diagnostics_reads_only_what_the_net_has():
    class Net:
        weight_change_ = np.array([0.0, 0.5])

    assert fitted_diagnostics(Net()) == {"weight_change": [0.0, 0.5]}
    assert fitted_diagnostics(object()) == {}


@pytest.mark.slow
def test_widths_sweep_on_the_same_folds(tmp_path, capsys):
    out = tmp_path / "w"
    code, stdout, err = _run(["compare", "--quick", "--models", "ntk,mlp",
                              "--n-train", "60", "--cv", "2", "--widths", "8,32",
                              "--no-figures", "--output", str(out), "--quiet"],
                             capsys)
    assert code == 0, err
    report = json.loads((out / "results.json").read_text())
    sweep = report["width_sweep"]
    assert [r["width"] for r in sweep] == [8, 32]
    for r in sweep:
        assert len(r["accuracy"]) == 2 and 0 <= r["agreement_with_ntk_mean"] <= 1
    assert report["settings"]["widths"] == [8, 32]
    assert "width sweep" in stdout


@pytest.mark.filterwarnings("ignore:Stochastic Optimizer:UserWarning")  # 30 epochs
def test_width_sweep_display(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    from skntk.compare import WidthSweepDisplay

    rows = [{"width": 8, "accuracy": [0.8, 0.9], "agreement_with_ntk_mean": 0.85,
             "weight_change_mean": 0.4, "ntk_change_mean": None},
            {"width": 32, "accuracy": [0.9, 0.9], "agreement_with_ntk_mean": 0.95,
             "weight_change_mean": 0.2, "ntk_change_mean": None}]
    disp = WidthSweepDisplay.from_sweep(rows, kernel_results=[{"accuracy": 0.9}])
    assert len(disp.axes_) == 2 and disp.kernel_score == 0.9
    np.testing.assert_allclose(disp.net_scores.mean(axis=1), [0.85, 0.9])
    assert disp.ntk_change is None
    plt.close(disp.figure_)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(int)
    disp = WidthSweepDisplay.from_estimator(
        MLPClassifier((4,), max_iter=30, random_state=0), LogisticRegression(), X, y,
        widths=[2, 4], cv=2)
    assert disp.net_scores.shape == (2, 2) and len(disp.axes_) == 1
    assert np.all((0 <= disp.agreement) & (disp.agreement <= 1))
    plt.close(disp.figure_)


class _DriftNet(ClassifierMixin, BaseEstimator):
    """A stand-in net with the drift contract: record_drift, weight_change_, ..."""

    def __init__(self, hidden_layer_sizes=(8,), record_drift=False,
                 drift_probe_size=256):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.record_drift = record_drift
        self.drift_probe_size = drift_probe_size

    def fit(self, X, y):
        self.classes_, counts = np.unique(y, return_counts=True)
        self.majority_ = self.classes_[counts.argmax()]
        if self.record_drift:
            w = self.hidden_layer_sizes[0]
            self.weight_change_ = np.array([0.0, 1 / np.sqrt(w)])
            self.ntk_change_ = np.array([0.0, 2 / np.sqrt(w)])
        return self

    def predict(self, X):
        return np.full(len(X), self.majority_)


def test_widths_sweep_reads_the_nets_drift(tmp_path, capsys, monkeypatch):
    from sklearn.pipeline import make_pipeline

    from skntk.compare import _models

    monkeypatch.setattr(_models, "_mlp",
                        lambda ctx, width=None: make_pipeline(_DriftNet((width,))))
    out = tmp_path / "d"
    code, stdout, err = _run(["compare", "--quick", "--models", "ntk,svc-rbf",
                              "--n-train", "60", "--cv", "2", "--widths", "4,16",
                              "--no-figures", "--output", str(out), "--quiet"],
                             capsys)
    assert code == 0, err
    sweep = json.loads((out / "results.json").read_text())["width_sweep"]
    assert [r["weight_change_mean"] for r in sweep] == pytest.approx([0.5, 0.25])
    assert [r["ntk_change_mean"] for r in sweep] == pytest.approx([1.0, 0.5])
    assert sweep[0]["weight_change_per_epoch"] == [[0.0, 0.5], [0.0, 0.5]]
    assert "weight change" in stdout and "ntk change" in stdout
