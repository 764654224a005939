"""Build hook: the wheel carries the kernel engine already compiled.

Everything else is configured in pyproject.toml. After copying the package into
the build folder, ``build_py`` runs :mod:`skntk.kernels._precompile` there, so
numba writes the kernel engines' machine code (ReLU, also for read-only
input, and one function per family of the other activations; float64 and
float32) into the wheel's
``skntk/kernels/__pycache__``; the first kernel call after ``pip install .``
then loads it (0.7-1.1 s with ``import numba``) instead of compiling it
(2.5-8 s on 2 cores).
numba ignores the files where its version, the Python version, the CPU or the
source differ, and compiles as before (numba < 0.68, which keys its cache on
file times, gets nothing: the step is skipped). It is skipped for editable installs
(the source tree's cache fills on first use) and when SKNTK_NO_PRECOMPILE is
set; a failure here only prints a warning: it never fails the build.
"""

import glob
import os
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithEngineCache(build_py):
    def run(self):
        super().run()
        if self.editable_mode:
            return
        try:
            self._precompile()
        except Exception as exc:  # never fail the build: the engine compiles on use
            print(f"skntk: kernel engine not precompiled ({exc!r}); it compiles on "
                  "first use", file=sys.stderr)

    def _precompile(self):
        lib = os.path.abspath(self.build_lib)
        # a build folder reused from an earlier build may hold stale cache files
        cache = os.path.join(lib, "skntk", "kernels", "__pycache__")
        for name in glob.glob(os.path.join(cache, "*.nb[ic]")):
            os.remove(name)
        if os.environ.get("SKNTK_NO_PRECOMPILE"):
            return
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")  # no .pyc in the wheel
        env.pop("NUMBA_CACHE_DIR", None)  # numba writes next to the sources
        env.pop("NUMBA_DISABLE_JIT", None)
        env["PYTHONPATH"] = os.pathsep.join(
            [lib] + [p for p in [env.get("PYTHONPATH")] if p])
        done = subprocess.run(
            [sys.executable, "-B", "-m", "skntk.kernels._precompile"], cwd=lib, env=env,
            capture_output=True, text=True, errors="replace", timeout=900)
        if done.returncode:
            print("skntk: kernel engine not precompiled; it compiles on first use:\n"
                  + done.stderr[-2000:], file=sys.stderr)
        else:
            print(done.stdout.strip())


setup(cmdclass={"build_py": BuildPyWithEngineCache})
