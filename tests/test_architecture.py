"""The package's import rules (ARCHITECTURE.md), checked on the source.

Every module of skntk is parsed (never imported) and its imports are resolved
to absolute names, so a rule broken anywhere, even inside a function that no
test runs, fails here. A subprocess check confirms what ``import skntk`` loads.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import skntk

PACKAGE = Path(skntk.__file__).parent

# subpackage -> the other subpackages it may import (besides the standard
# library and third-party packages, which the rules below restrict further)
LAYERS = {
    "utils": set(),
    "kernels": {"utils"},
    "linalg": {"utils"},
    "datasets": {"utils"},
    "ridge": {"kernels", "linalg", "utils"},
    "empirical": {"utils"},
    "nets": {"kernels", "linalg", "utils"},
    "compare": {"*"},
}
# the modules that may import torch (the nets and the torch twins); outside
# skntk/nets only inside functions, so that nothing `import skntk` loads
# imports it
TORCH_TWINS = {"kernels/torch_gram.py", "ridge/_device.py"}
# kernels/_series.py: a user-callable activation is a torch function, sampled
# (inside a function) to get its kernel series
TORCH_LAZY = {"utils/devices.py", "utils/activations.py", "empirical",
              "kernels/_series.py"}
# dask stays an optional extra: imported only inside the functions of these
# modules, which run only once a dask array (or a scheduler) was passed
DASK_LAZY = {"linalg/falkon_dask.py", "ridge/_dask.py", "compare/_cli.py"}
MAX_LINES = 600
# the package's version: every layer may read it (pickles record it)
VERSION = "skntk._version"


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _rel(path):
    return path.relative_to(PACKAGE).as_posix()


def _subpackage(rel):
    parts = rel.split("/")
    return parts[0] if len(parts) > 1 else None


def _module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path):
    """(absolute module, imported names, inside a function?) for each import."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found = []

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append((alias.name, (), in_function))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[:len(base) - child.level + 1]
                    module = ".".join(base + ([child.module] if child.module else []))
                else:
                    module = child.module
                found.append((module, tuple(a.name for a in child.names), in_function))
            visit(child, nested)

    visit(tree, False)
    return found


ALL = [(_rel(p), _imports(p)) for p in _modules()]
IDS = [rel for rel, _ in ALL]


def _top(module):
    return module.split(".")[0]


def _skntk_targets(module, names):
    """(module path parts, name, subpackage) for each skntk name one import
    statement reaches; the subpackage is None for the top-level package.
    ``skntk._version`` is left out: every layer may read it."""
    if _top(module) != "skntk" or module == VERSION:
        return []
    parts = module.split(".")
    other = parts[1] if len(parts) > 1 else None
    return [(parts, name, other) for name in names or (None,)]


@pytest.mark.parametrize("rel, imports", ALL, ids=IDS)
def test_layers(rel, imports):
    sub = _subpackage(rel)
    if sub is None:  # skntk/__init__.py, __main__.py, _version.py: the façade
        return
    allowed = LAYERS[sub]
    for module, names, _ in imports:
        for _parts, _name, other in _skntk_targets(module, names):
            if other == sub or "*" in allowed:
                continue
            assert other is not None, (
                f"{rel} imports the top-level package skntk: import from the "
                "subpackage that defines the name")
            assert other in allowed, (
                f"{rel} ({sub}) imports skntk.{other}; {sub} may import only "
                f"{sorted(allowed) or 'no other subpackage'}")


@pytest.mark.parametrize("rel, imports", ALL, ids=IDS)
def test_no_private_names_across_subpackages(rel, imports):
    sub = _subpackage(rel)
    for module, names, _ in imports:
        for parts, name, other in _skntk_targets(module, names):
            if other is None or other == sub:
                continue
            private = [p for p in parts[2:] if p.startswith("_")]
            if name is not None and name.startswith("_") and name != "__version__":
                private.append(name)
            assert not private, (
                f"{rel} imports private {private} of skntk.{other}: make it public "
                "within the package or move it to a shared module")


@pytest.mark.parametrize("rel, imports", ALL, ids=IDS)
def test_numba_only_in_the_kernels(rel, imports):
    for module, names, _ in imports:
        if _top(module) == "numba" or module == "skntk.kernels._engine" or (
                module == "skntk.kernels" and "_engine" in names):
            assert rel.startswith("kernels/"), f"{rel} imports {module}"


