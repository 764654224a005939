"""Helpers shared by the ``skntk compare`` tests: run main, read its one-line error."""

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
