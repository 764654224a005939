"""``skntk compare``: Ctrl-C, per-fold checkpoints, ``--resume``, reproducibility."""

import json
import subprocess
import sys

import numpy as np
import pytest
from _compare_cli import one_line_error as _one_line_error
from _compare_cli import run as _run
from _compare_cli import without_timings as _without_timings

from skntk.compare import _driver, _report
from skntk.compare._cli import main


# ------------------------------------------------------------ interruptions
def test_ctrl_c_leaves_no_results_json(tmp_path, capsys, monkeypatch):
    out_dir = tmp_path / "r"
    out_dir.mkdir()
    (out_dir / "results.json").write_text('{"complete": true}')  # an older run's
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    real = _driver._run_fold
    monkeypatch.setattr(_driver, "_run_fold", interrupted)
    code = main(["compare", "--models", "ntk,svc-rbf", "--cv", "2", "--n-train", "60",
                 "--output", str(out_dir)])
    assert code == 130
    err = capsys.readouterr().err
    assert "interrupted; no results.json written" in err
    assert "1 finished model-folds kept in" in err and "--resume" in err
    assert not (out_dir / "results.json").exists()
    assert not (out_dir / "results.csv").exists()
    # only the checkpoint of the one finished fold is left, and no temporaries
    assert [p.name for p in out_dir.iterdir()] == ["progress.jsonl"]
    _, records = _report.read_progress(out_dir / "progress.jsonl")
    assert [(r["model"], r["fold"]) for r in records] == [("ntk", 0)]


# ------------------------------------------------ checkpoints and --resume
_SMALL = ["--models", "ntk,svc-rbf", "--cv", "3", "--n-train", "60", "--no-figures",
          "--quiet"]


_REAL_RUN_FOLD = _driver._run_fold


def _counting_run_fold(monkeypatch, fail_at=None):
    """Replace _run_fold by a wrapper that records its calls (and can raise ^C)."""
    calls, real = [], _REAL_RUN_FOLD

    def run_fold(model, k, *args, **kwargs):
        if len(calls) + 1 == fail_at:
            raise KeyboardInterrupt
        calls.append((model, k))
        return real(model, k, *args, **kwargs)

    monkeypatch.setattr(_driver, "_run_fold", run_fold)
    return calls


def test_interrupted_run_resumes_to_the_fresh_results(tmp_path, capsys, monkeypatch):
    fresh, out_dir = tmp_path / "fresh", tmp_path / "r"
    assert main(["compare", *_SMALL, "--output", str(fresh)]) == 0
    # ^C during the 3rd of 6 model-folds: the first two are checkpointed
    calls = _counting_run_fold(monkeypatch, fail_at=3)
    code, _, err = _run(["compare", *_SMALL, "--output", str(out_dir)], capsys)
    assert code == 130 and "rerun with --resume" in err
    assert not (out_dir / "results.json").exists()
    header, records = _report.read_progress(out_dir / "progress.jsonl")
    assert [(r["model"], r["fold"]) for r in records] == [("ntk", 0), ("ntk", 1)]
    assert header["cv"] == 3 and header["models"] == ["ntk", "svc-rbf"]
    assert header["random_state"] == 0 and header["versions"]["scikit-learn"]
    # a crash in the middle of a write leaves a torn last line: it is ignored
    with open(out_dir / "progress.jsonl", "a") as f:
        f.write('{"type": "record", "model": "svc-rb')

    calls = _counting_run_fold(monkeypatch)
    code, _, err = _run(["compare", *_SMALL, "--resume", "--output", str(out_dir)],
                        capsys)
    assert code == 0, err
    assert calls == [("ntk", 2), ("svc-rbf", 0), ("svc-rbf", 1), ("svc-rbf", 2)]
    report = json.loads((out_dir / "results.json").read_text())
    expected = json.loads((fresh / "results.json").read_text())
    assert report["resumed"] == [["ntk", 0], ["ntk", 1]] and expected["resumed"] == []
    for key in ("results", "summary", "folds", "data"):
        assert _without_timings(report[key]) == _without_timings(expected[key]), key
    # the progress file is whole again (torn line dropped) and holds every fold,
    # with the same predictions as the uninterrupted run
    _, records = _report.read_progress(out_dir / "progress.jsonl")
    _, fresh_records = _report.read_progress(fresh / "progress.jsonl")
    assert len(records) == 6
    assert all(ln.endswith("}") for ln in
               (out_dir / "progress.jsonl").read_text().splitlines())
    assert ({(r["model"], r["fold"]): r["predictions"] for r in records}
            == {(r["model"], r["fold"]): r["predictions"] for r in fresh_records})

    # without --resume the progress file is discarded: every fold runs again
    calls.clear()
    assert main(["compare", *_SMALL, "--output", str(out_dir)]) == 0
    assert len(calls) == 6
    assert json.loads((out_dir / "results.json").read_text())["resumed"] == []


