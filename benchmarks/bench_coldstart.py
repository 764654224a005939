"""Cold start of the kernel engine: the first ``relu_kernel`` call of a process.

Run from the repository root::

    python benchmarks/bench_coldstart.py [--repeat K]

Each measurement is a fresh Python subprocess that imports skntk and times its
first ``relu_kernel`` call (100 rows, depth 3, float64, then float32) and,
separately, ``import skntk``; and another that times a first call on 2000
rows of 64 features (load_digits' size: the tiles are split over the
threads), the first call of a user's first fit. Two situations:

- empty numba cache (``NUMBA_CACHE_DIR`` set to a new empty folder): what a
  user meets once per install; numba compiles the engine. Target <= 3 s for
  the first call.
- warm cache (the same folder, another process): every later process; numba
  loads the compiled code.
- fresh install: the wheel is built once (``pip wheel --no-build-isolation``,
  so ``setup.py`` compiles the engine into it), then for each measurement
  unpacked into a new folder and byte-compiled as pip would install it, and
  imported from there by a process with an empty home and no
  ``NUMBA_CACHE_DIR``: what a user meets after ``pip install .``. Target
  <= 3 s for the first call.

The recorded "ratio" is the time in seconds (the baseline is 1 s): a start-up
time has no in-process baseline to compare with.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _results import record  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_S = 3.0

CHILD = r"""
import json, time
t0 = time.perf_counter()
import numpy as np
import skntk
t1 = time.perf_counter()
X = np.random.default_rng(0).standard_normal((N_ROWS, 20 if N_ROWS <= 100 else 64))
skntk.relu_kernel(X, depth=3)
t2 = time.perf_counter()
skntk.relu_kernel(X.astype(np.float32), depth=3)
t3 = time.perf_counter()
print(json.dumps(dict(imp=t1 - t0, f64=t2 - t1, f32=t3 - t2)))
"""


def child(cache_dir, n=100, site=None):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    cwd = ROOT
    if site is not None:  # an installed copy, numba's default cache locations
        home = os.path.join(site, "_home")
        os.mkdir(home)
        for k in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME"):
            env.pop(k, None)
        env.update(PYTHONPATH=site, HOME=home)
        cwd = site
    code = f"N_ROWS = {n}\n" + CHILD
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def build_wheel(folder):
    """The wheel as ``pip install .`` builds it (without build isolation: this
    environment's numba), unpacked; returns the unpacked folder."""
    env = {k: v for k, v in os.environ.items() if k != "SKNTK_NO_PRECOMPILE"}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", folder, ROOT], env=env, check=True,
                   capture_output=True)
    (wheel,) = [f for f in os.listdir(folder) if f.endswith(".whl")]
    site = os.path.join(folder, "site")
    with zipfile.ZipFile(os.path.join(folder, wheel)) as z:
        z.extractall(site)
    return site


def installed_child(site, tmp):
    """A first call from a fresh copy of the installed package."""
    fresh = tempfile.mkdtemp(prefix="site-", dir=tmp)
    shutil.copytree(site, fresh, dirs_exist_ok=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", fresh], check=True,
                   capture_output=True)
    return child(None, site=fresh)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2,
                        help="fresh caches measured (best of; default 2)")
    args = parser.parse_args(argv)
    cold, warm, big, inst = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="skntk-wheel-") as wheel_dir:
        site = build_wheel(wheel_dir)
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="skntk-numba-") as d:
                cold.append(child(d))
                warm.append(child(d))
            with tempfile.TemporaryDirectory(prefix="skntk-numba-") as d:
                big.append(child(d, 2000)["f64"])
            inst.append(installed_child(site, wheel_dir))
    best = {k: min(r[k] for r in cold) for k in cold[0]}
    best_warm = {k: min(r[k] for r in warm) for k in warm[0]}
    best_inst = {k: min(r[k] for r in inst) for k in inst[0]}
    print(f"{'':<22} {'import skntk':>12} {'1st call f64':>12} {'1st call f32':>12}")
    for name, b in (("empty numba cache", best), ("warm numba cache", best_warm),
                    ("fresh pip install", best_inst)):
        print(f"{name:<22} {b['imp']:>12.2f} {b['f64']:>12.2f} {b['f32']:>12.2f}")
    print(f"first call on 2000 x 64 (f64), empty numba cache: {min(big):.2f} s")
    record("coldstart", "first relu_kernel call (f64), empty numba cache", best["f64"],
           "1 s", 1.0, target=f"<= {TARGET_S:g}")
    record("coldstart", "first relu_kernel call (f64) on 2000 x 64, empty numba cache",
           min(big), "1 s", 1.0, target=f"<= {TARGET_S:g}")
    record("coldstart", "f64 then f32 first calls, empty numba cache",
           best["f64"] + best["f32"], "1 s", 1.0)
    record("coldstart", "first relu_kernel call (f64) after pip install (the wheel's "
           "compiled engine)", best_inst["f64"], "1 s", 1.0, target=f"<= {TARGET_S:g}")
    record("coldstart", "first relu_kernel call (f64), warm numba cache",
           best_warm["f64"], "1 s", 1.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
