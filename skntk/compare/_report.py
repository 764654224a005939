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

__all__ = ["ProgressFile", "atomic_write_text", "atomic_write_with", "format_table",
           "read_progress", "temporary_name", "versions", "write_csv", "write_json"]

#: Bumped when the layout of results.json changes.
SCHEMA_VERSION = 1


def versions():
    """Versions of Python and of the libraries that produced the numbers."""
    import scipy
    import sklearn

    from .. import __version__

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


def temporary_name(name):
    """Whether ``name`` is one of :func:`atomic_write_text`'s temporaries."""
    return name.startswith(".") and name.endswith(".tmp")


def _fsync_dir(folder):
    """Make a rename in ``folder`` durable (where the OS can sync a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows cannot open a folder
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse
        pass
    finally:
        os.close(fd)


def atomic_write_text(path, text):
    """Write ``text`` to ``path`` through a temporary file and a rename.

    A reader (or an interrupted, even killed, run) never sees a half-written
    file: ``path`` is either absent, the previous version, or the complete new
    one. The temporary is fsynced before the rename and the folder after it,
    so a power cut cannot leave an empty file under the new name either.
    """
    atomic_write_with(path, lambda f: f.write(text.encode("utf-8")))


def atomic_write_with(path, write):
    """Call ``write(f)`` on a binary temporary file beside ``path``, then rename.

    What :func:`atomic_write_text` does, for writers that want a file object
    (a figure's ``savefig``).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 is for the temporary only
        os.replace(tmp, path)
        _fsync_dir(path.parent)
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


# --------------------------------------------------------------------------- #
# the progress file: one JSON line per finished (model, fold), for --resume
# --------------------------------------------------------------------------- #

#: Bumped when the layout of the progress file changes.
PROGRESS_VERSION = 1


def _json_line(data):
    return json.dumps(_jsonable(data), allow_nan=False, sort_keys=True) + "\n"


class ProgressFile:
    """Append-only JSON-lines checkpoint: a header line, then one line per record.

    The header (``{"type": "header", ...}``) and any records carried over from
    an earlier run are written first through :func:`atomic_write_text`; every
    later record is one ``write`` of a whole line on an ``O_APPEND`` descriptor,
    followed by ``fsync``. A crash can at worst leave a torn last line, which
    :func:`read_progress` ignores and the next ``--resume`` drops when it
    rewrites the file (header and the whole records) before appending again.
    """

    def __init__(self, path, header, records=()):
        self.path = Path(path)
        text = _json_line({"type": "header", "progress_version": PROGRESS_VERSION,
                           **header})
        text += "".join(_json_line({"type": "record", **r}) for r in records)
        atomic_write_text(self.path, text)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def append(self, record):
        data = _json_line({"type": "record", **record}).encode("utf-8")
        view = memoryview(data)
        while view:  # one write for a line this size; loop for safety
            view = view[os.write(self._fd, view):]
        os.fsync(self._fd)

    def close(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_progress(path):
    """``(header, records)`` of a progress file; ``(None, [])`` if it is absent.

    Lines that do not parse (a torn last line after a crash) are skipped. Raises
    ``ValueError`` if the file exists but has no valid header line.
    """
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return None, []
    header, records = None, []
    for line in lines:
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if not isinstance(item, dict):
            continue
        kind = item.pop("type", None)
        if kind == "header" and header is None:
            header = item
        elif kind == "record" and header is not None:
            records.append(item)
    if header is None:
        raise ValueError("has no header line (not a skntk progress file?)")
    return header, records


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
