"""The report files: atomic writes, strict JSON."""

import json

import numpy as np
import pytest

from skntk.compare import _report


def test_atomic_write_keeps_the_old_file_on_interrupt(tmp_path, monkeypatch):
    path = tmp_path / "results.json"
    _report.write_json(path, {"run": 1})

    def boom(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(_report.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        _report.write_json(path, {"run": 2})
    assert json.loads(path.read_text()) == {"run": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]  # no temporaries


def test_json_is_strict():
    path_text = json.dumps(_report._jsonable({"a": np.float32(0.5), "b": float("nan"),
                                              "c": np.arange(2)}), allow_nan=False)
    assert json.loads(path_text) == {"a": 0.5, "b": None, "c": [0, 1]}
