"""The report of ``skntk compare``: atomic files, versions, the printed table."""

import csv
import io
import json
import math
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["atomic_write_text", "format_table", "versions", "write_csv", "write_json"]

#: Bumped when the layout of results.json changes.
SCHEMA_VERSION = 1


def versions():
    """Versions of Python and of the libraries that produced the numbers."""
    import scipy
    import sklearn

    from . import __version__

    out = {"skntk": __version__, "python": platform.python_version(),
           "numpy": np.__version__, "scipy": scipy.__version__,
           "scikit-learn": sklearn.__version__}
    for name in ("torch", "numba", "matplotlib"):
        module = sys.modules.get(name)  # only what this run actually loaded
        if module is not None:
            out[name] = getattr(module, "__version__", "unknown")
    out["platform"] = platform.platform()
    out["cpu_count"] = os.cpu_count()
    return out


def atomic_write_text(path, text):
    """Write ``text`` to ``path`` through a temporary file and a rename.

    A reader (or an interrupted run) never sees a half-written file: ``path`` is
    either absent, the previous version, or the complete new one.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 is for the temporary only
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None  # strict JSON has no NaN / Infinity
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(path, data):
    """Write ``data`` as strict, indented JSON, atomically."""
    text = json.dumps(_jsonable(data), indent=2, allow_nan=False)
    atomic_write_text(path, text + "\n")


def write_csv(path, rows, columns):
    """Write a list of dicts as CSV with the given columns, atomically."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n",
                            extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_cell(row.get(k)) for k in columns})
    atomic_write_text(path, buf.getvalue())


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(_jsonable(value), sort_keys=True)
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return value


def format_table(header, rows, align=None):
    """Plain-text table: a header line, a rule, one line per row.

    Examples
    --------
    >>> print(format_table(["model", "accuracy"], [["ntk", "0.98"], ["mlp", "0.97"]]))
    model  accuracy
    -----  --------
    ntk        0.98
    mlp        0.97
    """
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    align = align or ["<"] + [">"] * (len(header) - 1)
    lines = []
    for k, row in enumerate(cells):
        lines.append("  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths))
                     .rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
