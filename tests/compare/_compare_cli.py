"""Helpers shared by the ``skntk compare`` tests: run main, read its one-line error,
compare reports without their wall-clock times."""

from skntk.compare._cli import main


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err, code, expected_code):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == expected_code, err
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


#: results.json keys that hold wall-clock times (everything else is reproducible)
TIMING_KEYS = {"fit_time", "predict_time", "fit_time_mean", "predict_time_mean",
               "started", "wall_time"}


def without_timings(obj):
    if isinstance(obj, dict):
        return {k: without_timings(v) for k, v in obj.items() if k not in TIMING_KEYS}
    if isinstance(obj, list):
        return [without_timings(v) for v in obj]
    return obj
