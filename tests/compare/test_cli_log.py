"""``skntk compare`` in a log: progress lines, the notes, ``--n-jobs``'s threads."""

import io
import json

import numpy as np
import pytest
from _compare_cli import run as _run
from sklearn.datasets import load_digits

from skntk.compare import _driver
from skntk.compare._cli import build_parser

_SMALL = ["--models", "ntk,svc-rbf", "--cv", "2", "--n-train", "60", "--no-figures"]


def _notes(err):
    return [ln for ln in err.splitlines() if ln.startswith("note: ")]


def test_progress_in_a_log_is_one_plain_line_per_step(tmp_path, capsys):
    # pytest's captured stderr is not a terminal, like a CI log
    code, _, err = _run(["compare", *_SMALL, "--output", str(tmp_path)], capsys)
    assert code == 0, err
    assert "\r" not in err and "\x1b" not in err  # no bar, no cursor movement
    steps = [ln.rsplit(" (", 1)[0] for ln in err.splitlines() if ln.startswith("[")]
    assert steps == ["[1/4] ntk: fold 1/2", "[2/4] ntk: fold 2/2",
                     "[3/4] svc-rbf: fold 1/2", "[4/4] svc-rbf: fold 2/2"]
    code, _, err = _run(["compare", *_SMALL, "--quiet", "--output", str(tmp_path)],
                        capsys)
    assert code == 0 and err == ""


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_draws_a_bar_only_on_a_terminal():
    terminal, log = _Terminal(), io.StringIO()
    for stream in (terminal, log):
        progress = _driver._Progress(3, quiet=False, stream=stream)
        progress.describe("ntk: fold 1/3")
        progress.update()
        progress.update(2, text="two more")
        progress.close()
    assert "\r" in terminal.getvalue()  # tqdm redraws its line
    assert [ln.rsplit(" (", 1)[0] for ln in log.getvalue().splitlines()] == [
        "[1/3] ntk: fold 1/3", "[3/3] two more"]
    quiet = io.StringIO()
    progress = _driver._Progress(3, quiet=True, stream=quiet)
    progress.update()
    assert quiet.getvalue() == ""


def test_n_train_above_the_data_says_so(tmp_path, capsys):
    _, y = load_digits(return_X_y=True)
    n_rows = int(np.isin(y, [0, 1]).sum())  # 360 in scikit-learn's copy
    code, _, err = _run(["compare", *_SMALL[:4], "--n-train", "5000", "--classes",
                         "0,1", "--no-figures", "--output", str(tmp_path)], capsys)
    assert code == 0, err
    assert (f"note: --n-train 5000: digits with --classes has {n_rows} rows: using "
            f"all {n_rows}") in _notes(err)
    report = json.loads((tmp_path / "results.json").read_text())
    assert report["data"]["n_samples"] == n_rows
    # asking for no more than there is: no note
    code, _, err = _run(["compare", *_SMALL, "--output", str(tmp_path)], capsys)
    assert code == 0 and not any("--n-train" in n for n in _notes(err))


@pytest.mark.parametrize("models, figures, expected", [
    ("ntk,svc-rbf", True, "note: --models has no mlp: the agreement of mlp with ntk "
     "and the figures learning_curve and agreement_width are left out (add mlp to "
     "--models to get them)"),
    ("svc-rbf", False, "note: --models has no ntk or mlp: the 'agrees with ntk' "
     "column is left out (add ntk,mlp to --models to get them)"),
    ("svc-rbf", True, "note: --models has no ntk or mlp: the 'agrees with ntk' column "
     "and the figures learning_curve and agreement_width and gram_spectrum are left "
     "out (add ntk,mlp to --models to get them)"),
])
def test_models_without_the_pair_say_what_is_left_out(tmp_path, capsys, monkeypatch,
                                                       models, figures, expected):
    from skntk.compare import _compare

    # the note comes before any fit: stop the run there
    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_compare, "_run", stop)
    argv = ["compare", "--models", models, "--cv", "2", "--n-train", "60",
            "--output", str(tmp_path)] + ([] if figures else ["--no-figures"])
    code, _, err = _run(argv, capsys)
    assert code == 130
    assert expected in _notes(err)
    if not figures:
        assert "figure" not in err


def test_n_jobs_help_says_what_runs_in_parallel(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["compare", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "each (model, fold) fit is one task" in text
    assert "cores/J BLAS, OpenMP, numba and torch threads each" in text


def test_workers_share_the_cores_out(monkeypatch):
    import joblib

    for cores in (1, 2, 16):
        monkeypatch.setattr(joblib, "cpu_count", lambda cores=cores: cores)
        for n_jobs, n_tasks in ((1, 10), (2, 10), (4, 3), (-1, 100)):
            processes, threads = _driver._worker_threads(n_jobs, n_tasks)
            assert 1 <= processes <= n_tasks and threads >= 1
            assert processes * threads <= max(cores, processes)
    monkeypatch.setattr(joblib, "cpu_count", lambda: 16)
    assert _driver._worker_threads(4, 10) == (4, 4)
    assert _driver._worker_threads(4, 2) == (2, 8)  # no more processes than tasks


def test_a_worker_fold_runs_under_its_thread_share():
    from sklearn.base import BaseEstimator, ClassifierMixin
    from threadpoolctl import threadpool_info

    seen = []

    class Probe(ClassifierMixin, BaseEstimator):
        """An estimator that records the thread pools' sizes while it fits."""

        def fit(self, X, y):
            seen.extend(p["num_threads"] for p in threadpool_info())
            self.classes_ = np.unique(y)
            return self

        def predict(self, X):
            return np.zeros(len(X), dtype=int)

    X, y = np.eye(6), np.array([0, 1] * 3)
    _driver._run_fold("probe", 0, Probe(), X, y, np.arange(4), np.arange(4, 6),
                      threads=1)
    assert seen and set(seen) == {1}
