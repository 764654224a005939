"""``skntk compare`` killed with SIGKILL at random moments, then ``--resume``d.

Each killed run is a real process (subprocess, killed by ``os.kill`` after a
random delay, or at a chosen write or rename by the fault injector of
``tests/compare/_crash_inject.py``, which wraps the writers' ``os``). After every kill the files in --output must be
whole, and the run that finally finishes must equal an uninterrupted one bit
for bit (everything but the wall-clock times).
"""

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from _compare_cli import without_timings as _without_timings

from skntk.compare import _report
from skntk.compare._cli import main

_ARGS = ["--quick", "--models", "ntk,svc-rbf", "--cv", "4", "--n-train", "80",
         "--no-figures", "--quiet"]
_N_RECORDS = 8  # 2 models x 4 folds
_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_INJECT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_crash_inject.py")


def _records(out_dir):
    path = out_dir / "progress.jsonl"
    if not path.exists():
        return []
    return _report.read_progress(path)[1]


def _check_whole(out_dir):
    """After a kill: every file in --output is complete or absent."""
    progress = out_dir / "progress.jsonl"
    if progress.exists():
        header, records = _report.read_progress(progress)  # raises if no header
        assert header["models"] == ["ntk", "svc-rbf"] and header["cv"] == 4
        lines = progress.read_bytes().split(b"\n")
        # only the last line may be torn (a record cut by the kill)
        for line in lines[:-1]:
            json.loads(line)
        keys = [(r["model"], r["fold"]) for r in records]
        assert len(keys) == len(set(keys)) <= _N_RECORDS
    if (out_dir / "results.json").exists():
        report = json.loads((out_dir / "results.json").read_text())
        assert report["complete"] is True and len(report["results"]) == _N_RECORDS
    if (out_dir / "results.csv").exists():
        with open(out_dir / "results.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == _N_RECORDS and all(r["params"] for r in rows)


def _start(out_dir, resume, crash_at=None):
    args = ["compare", *_ARGS, "--output", str(out_dir)] + (
        ["--resume"] if resume else [])
    if crash_at is None:
        argv = [sys.executable, "-m", "skntk", *args]
    else:
        argv = [sys.executable, _INJECT, crash_at, *args]
    return subprocess.Popen(argv, cwd=_REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _kill_after_progress(proc, out_dir, rng, started):
    """SIGKILL ``proc`` at a random moment once it has (re)written progress.jsonl."""
    path = out_dir / "progress.jsonl"
    while proc.poll() is None:
        try:
            if path.stat().st_mtime >= started:
                break
        except FileNotFoundError:
            pass
        time.sleep(0.005)
    time.sleep(rng.uniform(0.0, 0.3))
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)


def _next_kill(rng, trial, n_done):
    """A kill point: a torn record, a rename cut short, or a random moment."""
    left = _N_RECORDS - n_done
    if trial % 3 == 2:
        return None  # an external kill after a random delay
    if trial % 3 == 0 and left:
        return f"append:{rng.randint(1, min(left, 2))}"
    # progress header, results.csv, report.html, results.json
    return f"replace:{rng.randint(1, 4)}"


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_matches_an_uninterrupted_run(
        tmp_path, capsys):
    fresh, out_dir = tmp_path / "fresh", tmp_path / "r"
    assert main(["compare", *_ARGS, "--output", str(fresh)]) == 0
    capsys.readouterr()
    rng = random.Random(18)
    kills, points = 0, []
    for trial in range(30):
        if kills == 10:
            break
        crash_at = _next_kill(rng, trial, len(_records(out_dir)))
        started = time.time() - 1  # file times may have a coarse resolution
        proc = _start(out_dir, resume=trial > 0, crash_at=crash_at)
        if crash_at is None:
            _kill_after_progress(proc, out_dir, rng, started)
        _, err = proc.communicate(timeout=120)
        if proc.returncode == -signal.SIGKILL:
            kills += 1
            points.append(crash_at or "random")
        else:
            assert proc.returncode == 0, err.decode()
        _check_whole(out_dir)
    assert kills == 10, points
    # every kind of kill point was hit
    assert {p.partition(":")[0] for p in points} >= {"append", "replace", "random"}

    proc = _start(out_dir, resume=True)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "progress.jsonl", "report.html", "results.csv",
        "results.json"]  # no temporaries left
    report = json.loads((out_dir / "results.json").read_text())
    expected = json.loads((fresh / "results.json").read_text())
    for key in ("results", "summary", "agreement", "folds", "data"):
        # JSON floats written by repr: equal text is equal bits
        assert _without_timings(report[key]) == _without_timings(expected[key]), key
    assert ({(r["model"], r["fold"]): r["predictions"] for r in _records(out_dir)}
            == {(r["model"], r["fold"]): r["predictions"] for r in _records(fresh)})
    with open(out_dir / "results.csv", newline="") as f, \
            open(fresh / "results.csv", newline="") as g:
        got, want = list(csv.DictReader(f)), list(csv.DictReader(g))
    # (the library versions name what each process loaded: the reference ran
    # in this process, where other tests may have loaded torch)
    versions = ("skntk", "scikit-learn", "torch")
    assert ([{k: v for k, v in _without_timings(r).items() if k not in versions}
             for r in got]
            == [{k: v for k, v in _without_timings(r).items() if k not in versions}
                for r in want])
