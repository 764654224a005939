"""The wheel carries the kernel engines already compiled (``setup.py`` runs
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

from skntk import ntk_kernel
from skntk.kernels._precompile import FAMILIES, numba_keys_on_content

# the compiled functions: the ReLU engine's, then one per activation family
NAMES = ("tile_rows", "row_sq_norms", "_tile_abrelu", "_tile_smooth", "_tile_series")
# compiled signatures: both precisions; the ReLU engine's also for read-only input
SIGNATURES = dict(dict.fromkeys(NAMES, 2), tile_rows=4, row_sq_norms=4)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CHILD = r"""
import json, sys
import numpy as np
import skntk
from skntk.kernels._precompile import compiled_functions
X = np.load(sys.argv[1])
out = {}
for dt in (np.float64, np.float32):
    Xd = X.astype(dt)
    ro = Xd.copy()
    ro.flags.writeable = False  # (numba compiles read-only arrays apart)
    out[f"relu read-only {np.dtype(dt).name}"] = [skntk.relu_kernel(ro).tolist()]
    for act in ("relu",) + tuple(sys.argv[2].split(",")):
        out[f"{act} {np.dtype(dt).name}"] = [
            skntk.ntk_kernel(Xd, activation=act).tolist(),
            skntk.ntk_kernel(Xd[:5], Xd[5:], activation=act).tolist()]
funcs = compiled_functions()
print(json.dumps(dict(
    file=skntk.__file__,
    hits={f.__name__: sum(f.stats.cache_hits.values()) for f in funcs},
    misses={f.__name__: sum(f.stats.cache_misses.values()) for f in funcs},
    out=out)))
"""


def _build_wheel(tmp_path, **env_extra):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(os.path.join(ROOT, name), src)
    shutil.copytree(os.path.join(ROOT, "skntk"), src / "skntk",
                    ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items()
           # bytecode writing on: the build must still ship no .pyc
           if k not in ("SKNTK_NO_PRECOMPILE", "PYTHONDONTWRITEBYTECODE")}
    env.update(env_extra)
    wheels = tmp_path / "wheels"
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                          "--no-build-isolation", "-w", str(wheels), str(src)],
                         env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (wheel,) = wheels.glob("skntk-*.whl")
    with zipfile.ZipFile(wheel) as z:
        assert not [n for n in z.namelist() if n.endswith(".pyc")]
    return wheel


def _engine_cache(wheel, name="tile_rows"):
    with zipfile.ZipFile(wheel) as z:
        return sorted(n for n in z.namelist()
                      if n.startswith("skntk/kernels/__pycache__/_engine")
                      and f".{name}-" in n)


@pytest.mark.slow
@pytest.mark.skipif(not numba_keys_on_content(),
                    reason="numba < 0.68 keys its cache on file times: nothing is shipped")
def test_fresh_install_loads_the_compiled_engine(tmp_path):
    wheel = _build_wheel(tmp_path)
    # an index and one machine-code file per precision, for the ReLU tiles,
    # the row norms and each family of the activation engine
    for name in NAMES:
        files = _engine_cache(wheel, name)
        assert sum(f.endswith(".nbi") for f in files) == 1, files
        assert sum(f.endswith(".nbc") for f in files) == SIGNATURES[name], files
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
    res = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "X.npy"),
                          ",".join(FAMILIES)],
                         cwd=tmp_path, env=env, check=True, capture_output=True,
                         text=True, timeout=600)
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["file"].startswith(str(site)), got["file"]
    # every function found in the package's cache, once per signature
    assert got["misses"] == dict.fromkeys(NAMES, 0), got["misses"]
    assert got["hits"] == SIGNATURES, got["hits"]
    # nothing was written to the user-wide cache either
    assert not list(home.rglob("*.nbi"))
    # the cached machine code gives this process's bits
    for dt in (np.float64, np.float32):
        Xd = X.astype(dt)
        (ro,) = got["out"][f"relu read-only {np.dtype(dt).name}"]
        np.testing.assert_array_equal(np.asarray(ro, dt), ntk_kernel(Xd))
        for act in ("relu",) + FAMILIES:
            sym, cross = got["out"][f"{act} {np.dtype(dt).name}"]
            np.testing.assert_array_equal(np.asarray(sym, dt),
                                          ntk_kernel(Xd, activation=act))
            np.testing.assert_array_equal(np.asarray(cross, dt),
                                          ntk_kernel(Xd[:5], Xd[5:], activation=act))


@pytest.mark.slow
def test_precompile_can_be_switched_off(tmp_path):
    wheel = _build_wheel(tmp_path, SKNTK_NO_PRECOMPILE="1")
    with zipfile.ZipFile(wheel) as z:
        assert not [n for n in z.namelist() if n.endswith((".nbi", ".nbc"))]