@pytest.mark.parametrize("rel, imports", ALL, ids=IDS)
def test_torch_only_in_the_nets_and_the_twins(rel, imports):
    for module, _, in_function in imports:
        if _top(module) not in ("torch", "torchvision"):
            continue
        if rel.startswith("nets/") or rel in TORCH_TWINS:
            continue
        lazy_ok = rel in TORCH_LAZY or _subpackage(rel) in TORCH_LAZY
        assert lazy_ok and in_function, (
            f"{rel} imports {module}"
            + ("" if lazy_ok else ": only skntk.nets and the torch twins may"))


@pytest.mark.parametrize("rel, imports", ALL, ids=IDS)
def test_dask_only_lazily_in_the_dask_paths(rel, imports):
    for module, _, in_function in imports:
        if _top(module) in ("dask", "distributed", "dask_jobqueue"):
            assert rel in DASK_LAZY and in_function, (
                f"{rel} imports {module}: only {sorted(DASK_LAZY)} may, inside "
                "functions")


@pytest.mark.parametrize("rel, imports", ALL, ids=IDS)
def test_linalg_is_pure_numpy_and_scipy(rel, imports):
    if not rel.startswith("linalg/"):
        return
    for module, _, _ in imports:
        assert _top(module) not in ("sklearn", "torch", "numba", "joblib"), (
            f"{rel} imports {module}")
        if _top(module) == "skntk":
            assert module.split(".")[1] in ("linalg", "utils"), f"{rel} imports {module}"


@pytest.mark.parametrize("rel, imports", ALL, ids=IDS)
def test_nothing_but_the_facade_imports_compare(rel, imports):
    if rel.startswith("compare/") or rel in ("__init__.py", "__main__.py"):
        return
    for module, _, _ in imports:
        assert not module.startswith("skntk.compare"), f"{rel} imports {module}"


@pytest.mark.parametrize("rel, imports", ALL, ids=IDS)
def test_private_sklearn_names_only_through_compat(rel, imports):
    if rel == "utils/compat.py":
        return
    for module, names, _ in imports:
        if _top(module) != "sklearn":
            continue
        private = [p for p in module.split(".") if p.startswith("_")]
        private += [n for n in names if n.startswith("_")]
        assert not private, (
            f"{rel} imports scikit-learn's private {private} from {module}: "
            "import it from skntk.utils.compat")


@pytest.mark.parametrize("path", _modules(), ids=[_rel(p) for p in _modules()])
def test_no_test_fixtures_and_no_long_modules(path):
    text = path.read_text()
    for fixture in ("_check_estimator_instances", "_expected_failed_checks"):
        assert fixture not in text, f"{_rel(path)} holds the test fixture {fixture}"
    n = text.count("\n")
    assert n <= MAX_LINES, f"{_rel(path)} has {n} lines (at most {MAX_LINES})"


def test_every_subpackage_says_what_it_holds_and_may_import():
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "May import" in doc, f"{_rel(init)} lacks its import rule"
        assert init.parent.name in LAYERS, f"{_rel(init)}: add it to LAYERS"


def test_a_rule_break_is_caught(tmp_path, monkeypatch):
    """The checks can fail: a fake linalg module importing an estimator."""
    fake = PACKAGE / "linalg" / "_fake_for_test.py"
    imports = None
    try:
        fake.write_text("from ..ridge._base import X\nimport torch\n")
        imports = _imports(fake)
    finally:
        fake.unlink()
    with pytest.raises(AssertionError):
        test_layers("linalg/_fake_for_test.py", imports)
    with pytest.raises(AssertionError):
        test_no_private_names_across_subpackages("linalg/_fake_for_test.py", imports)
    with pytest.raises(AssertionError):
        test_torch_only_in_the_nets_and_the_twins("linalg/_fake_for_test.py", imports)
    with pytest.raises(AssertionError):
        test_dask_only_lazily_in_the_dask_paths(
            "linalg/falkon_dask.py", [("dask.array", (), False)])


def test_import_skntk_and_the_numpy_estimators_load_neither_torch_nor_numba():
    code = ("import sys, skntk, skntk.datasets; skntk.NTKRegressor; skntk.NTKClassifierCV; "
            "skntk.ReluNTK; skntk.datasets.make_teacher_network; "
            "heavy = [m for m in ('torch', 'numba', 'torchvision') if m in sys.modules]; "
            "print(heavy); sys.exit(1 if heavy else 0)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