@pytest.mark.parametrize("change, match", [
    (["--cv", "2"], "written with --cv 3, this run has 2"),
    (["--random-state", "1"], "written with --random-state 0, this run has 1"),
    (["--models", "ntk"], "written with --models ntk,svc-rbf, this run has ntk"),
    (["--classes", "1,7"], "written with --classes (none), this run has 1,7"),
])
def test_resume_with_other_settings_is_refused(tmp_path, capsys, monkeypatch,
                                               change, match):
    _counting_run_fold(monkeypatch, fail_at=2)
    assert main(["compare", *_SMALL, "--output", str(tmp_path)]) == 130
    before = (tmp_path / "progress.jsonl").read_text()
    capsys.readouterr()
    argv = dict(zip(_SMALL[::2], _SMALL[1::2])) | dict(zip(change[::2], change[1::2]))
    code = main(["compare", *[a for kv in argv.items() for a in kv], "--resume",
                 "--output", str(tmp_path)])
    line = _one_line_error(capsys.readouterr().err, code, 2)
    assert line.startswith("skntk compare: error: --resume: ")
    assert match in line and "new --output, or drop --resume" in line
    assert (tmp_path / "progress.jsonl").read_text() == before  # left as it was


def test_resume_rejects_changed_data_and_presets(tmp_path, capsys, monkeypatch):
    from sklearn.datasets import load_digits

    X, y = load_digits(n_class=3, return_X_y=True)
    np.savez(tmp_path / "d.npz", X=X[:60], y=y[:60])
    argv = ["compare", "--dataset", str(tmp_path / "d.npz"), *_SMALL[:4],
            "--no-figures", "--quiet", "--output", str(tmp_path / "r")]
    assert main(argv) == 0
    np.savez(tmp_path / "d.npz", X=X[:60] + 1, y=y[:60])  # same name, other rows
    code = main([*argv, "--resume"])
    line = _one_line_error(capsys.readouterr().err, code, 2)
    assert "written with the data (same name, different rows)" in line
    code = main(["compare", "--preset", "teacher", "--resume"])
    assert "drop --resume" in _one_line_error(capsys.readouterr().err, code, 2)
    # --resume with nothing to resume starts from the first fold
    calls = _counting_run_fold(monkeypatch)
    assert main([*argv[:-1], str(tmp_path / "new"), "--resume"]) == 0
    assert len(calls) == 6


def test_same_random_state_is_bitwise_reproducible_across_processes(tmp_path):
    reports = []
    for run in ("a", "b"):
        res = subprocess.run([sys.executable, "-m", "skntk", "compare", *_SMALL,
                              "--random-state", "3", "--output", str(tmp_path / run)],
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        reports.append(json.loads((tmp_path / run / "results.json").read_text()))
    a, b = (_without_timings(r) for r in reports)
    for key in ("results", "summary", "agreement", "folds", "data"):
        assert a[key] == b[key], key  # JSON floats: equal text, equal bits
    assert all(r["agreement_with_ntk"] is not None for r in a["results"][3:])
    assert a["settings"]["random_state"] == 3


def test_interrupted_width_sweep_resumes_to_the_fresh_results(tmp_path, capsys,
                                                              monkeypatch):
    """The --widths sweep's model-folds are checkpointed like the models':
    ^C in the sweep, then --resume runs only the sweep's missing folds and
    gives the uninterrupted run's sweep (drift curves included)."""
    from sklearn.pipeline import make_pipeline
    from test_cli_significance import _DriftNet

    from skntk.compare import _models

    monkeypatch.setattr(_models, "_mlp",
                        lambda ctx, width=None: make_pipeline(_DriftNet((width,))))
    argv = [*_SMALL, "--widths", "4,16"]
    fresh, out_dir = tmp_path / "fresh", tmp_path / "r"
    assert main(["compare", *argv, "--output", str(fresh)]) == 0
    # 6 model-folds of ntk and svc-rbf, then 6 of the sweep: ^C at the 9th
    _counting_run_fold(monkeypatch, fail_at=9)
    code, _, err = _run(["compare", *argv, "--output", str(out_dir)], capsys)
    assert code == 130 and "8 finished model-folds kept" in err
    header, records = _report.read_progress(out_dir / "progress.jsonl")
    assert header["widths"] == [4, 16]
    assert [(r["model"], r["fold"]) for r in records][6:] == [("mlp@4", 0),
                                                              ("mlp@4", 1)]
    assert records[6]["diagnostics"]["weight_change"] == [0.0, 0.5]

    # another sweep is refused, as any other setting
    code = main(["compare", *_SMALL, "--widths", "4,32", "--resume",
                 "--output", str(out_dir)])
    line = _one_line_error(capsys.readouterr().err, code, 2)
    assert "written with --widths 4,16, this run has 4,32" in line

    calls = _counting_run_fold(monkeypatch)
    code, _, err = _run(["compare", *argv, "--resume", "--output", str(out_dir)],
                        capsys)
    assert code == 0, err
    assert calls == [("mlp@4", 2), ("mlp@16", 0), ("mlp@16", 1), ("mlp@16", 2)]
    report = json.loads((out_dir / "results.json").read_text())
    expected = json.loads((fresh / "results.json").read_text())
    assert report["resumed"][6:] == [["mlp@4", 0], ["mlp@4", 1]]
    assert (_without_timings(report["width_sweep"])
            == _without_timings(expected["width_sweep"]))
    _, records = _report.read_progress(out_dir / "progress.jsonl")
    assert len(records) == 12
