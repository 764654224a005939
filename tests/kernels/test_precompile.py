"""The wheel carries the ReLU engine already compiled (``setup.py`` runs
``skntk/kernels/_precompile.py`` on the build folder): a fresh install's first
kernel call loads numba's cache instead of compiling.

The wheel is built here from a copy of the sources, without build isolation
(offline), unpacked as pip would install it, and imported by a fresh process
with an empty home (no user-wide numba cache) and no ``NUMBA_CACHE_DIR``. That
process must find every engine specialisation in the package's cache (numba's
own hit/miss counters) and give the bits this process computes.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from skntk import relu_kernel

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CHILD = r"""
import json, sys
import numpy as np
import skntk
from skntk.kernels import _engine
X = np.load(sys.argv[1])
out = {}
for dt in (np.float64, np.float32):
    Xd = X.astype(dt)
    out[np.dtype(dt).name] = [skntk.relu_kernel(Xd).tolist(),
                              skntk.relu_kernel(Xd[:5], Xd[5:]).tolist()]
print(json.dumps(dict(
    file=skntk.__file__,
    hits={f.__name__: sum(f.stats.cache_hits.values())
          for f in (_engine.tile_rows, _engine.row_sq_norms)},
    misses={f.__name__: sum(f.stats.cache_misses.values())
            for f in (_engine.tile_rows, _engine.row_sq_norms)},
    out=out)))
"""


def _build_wheel(tmp_path, **env_extra):
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        "__pycache__", "build", "dist", "*.egg-info", ".git", "docs", "tests",
        "examples", "benchmarks*", ".hypothesis", ".pytest_cache", "skntk-report"))
    env = {k: v for k, v in os.environ.items() if k != "SKNTK_NO_PRECOMPILE"}
    env.update(env_extra)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(wheels), str(src)],
                   env=env, check=True, capture_output=True, text=True, timeout=600)
    (wheel,) = wheels.glob("skntk-*.whl")
    return wheel


def _engine_cache(wheel, name="tile_rows"):
    with zipfile.ZipFile(wheel) as z:
        return sorted(n for n in z.namelist()
                      if n.startswith(f"skntk/kernels/__pycache__/_engine.{name}-"))


@pytest.mark.slow
def test_fresh_install_loads_the_compiled_engine(tmp_path):
    wheel = _build_wheel(tmp_path)
    # an index and one machine-code file per precision, for the tiles and
    # for the row norms
    for name in ("tile_rows", "row_sq_norms"):
        files = _engine_cache(wheel, name)
        assert sum(f.endswith(".nbi") for f in files) == 1, files
        assert sum(f.endswith(".nbc") for f in files) == 2, files
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as z:
        z.extractall(site)
    home = tmp_path / "home"
    home.mkdir()
    X = np.random.default_rng(3).standard_normal((9, 4))
    np.save(tmp_path / "X.npy", X)
    env = {k: v for k, v in os.environ.items()
           if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME", "PYTHONPATH")}
    env.update(PYTHONPATH=str(site), HOME=str(home))
    res = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "X.npy")],
                         cwd=tmp_path, env=env, check=True, capture_output=True,
                         text=True, timeout=600)
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["file"].startswith(str(site)), got["file"]
    assert got["misses"] == dict(tile_rows=0, row_sq_norms=0), got["misses"]
    assert got["hits"] == dict(tile_rows=2, row_sq_norms=2), got["hits"]
    # nothing was written to the user-wide cache either
    assert not list(home.rglob("*.nbi"))
    # the cached machine code gives this process's bits
    for dt in (np.float64, np.float32):
        Xd = X.astype(dt)
        sym, cross = got["out"][np.dtype(dt).name]
        np.testing.assert_array_equal(np.asarray(sym, dt), relu_kernel(Xd))
        np.testing.assert_array_equal(np.asarray(cross, dt), relu_kernel(Xd[:5], Xd[5:]))


@pytest.mark.slow
def test_precompile_can_be_switched_off(tmp_path):
    wheel = _build_wheel(tmp_path, SKNTK_NO_PRECOMPILE="1")
    assert _engine_cache(wheel, "") == []
