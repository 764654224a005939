"""Packaging contracts: import is light, the CLI works."""

import subprocess
import sys

import pytest

from skntk import __version__
from skntk.compare._cli import main


def test_import_does_not_load_torch_or_numba():
    code = ("import sys, skntk; "
            "heavy = [m for m in ('torch', 'numba', 'torchvision') if m in sys.modules]; "
            "print(heavy); sys.exit(1 if heavy else 0)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_cli_help_and_version(capsys):
    assert main([]) == 0
    assert "quickstart" in capsys.readouterr().out
    res = subprocess.run([sys.executable, "-m", "skntk", "--version"],
                         capture_output=True, text=True)
    assert res.returncode == 0 and __version__ in res.stdout


def test_cli_quickstart_prints_scores(capsys):
    assert main(["quickstart", "--cv", "2", "--depth", "1"]) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if "±" in ln]
    assert len(lines) == 3
    ntk_acc = float(lines[0].split()[-4])
    assert 0.9 < ntk_acc <= 1.0  # digits is easy: a broken kernel scores far lower


def test_cli_rejects_bad_arguments():
    with pytest.raises(SystemExit):
        main(["quickstart", "--depth", "0"])
