"""Run ``skntk compare`` with a SIGKILL injected into its report writers.

Used by test_crash_safety.py as ``python _crash_inject.py POINT:N ARGS...``:
the fault injection lives here, in the tests, and reaches the writers of
:mod:`skntk.compare._report` by replacing the ``os`` module they call.

- ``append:N``: the N-th progress record is half written (and fsynced), then
  the process is killed: a torn last line.
- ``replace:N``: the process is killed just before the N-th atomic rename
  (the temporary file written, the old file still in place).
"""

import os
import signal
import sys


class _FaultyOS:
    """``os``, but SIGKILL at the chosen write or rename."""

    def __init__(self, point, nth):
        self._point, self._nth, self._count = point, nth, 0

    def __getattr__(self, name):
        return getattr(os, name)

    def _due(self, point):
        if point != self._point:
            return False
        self._count += 1
        return self._count == self._nth

    def write(self, fd, data):
        if self._due("append"):
            os.write(fd, bytes(data[:len(data) // 2]))
            os.fsync(fd)
            os.kill(os.getpid(), signal.SIGKILL)
        return os.write(fd, data)

    def replace(self, src, dst):
        if self._due("replace"):
            os.kill(os.getpid(), signal.SIGKILL)
        return os.replace(src, dst)


def main(argv):
    point, _, nth = argv[0].partition(":")
    sys.path.insert(0, os.getcwd())  # the skntk that ``python -m skntk`` runs here
    from skntk.compare import _report
    from skntk.compare._cli import main as compare_main

    _report.os = _FaultyOS(point, int(nth))
    return compare_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
