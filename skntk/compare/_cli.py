"""The ``skntk`` command line (also ``python -m skntk``).

``skntk compare`` cross-validates a neural network against its Neural Tangent
Kernel (and baselines) on the same folds and writes a report; ``skntk
quickstart`` is the five-second tour.
"""

import argparse
import json
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class CompareError(Exception):
    """A problem the user can fix (bad argument, missing or unreadable data).

    ``main`` prints it as one line, without a traceback.
    """

    def __init__(self, message, exit_code=EXIT_ERROR):
        super().__init__(message)
        self.exit_code = exit_code


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (argparse prints the usage block too)."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} "
                              f"(see '{self.prog} --help')\n")


# --------------------------------------------------------------------------- #
# quickstart
# --------------------------------------------------------------------------- #


def _quickstart(args):
    """Cross-validate SVC with the ReLU NTK on load_digits, beside an RBF SVC."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import StratifiedKFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from .. import ReluNTK

    X, y = load_digits(return_X_y=True)
    cv = StratifiedKFold(n_splits=args.cv, shuffle=True, random_state=args.random_state)
    models = {
        f"SVC + ReluNTK(depth={args.depth}) NTK": SVC(
            kernel=ReluNTK(depth=args.depth, b_std=0.1), C=args.C),
        f"SVC + ReluNTK(depth={args.depth}) NNGP": SVC(
            kernel=ReluNTK(depth=args.depth, b_std=0.1, kernel="nngp"), C=args.C),
        "SVC + RBF (scikit-learn)": SVC(kernel="rbf", C=args.C),
    }
    print(f"load_digits: {X.shape[0]} images, {X.shape[1]} pixels, 10 classes; "
          f"{args.cv}-fold stratified CV (random_state={args.random_state})")
    print(f"{'model':<34} {'accuracy':>17} {'fit+predict':>12}")
    for name, model in models.items():
        start = time.perf_counter()
        res = cross_validate(make_pipeline(StandardScaler(), model), X, y, cv=cv)
        acc = res["test_score"]
        print(f"{name:<34} {acc.mean():>9.4f} ± {acc.std():.4f} "
              f"{time.perf_counter() - start:>11.2f}s", flush=True)
    return EXIT_OK


# --------------------------------------------------------------------------- #
# compare: data
# --------------------------------------------------------------------------- #


@dataclass
class _Data:
    name: str
    X: np.ndarray
    y: np.ndarray
    description: str
    scaler: bool  # put a StandardScaler first in every pipeline
    X_test: np.ndarray = None  # a fixed held-out set (presets) instead of CV
    y_test: np.ndarray = None
    info: dict = field(default_factory=dict)


_DEFAULT_N_TRAIN = {"digits": None, "fashion-mnist": 1000, "teacher": 500}
_QUICK_N_TRAIN = {"digits": 500, "fashion-mnist": 300, "teacher": 300}


def _parse_classes(text):
    if text is None:
        return None
    items = [c.strip() for c in text.split(",") if c.strip()]
    if not items:
        raise CompareError("--classes: give a comma-separated list, e.g. --classes 3,6",
                           EXIT_USAGE)
    return items


def _filter_classes(X, y, classes, dataset):
    if classes is None:
        return X, y
    present = {str(v): v for v in np.unique(y).tolist()}
    missing = [c for c in classes if c not in present]
    if missing:
        raise CompareError(
            f"--classes: {', '.join(missing)} not among the labels of {dataset} "
            f"({', '.join(sorted(present, key=str))})", EXIT_USAGE)
    keep = np.isin(y, [present[c] for c in classes])
    return X[keep], y[keep]


def _subsample(X, y, n, random_state, what):
    """A stratified random subset of n rows (all rows if n is None or larger)."""
    if n is None or n >= len(y):
        return X, y
    from sklearn.model_selection import train_test_split

    try:
        X, _, y, _ = train_test_split(X, y, train_size=n, stratify=y,
                                      random_state=random_state)
    except ValueError as exc:
        raise CompareError(f"--n-train {n}: cannot draw a stratified subset of "
                           f"{what}: {exc}", EXIT_USAGE) from None
    return X, y


def _load_digits(args, n_train):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X, y = _filter_classes(X, y, args.classes, "digits")
    X, y = _subsample(X, y, n_train, args.random_state, "digits")
    return _Data("digits", X, y, "scikit-learn's load_digits (8x8 images, 0..16)",
                 scaler=True)


def _load_fashion(args, n_train):
    from ..datasets import FASHION_MNIST_CLASSES, load_fashion_mnist

    classes = args.classes
    n_classes = 10 if classes is None else len(classes)
    n_per_class = None if n_train is None else max(1, n_train // n_classes)
    try:
        bunch = load_fashion_mnist("train", classes=classes, n_per_class=n_per_class)
    except FileNotFoundError as exc:
        raise CompareError(str(exc)) from None
    except ValueError as exc:
        raise CompareError(f"fashion-mnist: {exc}") from None
    names = [FASHION_MNIST_CLASSES[c] for c in np.unique(bunch.target)]
    return _Data("fashion-mnist", bunch.data, bunch.target,
                 f"Fashion-MNIST training file, first {n_per_class} rows of each of "
                 f"{', '.join(names)}; pixels in [-1, 1]", scaler=False,
                 info={"files": bunch.files})


def _load_teacher(args, n_train):
    from ..datasets import make_teacher_network

    if args.classes is not None:
        raise CompareError("--classes does not apply to --dataset teacher "
                           "(labels -1 and 1)", EXIT_USAGE)
    n = 500 if n_train is None else n_train
    X, y = make_teacher_network(n, threshold="median", random_state=args.random_state)
    return _Data("teacher", X, y, "make_teacher_network: labels of a random "
                 "three-layer ReLU teacher (d=25), x ~ N(0, I), classes balanced",
                 scaler=False)


def _load_file(args, n_train):
    path = Path(args.dataset)
    if not path.is_file():
        raise CompareError(f"--dataset {args.dataset}: no such file")
    try:
        if path.suffix == ".npz":
            X, y = _read_npz(path)
        else:
            X, y = _read_csv(path)
    except (OSError, ValueError) as exc:
        raise CompareError(f"--dataset {path}: {exc}") from None
    if X.ndim != 2 or len(X) != len(y):
        raise CompareError(f"--dataset {path}: X must be 2-D with one row per label, "
                           f"got X of shape {X.shape} and {len(y)} labels")
    if not np.all(np.isfinite(X)):
        raise CompareError(f"--dataset {path}: X has NaN or infinite values")
    from sklearn.utils.multiclass import type_of_target

    kind = type_of_target(y)
    if kind not in ("binary", "multiclass"):
        raise CompareError(f"--dataset {path}: the labels must be classes, got "
                           f"{kind} targets (compare is a classification benchmark)")
    X, y = _filter_classes(X, y, args.classes, path.name)
    X, y = _subsample(X, y, n_train, args.random_state, path.name)
    return _Data(path.name, X, y, f"{path} ({X.shape[1]} features)", scaler=True,
                 info={"path": str(path.resolve())})


def _read_npz(path):
    with np.load(path, allow_pickle=False) as data:
        keys = set(data.files)
        for kx, ky in (("X", "y"), ("data", "target")):
            if {kx, ky} <= keys:
                X, y = data[kx], data[ky]
                break
        else:
            raise ValueError(f"holds arrays {sorted(keys)}; expected 'X' and 'y' "
                             f"(or 'data' and 'target')")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must be numeric, got dtype {X.dtype}")
    return X.astype(np.float64), np.ravel(y)


def _read_csv(path):
    """Numeric feature columns, the label in the last column, optional header."""
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    if not rows:
        raise ValueError("is empty")

    def numeric(cells):
        try:
            [float(c) for c in cells]
        except ValueError:
            return False
        return True

    if not numeric(rows[0][:-1]):
        rows = rows[1:]  # a header
    if len(rows) < 2 or len(rows[0]) < 2:
        raise ValueError("needs at least 2 rows and 2 columns (features, then the "
                         "label in the last column)")
    width = len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != width:
            raise ValueError(f"row {i + 1} has {len(r)} fields, the first has {width}")
        if not numeric(r[:-1]):
            raise ValueError(f"row {i + 1} has a non-numeric feature: {r[:-1]}")
    X = np.array([[float(c) for c in r[:-1]] for r in rows])
    labels = [r[-1].strip() for r in rows]
    try:
        y = np.array([int(v) for v in labels])
    except ValueError:
        y = np.array(labels)
    return X, y


_DATASETS = {"digits": _load_digits, "fashion-mnist": _load_fashion,
             "teacher": _load_teacher}


def _load_data(args):
    if args.dataset in _DATASETS:
        n_train = args.n_train
        if n_train is None:
            n_train = (_QUICK_N_TRAIN if args.quick else _DEFAULT_N_TRAIN)[args.dataset]
        return _DATASETS[args.dataset](args, n_train)
    if args.dataset.endswith((".npz", ".csv")):
        n_train = args.n_train
        if n_train is None and args.quick:
            n_train = 500
        return _load_file(args, n_train)
    raise CompareError(
        f"--dataset {args.dataset!r}: use digits, fashion-mnist, teacher, or a "
        f"path ending in .npz (arrays X and y) or .csv (label in the last column)",
        EXIT_USAGE)


# --------------------------------------------------------------------------- #
# compare: models (each factory imports its estimator lazily)
# --------------------------------------------------------------------------- #


@dataclass
class _Context:
    quick: bool
    random_state: int
    n_samples: int
    n_features: int
    n_classes: int
    scaler: bool


def _pipeline(ctx, *steps):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(*((StandardScaler(),) if ctx.scaler else ()), *steps)


#: The net and the kernel share the architecture: one hidden ReLU layer, NTK
#: parameterization, w_std=1, b_std=0, squared loss; the kernel's small ridge
#: stands for training to (near) zero loss.
NTK_ALPHA = 1e-3
MLP_WIDTH, MLP_WIDTH_QUICK = 512, 128
#: Learning rate per output unit. In NTK parameterization the stable SGD step
#: does not shrink with the width, and since the squared loss is a mean over
#: the outputs it grows with their number: on standardized digits (10 outputs)
#: TorchMLPClassifier's max_learning_rate_ is 35 to 50 depending on the first
#: batch, for one output about 5. 2.5 per output stays below 0.75 of it.
MLP_LEARNING_RATE = 2.5


def _ntk(ctx, kernel="ntk"):
    from .. import NTKClassifier

    return _pipeline(ctx, NTKClassifier(alpha=NTK_ALPHA, kernel=kernel, depth=1))


def _nngp(ctx):
    return _ntk(ctx, kernel="nngp")


def _mlp(ctx, width=None):
    from .. import TorchMLPClassifier

    width = width or (MLP_WIDTH_QUICK if ctx.quick else MLP_WIDTH)
    n_outputs = 1 if ctx.n_classes == 2 else ctx.n_classes
    return _pipeline(ctx, TorchMLPClassifier(
        hidden_layer_sizes=(width,), parameterization="ntk", loss="mse",
        optimizer="sgd", learning_rate_init=MLP_LEARNING_RATE * n_outputs,
        batch_size=64, max_iter=60 if ctx.quick else 100,
        n_iter_no_change=np.inf, random_state=ctx.random_state))


def _empirical(ctx):
    from sklearn.linear_model import RidgeClassifier

    from .. import EmpiricalNTKFeatures

    width = 32 if ctx.quick else 64
    features = EmpiricalNTKFeatures(hidden_layer_sizes=(width, width),
                                    n_components=1024 if ctx.n_features * width > 4096
                                    else None,
                                    random_state=ctx.random_state)
    return _pipeline(ctx, features, RidgeClassifier(alpha=NTK_ALPHA))


def _svc_rbf(ctx):
    from sklearn.svm import SVC

    return _pipeline(ctx, SVC(kernel="rbf"))


@dataclass(frozen=True)
class _Model:
    factory: object
    needs: str  # the skntk estimator it needs ("" for scikit-learn only)
    description: str


MODELS = {
    "ntk": _Model(_ntk, "NTKClassifier",
                  "NTKClassifier(kernel='ntk', depth=1): the net's infinite-width "
                  "kernel, ridge alpha=1e-3"),
    "nngp": _Model(_nngp, "NTKClassifier",
                   "NTKClassifier(kernel='nngp', depth=1): the Gaussian-process "
                   "kernel of the same net"),
    "mlp": _Model(_mlp, "TorchMLPClassifier",
                  "TorchMLPClassifier: one hidden ReLU layer, NTK parameterization, "
                  "squared loss, SGD"),
    "empirical": _Model(_empirical, "EmpiricalNTKFeatures",
                        "EmpiricalNTKFeatures (gradient features of a finite "
                        "three-layer net at init) + RidgeClassifier"),
    "svc-rbf": _Model(_svc_rbf, "", "SVC(kernel='rbf'): scikit-learn's default "
                      "baseline"),
}
DEFAULT_MODELS = ("ntk", "nngp", "mlp", "empirical", "svc-rbf")
NET, KERNEL = "mlp", "ntk"  # the pair whose agreement is reported
TORCH_MODELS = ("mlp",)


def _available(model):
    """None if the model's estimator can be imported, else the reason."""
    needs = MODELS[model].needs
    if not needs:
        return None
    import skntk

    try:
        getattr(skntk, needs)
    except (AttributeError, ImportError) as exc:
        return f"skntk.{needs} is not available ({type(exc).__name__}: {exc})"
    return None


def _choose_models(text, note):
    if text is None:
        chosen = []
        for m in DEFAULT_MODELS:
            reason = _available(m)
            if reason is None:
                chosen.append(m)
            else:
                note(f"skipping model {m!r}: {reason}")
        return chosen
    chosen = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in chosen if m not in MODELS]
    if unknown or not chosen:
        raise CompareError(
            f"--models: unknown model(s) {', '.join(unknown) or '(none)'}; choose "
            f"from {','.join(MODELS)}", EXIT_USAGE)
    if len(set(chosen)) != len(chosen):
        raise CompareError("--models: a model is listed twice", EXIT_USAGE)
    for m in chosen:
        reason = _available(m)
        if reason is not None:
            raise CompareError(f"--models {m}: {reason}")
    return chosen


# --------------------------------------------------------------------------- #
# compare: the cross-validation driver
# --------------------------------------------------------------------------- #


def _limit_torch_threads(n):
    """torch's intra-op threads: small nets train faster on one thread.

    With several threads, each small matrix product of a 64-row batch pays
    OpenMP synchronisation, and on a busy machine that costs 5-50x (measured
    on 2 shared cores); one thread per process is also what ``--n-jobs``
    wants. Only called when a torch model runs.
    """
    if n:
        import torch

        torch.set_num_threads(n)


def _run_fold(model, k, estimator, X, y, train, test, torch_threads=None):
    """One model on one fold, through cross_validate; also its held-out predictions."""
    from sklearn.model_selection import cross_validate

    if model in TORCH_MODELS:
        _limit_torch_threads(torch_threads)

    # cross_validate times fit and score; the predictions for the agreement
    # come from one more predict of the fitted estimator it returns.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = cross_validate(estimator, X, y, cv=[(train, test)], scoring="accuracy",
                             return_estimator=True, error_score="raise")
        pred = res["estimator"][0].predict(X[test])
    messages = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    return {"model": model, "fold": k, "accuracy": float(res["test_score"][0]),
            "fit_time": float(res["fit_time"][0]),
            "predict_time": float(res["score_time"][0]),
            "n_train": int(len(train)), "n_test": int(len(test)),
            "predictions": pred, "warnings": messages}


class _Progress:
    """A tqdm bar on stderr, or nothing with --quiet (plain lines without tqdm)."""

    def __init__(self, total, quiet):
        self.bar = None
        self.quiet = quiet
        self.total, self.done = total, 0
        if quiet:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is a dependency
            return
        self.bar = tqdm(total=total, file=sys.stderr, unit="step", leave=False,
                        dynamic_ncols=True,
                        bar_format="{desc} {bar} {n_fmt}/{total_fmt} "
                                   "[{elapsed}<{remaining}]")

    def describe(self, text):
        if self.bar is not None:
            self.bar.set_description_str(text)
        elif not self.quiet:
            print(f"[{self.done}/{self.total}] {text}", file=sys.stderr, flush=True)

    def update(self, n=1):
        self.done += n
        if self.bar is not None:
            self.bar.update(n)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _cross_validate_all(models, estimators, X, y, folds, n_jobs, progress,
                        torch_threads, done=None, on_result=None):
    """Every (model, fold) not in ``done``; ``on_result`` sees each as it finishes."""
    from joblib import Parallel, delayed

    results = dict(done or {})
    tasks = [(m, k) for m in models for k in range(len(folds))
             if (m, k) not in results]

    def finished(res):
        if on_result is not None:
            on_result(res)  # checkpoint first: an interrupt after it keeps the fold
        results[res["model"], res["fold"]] = res
        progress.update()

    if n_jobs == 1 or not tasks:
        for m, k in tasks:
            progress.describe(f"{m}: fold {k + 1}/{len(folds)}")
            finished(_run_fold(m, k, estimators[m], X, y, *folds[k], torch_threads))
        return results
    progress.describe(f"{len(tasks)} model-folds, n_jobs={n_jobs}")
    jobs = (delayed(_run_fold)(m, k, estimators[m], X, y, *folds[k], torch_threads)
            for m, k in tasks)
    for res in Parallel(n_jobs=n_jobs, return_as="generator_unordered")(jobs):
        finished(res)
    return results


# --------------------------------------------------------------------------- #
# compare: the progress file (per-fold checkpoints) and --resume
# --------------------------------------------------------------------------- #

PROGRESS_FILE = "progress.jsonl"
#: The fields of a fold's result that the progress file keeps.
_RECORD_KEYS = ("model", "fold", "accuracy", "fit_time", "predict_time", "n_train",
                "n_test", "predictions", "warnings")
#: The settings a resumed run must share with the progress file, in the order
#: they are checked, and how the error message names them.
_RESUME_KEYS = {"dataset": "--dataset", "classes": "--classes", "quick": "--quick",
                "n_samples": "--n-train (rows used)", "cv": "--cv",
                "random_state": "--random-state", "models": "--models",
                "torch_threads": "--torch-threads",
                "data_sha256": "the data (same name, different rows)"}
#: Library versions that must match for resumed folds to equal fresh ones.
_RESUME_VERSIONS = ("skntk", "python", "numpy", "scipy", "scikit-learn", "torch")


def _data_digest(X, y):
    import hashlib

    X = np.ascontiguousarray(X)
    h = hashlib.sha256(f"{X.dtype.str} {X.shape}".encode())
    h.update(X.tobytes())
    h.update(json.dumps(np.asarray(y).tolist()).encode())
    return h.hexdigest()


def _checkpoint_settings(args, data, models, n_folds, versions):
    """What the progress file records, to check that a --resume is compatible."""
    torch = any(m in TORCH_MODELS for m in models)
    return {
        "command": ["skntk", "compare", *args.argv],
        "dataset": data.name, "classes": args.classes, "quick": args.quick,
        "n_samples": int(len(data.y)), "cv": n_folds,
        "random_state": args.random_state, "models": list(models),
        "torch_threads": args.torch_threads if torch else None,
        "data_sha256": _data_digest(data.X, data.y),
        "versions": {k: versions[k] for k in _RESUME_VERSIONS if k in versions},
    }


def _show(value):
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def _resume_mismatch(old, new):
    """The first setting that differs, as a phrase; None if compatible."""
    for key, name in _RESUME_KEYS.items():
        if old.get(key) != new.get(key):
            if key == "data_sha256":
                return name
            return f"{name} {_show(old.get(key))}, this run has {_show(new.get(key))}"
    old_v, new_v = old.get("versions") or {}, new["versions"]
    for lib in _RESUME_VERSIONS:
        if lib in old_v and lib in new_v and old_v[lib] != new_v[lib]:
            return f"{lib} {old_v[lib]}, this run has {new_v[lib]}"
    return None


def _load_checkpoint(path, settings, folds):
    """The finished (model, fold) results of a progress file that matches."""
    from ._report import read_progress

    advice = "use a new --output, or drop --resume to start over"
    try:
        header, records = read_progress(path)
    except (OSError, ValueError) as exc:
        raise CompareError(f"--resume: {path} {exc}; {advice}", EXIT_USAGE) from None
    if header is None:
        return None
    diff = _resume_mismatch(header, settings)
    if diff is not None:
        raise CompareError(f"--resume: {path} was written with {diff}; {advice}",
                           EXIT_USAGE)
    done = {}
    for r in records:
        try:
            m, k = r["model"], int(r["fold"])
            rec = {key: r[key] for key in _RECORD_KEYS}
        except (KeyError, TypeError, ValueError):
            continue
        if m not in settings["models"] or not 0 <= k < len(folds):
            continue
        rec["predictions"] = np.asarray(rec["predictions"])
        n_test = len(folds[k][1])
        if rec["n_test"] != n_test or len(rec["predictions"]) != n_test:
            continue
        done[m, k] = rec
    return done


# --------------------------------------------------------------------------- #
# compare: report
# --------------------------------------------------------------------------- #


def _params(estimator):
    """The estimator's parameters as JSON-able values (nested estimators by repr)."""
    out = {}
    for key, value in estimator.get_params(deep=True).items():
        if key == "steps" or hasattr(value, "get_params"):
            continue  # the nested estimators' own parameters are listed
        if value is None or isinstance(value, (bool, int, float, str)):
            out[key] = value
        elif isinstance(value, tuple) and all(isinstance(v, (int, float, str))
                                              for v in value):
            out[key] = list(value)
        else:
            out[key] = repr(value)
    return out


def _agreement(results, a, b, n_folds):
    if (a, 0) not in results or (b, 0) not in results:
        return None
    return [float(np.mean(results[a, k]["predictions"] == results[b, k]["predictions"]))
            for k in range(n_folds)]


def _summary(results, models, n_folds):
    summary = {}
    for m in models:
        acc = np.array([results[m, k]["accuracy"] for k in range(n_folds)])
        fit = np.array([results[m, k]["fit_time"] for k in range(n_folds)])
        pred = np.array([results[m, k]["predict_time"] for k in range(n_folds)])
        agree = None if m == KERNEL else _agreement(results, m, KERNEL, n_folds)
        summary[m] = {
            "accuracy_mean": float(acc.mean()), "accuracy_std": float(acc.std()),
            "fit_time_mean": float(fit.mean()), "predict_time_mean": float(pred.mean()),
            "agreement_with_ntk_mean": None if agree is None else float(np.mean(agree)),
        }
    return summary


def _table(summary):
    from ._report import format_table

    rows = []
    for m, s in summary.items():
        agree = s["agreement_with_ntk_mean"]
        rows.append([m, f"{s['accuracy_mean']:.4f} ± {s['accuracy_std']:.4f}",
                     f"{s['fit_time_mean']:.2f}s", f"{s['predict_time_mean']:.3f}s",
                     "-" if agree is None else f"{agree:.4f}"])
    return format_table(["model", "accuracy (mean ± std)", "fit time", "predict time",
                         "agrees with ntk"], rows)


# --------------------------------------------------------------------------- #
# compare: figures (Display objects of skntk.compare._display; the CLI only calls them)
# --------------------------------------------------------------------------- #


def _use_agg():
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg", force=True)
    return True


def _save(display, path):
    import matplotlib.pyplot as plt

    display.figure_.savefig(path, dpi=110)
    plt.close(display.figure_)


def _figure_plan(models, quick):
    plan = []
    if NET in models and KERNEL in models:
        plan += ["learning_curve", "agreement_width"]
    if KERNEL in models:
        plan.append("gram_spectrum")
    return plan


def _make_figures(plan, ctx, data, folds, outdir, progress, quick):
    from ._display import (
        AgreementDisplay,
        GramSpectrumDisplay,
        LearningCurveComparisonDisplay,
    )

    X, y = data.X, data.y
    paths = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if "learning_curve" in plan:
            progress.describe("figure: learning curve")
            sizes = (0.3, 1.0) if quick else (0.1, 0.3, 1.0)
            n_curve_folds = 2 if quick else 3
            disp = LearningCurveComparisonDisplay.from_estimators(
                {NET: _mlp(ctx), KERNEL: _ntk(ctx)}, X, y, train_sizes=sizes,
                cv=folds[:n_curve_folds], random_state=ctx.random_state)
            disp.ax_.set_title(f"{data.name}: learning curve "
                               f"(mean ± std over {n_curve_folds} folds)")
            paths["learning_curve"] = outdir / "learning_curve.png"
            _save(disp, paths["learning_curve"])
            progress.update()
        if "agreement_width" in plan:
            progress.describe("figure: agreement versus width")
            widths = (16, 64, 256) if quick else (16, 64, 256, 1024)
            train, test = folds[0]
            disp = AgreementDisplay.from_estimator(
                _mlp(ctx), _ntk(ctx), X[train], y[train], X[test], y[test],
                widths=widths)
            disp.ax_.set_title(f"{data.name}: net versus NTK, held-out fold 1")
            paths["agreement_width"] = outdir / "agreement_width.png"
            _save(disp, paths["agreement_width"])
            progress.update()
        if "gram_spectrum" in plan:
            progress.describe("figure: Gram spectrum")
            n_max = len(folds[0][0])
            n_classes = len(np.unique(y))
            n_values = np.unique(np.linspace(max(n_classes * 5, n_max // 8), n_max,
                                             4 if quick else 6).astype(int))
            est = _ntk(ctx)
            est.set_params(ntkclassifier__alpha=0.0)
            disp = GramSpectrumDisplay.from_estimator(est, X, y, n_values=n_values)
            disp.figure_.suptitle(f"{data.name}: NTK (depth=1) Gram of the first "
                                  f"n/{n_classes} rows of each class")
            paths["gram_spectrum"] = outdir / "gram_spectrum.png"
            _save(disp, paths["gram_spectrum"])
            progress.update()
    return paths


# --------------------------------------------------------------------------- #
# compare: the command
# --------------------------------------------------------------------------- #


def _check_args(args):
    if args.cv is not None and args.cv < 2:
        raise CompareError(f"--cv must be >= 2, got {args.cv}", EXIT_USAGE)
    if args.n_train is not None and args.n_train < 2:
        raise CompareError(f"--n-train must be >= 2, got {args.n_train}", EXIT_USAGE)
    if args.n_jobs == 0:
        raise CompareError("--n-jobs must be a positive number of processes or -1 "
                           "(all cores)", EXIT_USAGE)
    if args.torch_threads < 0:
        raise CompareError(f"--torch-threads must be >= 0, got {args.torch_threads}",
                           EXIT_USAGE)
    if args.random_state < 0:
        raise CompareError(f"--random-state must be >= 0, got {args.random_state}",
                           EXIT_USAGE)
    if args.preset is not None and args.resume:
        raise CompareError(f"--resume continues a cross-validation; --preset "
                           f"{args.preset} has none, drop --resume", EXIT_USAGE)
    if args.preset is not None:
        given = [f"--{k.replace('_', '-')}" for k in ("dataset", "classes", "n_train",
                                                       "cv", "models")
                 if getattr(args, k) is not None]
        if given:
            raise CompareError(f"--preset {args.preset} fixes the data and the models; "
                               f"drop {', '.join(given)}", EXIT_USAGE)
    args.dataset = args.dataset or "digits"
    args.classes = _parse_classes(args.classes)


def _prepare_output(path, keep_progress=False):
    outdir = Path(path)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CompareError(f"--output {path}: cannot create the folder "
                           f"({exc})") from None
    if not os.access(outdir, os.W_OK):
        raise CompareError(f"--output {path}: the folder is not writable")
    # An older report must not pass for this run's if this run is interrupted;
    # an older progress file is only reused with --resume.
    names = ("results.json", "results.csv") + (() if keep_progress else
                                                (PROGRESS_FILE,))
    for name in names:
        try:
            (outdir / name).unlink()
        except FileNotFoundError:
            pass
    return outdir


def _compare(args):
    """Cross-validate a net against its NTK (and baselines) on the same folds."""
    from sklearn.model_selection import StratifiedKFold

    from . import _report

    started = time.time()
    _check_args(args)
    if args.preset is not None:
        return _PRESETS[args.preset](args, started)

    def note(text):
        if not args.quiet:
            print(f"note: {text}", file=sys.stderr, flush=True)

    models = _choose_models(args.models, note)
    data = _load_data(args)
    X, y = data.X, data.y
    classes, counts = np.unique(y, return_counts=True)
    n_folds = args.cv or (3 if args.quick else 5)
    if classes.size < 2:
        raise CompareError(f"{data.name}: a single class ({classes[0]}); compare needs "
                           "at least 2")
    if counts.min() < n_folds:
        raise CompareError(
            f"{data.name}: class {classes[counts.argmin()]} has {counts.min()} rows, "
            f"fewer than --cv {n_folds} folds; lower --cv or raise --n-train",
            EXIT_USAGE)
    ctx = _Context(quick=args.quick, random_state=args.random_state,
                   n_samples=len(y), n_features=X.shape[1], n_classes=classes.size,
                   scaler=data.scaler)
    estimators = {m: MODELS[m].factory(ctx) for m in models}
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True,
                               random_state=args.random_state)
    folds = list(splitter.split(X, y))
    progress_path = Path(args.output) / PROGRESS_FILE
    checkpoint = _checkpoint_settings(args, data, models, n_folds, _report.versions())
    done = {}
    if args.resume:  # checked before anything in --output is touched
        done = _load_checkpoint(progress_path, checkpoint, folds)
        if done is None:
            note(f"--resume: no {progress_path}, starting from the first fold")
            done = {}
        else:
            note(f"--resume: {len(done)} of {len(models) * n_folds} model-folds "
                 f"finished in {progress_path}")
    outdir = _prepare_output(args.output, keep_progress=args.resume)
    figures = [] if args.no_figures else _figure_plan(models, args.quick)
    if any(m in TORCH_MODELS for m in models):
        _limit_torch_threads(args.torch_threads)  # the figures' nets (this process)
    if figures and not _use_agg():
        note("figures skipped: matplotlib is not installed (pip install matplotlib)")
        figures = []

    if not args.quiet:
        print(f"{data.name}: {len(y)} samples, {X.shape[1]} features, "
              f"{classes.size} classes; {n_folds}-fold stratified CV "
              f"(random_state={args.random_state}); models: {', '.join(models)}",
              flush=True)
    if KERNEL in models or "nngp" in models:
        from .. import relu_kernel

        relu_kernel(X[:2], depth=1)  # load the kernel engine outside the fit times
    progress = _Progress(len(models) * n_folds + len(figures), args.quiet)
    progress.update(len(done))
    in_order = sorted(done, key=lambda mk: (models.index(mk[0]), mk[1]))
    checkpoints = _report.ProgressFile(progress_path, checkpoint,
                                       [done[mk] for mk in in_order])
    saved = [len(done)]

    def save(res):
        checkpoints.append({key: res[key] for key in _RECORD_KEYS})
        saved[0] += 1

    args.interrupt_note = lambda: (f"{saved[0]} finished model-folds kept in "
                                   f"{progress_path}; rerun with --resume to continue")
    try:
        results = _cross_validate_all(models, estimators, X, y, folds, args.n_jobs,
                                      progress, args.torch_threads, done, save)
        summary = _summary(results, models, n_folds)
        figure_paths = _make_figures(figures, ctx, data, folds, outdir, progress,
                                     args.quick) if figures else {}
    finally:
        checkpoints.close()
        progress.close()

    for m in models:
        seen = sorted({w for k in range(n_folds) for w in results[m, k]["warnings"]})
        for w in seen:
            note(f"{m}: {w.splitlines()[0][:300]} (results.json lists the warnings "
                 "of every fold)")
    agreement = _agreement(results, NET, KERNEL, n_folds)
    fold_rows = []
    for m in models:
        agree_k = None if m == KERNEL else _agreement(results, m, KERNEL, n_folds)
        for k in range(n_folds):
            r = results[m, k]
            fold_rows.append({key: r[key] for key in (
                "model", "fold", "n_train", "n_test", "accuracy", "fit_time",
                "predict_time", "warnings")}
                | {"agreement_with_ntk": None if agree_k is None else agree_k[k]})
    versions = _report.versions()
    settings = {
        "command": ["skntk", "compare", *args.argv],
        "dataset": args.dataset, "classes": args.classes, "n_train": args.n_train,
        "cv": n_folds, "models": models, "n_jobs": args.n_jobs,
        "random_state": args.random_state, "quick": args.quick,
        "figures": not args.no_figures, "torch_threads": args.torch_threads,
        "folds": "StratifiedKFold(n_splits=%d, shuffle=True, random_state=%d)"
                 % (n_folds, args.random_state),
        "definitions": {
            "accuracy": "held-out accuracy of the fold (cross_validate's test_score)",
            "fit_time": "seconds to fit the pipeline on the training rows",
            "predict_time": "cross_validate's score_time: seconds to predict and "
                            "score the held-out rows",
            "agreement_with_ntk": "fraction of held-out rows where the model and "
                                  "ntk predict the same label",
        },
        "estimators": {m: {"description": MODELS[m].description,
                           "pipeline": repr(estimators[m]),
                           "params": _params(estimators[m])} for m in models},
    }
    report = {
        "schema_version": _report.SCHEMA_VERSION,
        "complete": True,
        "settings": settings,
        "versions": versions,
        "data": {"name": data.name, "description": data.description,
                 "n_samples": int(len(y)), "n_features": int(X.shape[1]),
                 "classes": classes.tolist(), "class_counts": counts.tolist(),
                 **data.info},
        "folds": [{"fold": k, "train_size": int(len(tr)), "test_size": int(len(te)),
                   "test_indices": te.tolist()} for k, (tr, te) in enumerate(folds)],
        "results": fold_rows,
        "summary": summary,
        "agreement": None if agreement is None else {
            "net": NET, "kernel": KERNEL, "per_fold": agreement,
            "mean": float(np.mean(agreement)), "std": float(np.std(agreement))},
        "figures": {k: v.name for k, v in figure_paths.items()},
        "progress_file": PROGRESS_FILE,
        "resumed": [list(mk) for mk in in_order],
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "wall_time": None,
    }
    csv_rows = [r | {"dataset": data.name, "n_samples": len(y), "cv": n_folds,
                     "random_state": args.random_state,
                     "skntk": versions["skntk"],
                     "scikit-learn": versions["scikit-learn"],
                     "torch": versions.get("torch", ""),
                     "params": json.dumps(settings["estimators"][r["model"]]["params"],
                                          sort_keys=True)}
                for r in fold_rows]
    _report.write_csv(outdir / "results.csv", csv_rows, [
        "model", "fold", "n_train", "n_test", "accuracy", "fit_time", "predict_time",
        "agreement_with_ntk", "dataset", "n_samples", "cv", "random_state", "skntk",
        "scikit-learn", "torch", "params"])
    report["wall_time"] = time.time() - started
    _report.write_json(outdir / "results.json", report)  # last: marks completion

    print(_table(summary))
    if agreement is not None:
        print(f"net ({NET}) and kernel ({KERNEL}) agree on "
              f"{np.mean(agreement):.1%} ± {np.std(agreement):.1%} of held-out "
              f"predictions")
    print(f"report: {outdir / 'results.json'}, {outdir / 'results.csv'}"
          + "".join(f", {p}" for p in figure_paths.values())
          + f" ({report['wall_time']:.0f}s)")
    return EXIT_OK


# --------------------------------------------------------------------------- #
# compare --preset: the two seed notebooks, their printed numbers beside ours
# --------------------------------------------------------------------------- #

#: What the TP5 notebook printed (its accuracies are floor(100 * correct / total)).
TP5_SEED = {
    "ntk_train_accuracy": 100, "ntk_test_accuracy": 91, "net_train_accuracy": 96,
    "net_test_accuracy": 86, "agreement": 89,
    # smallest eigenvalue of its Gram (n/2 Dresses and n/2 Shirts), float32
    "n_values": [100, 400, 700, 1000, 1300, 1600, 1900],
    "min_eigenvalues": [23.512008666992188, 15.195989608764648, 13.155244827270508,
                        5.420177936553955, 5.3553948402404785, 5.308578968048096,
                        5.274092197418213],
}
#: What "Learning Using NTK v2.0" printed: (train error, test error) of a linear
#: SVC on each layer's gradient features, and the 0-1 errors (train, test) of the
#: net before and after the layer is replaced by the SVC's hyperplane.
TEACHER_SEED = {
    "W": {"svc": (0.0, 0.31055), "net_before": (0.47, 0.57134),
          "net_after": (0.34, 0.44753)},
    "V": {"svc": (0.01, 0.3046), "net_before": (0.39, 0.43147),
          "net_after": (0.32, 0.41944)},
    "u": {"svc": (0.1, 0.30021), "net_before": (0.51, 0.44247),
          "net_after": (0.24, 0.36317)},
}


def _notebook_kernel(X):
    """The TP5 notebook's kernel as written (u shrunk by 0.99999), float64.

    Only to show where the notebook's eigenvalues come from; skntk's own kernel
    is ``n_features * relu_kernel(X, depth=1)``, exact at u = 1.
    """
    norms = np.linalg.norm(X, axis=1)
    v = np.outer(norms, norms)
    u = 0.99999 * (X @ X.T) / v
    t = np.pi - np.arccos(u)
    return v * (u * (t + np.sqrt(1 - u**2)) / (2 * np.pi) + u * t / (2 * np.pi))


def _pct(x):
    return f"{100 * x:.1f}%"


def _preset_header(args, what):
    if not args.quiet:
        print(what, flush=True)


def _write_preset(outdir, args, started, name, rows, extra):
    from . import _report

    versions = _report.versions()
    report = {
        "schema_version": _report.SCHEMA_VERSION, "complete": True,
        "settings": {"command": ["skntk", "compare", *args.argv], "preset": name,
                     "random_state": args.random_state, "quick": args.quick},
        "versions": versions, "rows": rows, **extra,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "wall_time": time.time() - started,
    }
    _report.write_csv(outdir / "results.csv",
                      [r | {"preset": name, "skntk_version": versions["skntk"]}
                       for r in rows],
                      ["preset", "quantity", "seed", "skntk", "skntk_version"])
    _report.write_json(outdir / "results.json", report)
    return report


def _preset_tp5(args, started):
    """TP5: a shallow net and its two-layer NTK, Fashion-MNIST Dress vs Shirt, n=200."""
    from .. import NTKRegressor
    from ..datasets import load_fashion_mnist
    from ._report import format_table

    try:
        X, y = load_fashion_mnist("train", classes=["Dress", "Shirt"],
                                  n_per_class=100, return_X_y=True)
        X_test, y_test = load_fashion_mnist("test", classes=["Dress", "Shirt"],
                                            return_X_y=True)
        X_all, y_all = load_fashion_mnist("train", classes=["Dress", "Shirt"],
                                          n_per_class=950, return_X_y=True)
    except FileNotFoundError as exc:
        raise CompareError(str(exc)) from None
    outdir = _prepare_output(args.output)
    d = X.shape[1]

    def label(f):  # the notebook's rule: regress on label/9, threshold at 4.5/9
        return np.where(9 * f > 4.5, 6, 3)

    _preset_header(args,
                   "TP5 preset: Fashion-MNIST Dress (3) vs Shirt (6), the first 100 of "
                   "each class of the training file; all 2000 test images; pixels in "
                   "[-1, 1]; targets label/9, threshold 4.5/9")
    steps = 2 + (0 if args.no_figures else 2)
    progress = _Progress(steps, args.quiet)
    try:
        progress.describe("NTK: kernel regression (alpha=0)")
        t0 = time.perf_counter()
        ntk = NTKRegressor(alpha=0.0, depth=1).fit(X, y / 9)
        ntk_test = label(ntk.predict(X_test))
        ntk_time = time.perf_counter() - t0
        ntk_train = label(ntk.predict(X))
        progress.update()

        net_test = net_train = None
        net_warnings = []
        net_note = _available_net("TorchMLPRegressor")
        if net_note is None:
            _limit_torch_threads(args.torch_threads)
            progress.describe("net: 784-1000-1, SGD lr 0.01, batch 32, 200 epochs")
            t0 = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                net = _tp5_net(args).fit(X, y / 9)
            net_time = time.perf_counter() - t0
            net_warnings = sorted({f"{w.category.__name__}: {w.message}"
                                   for w in caught})
            net_test, net_train = label(net.predict(X_test)), label(net.predict(X))
        progress.update()

        eig_rows = []
        n_values = TP5_SEED["n_values"][:3] if args.quick else TP5_SEED["n_values"]
        from ._display import first_rows_per_class

        for n, seed_eig in zip(n_values, TP5_SEED["min_eigenvalues"]):
            rows = first_rows_per_class(y_all, n)
            fit = NTKRegressor(alpha=0.0, depth=1).fit(X_all[rows], y_all[rows])
            notebook = float(np.linalg.eigvalsh(_notebook_kernel(X_all[rows]))[0])
            eig_rows.append({"n": n, "seed": seed_eig,
                             "skntk": d * fit.gram_min_eigenvalue(),
                             "notebook_formula_float64": notebook,
                             "bound": fit.generalization_bound() / np.sqrt(d)})
        figure_paths = {}
        if not args.no_figures and _use_agg():
            from ._display import AgreementDisplay, GramSpectrumDisplay

            progress.describe("figure: Gram spectrum")
            disp = GramSpectrumDisplay(
                [r["n"] for r in eig_rows], [r["skntk"] for r in eig_rows],
                [r["bound"] for r in eig_rows],
                reference={"n_values": n_values, "label": "TP5 notebook",
                           "min_eigenvalues": [r["seed"] for r in eig_rows]}).plot()
            disp.figure_.suptitle("TP5: two-layer NTK Gram (x 784, the notebook's "
                                  "scale), Dress vs Shirt")
            figure_paths["gram_spectrum"] = outdir / "gram_spectrum.png"
            _save(disp, figure_paths["gram_spectrum"])
            progress.update()
            if net_note is None:
                progress.describe("figure: agreement versus width")
                # the notebook's width is the widest: with its lr of 0.01 a
                # 3000-wide net (standard parameterization) diverges
                widths = (30, 100, 1000) if args.quick else (30, 100, 300, 1000)
                preds = {1000: net_test}  # the net trained above
                for w in widths[:-1]:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # as for the main net
                        try:
                            net_w = _tp5_net(args, w).fit(X, y / 9)
                        except ValueError as exc:  # diverged
                            net_warnings.append(f"width {w}: {exc}")
                            continue
                    preds[w] = label(net_w.predict(X_test))
                kept = sorted(preds)
                disp = AgreementDisplay.from_predictions(
                    kept, [preds[w] for w in kept], ntk_test, y_true=y_test)
                disp.ax_.set_title("TP5: net (SGD, 200 epochs) versus its NTK")
                figure_paths["agreement_width"] = outdir / "agreement_width.png"
                _save(disp, figure_paths["agreement_width"])
            progress.update()
    finally:
        progress.close()

    seed = TP5_SEED
    rows = [
        {"quantity": "NTK train accuracy", "seed": seed["ntk_train_accuracy"],
         "skntk": 100 * np.mean(ntk_train == y)},
        {"quantity": "NTK test accuracy", "seed": seed["ntk_test_accuracy"],
         "skntk": 100 * np.mean(ntk_test == y_test)},
    ]
    if net_test is not None:
        rows += [
            {"quantity": "net train accuracy", "seed": seed["net_train_accuracy"],
             "skntk": 100 * np.mean(net_train == y)},
            {"quantity": "net test accuracy", "seed": seed["net_test_accuracy"],
             "skntk": 100 * np.mean(net_test == y_test)},
            {"quantity": "agreement net / NTK (test)", "seed": seed["agreement"],
             "skntk": 100 * np.mean(net_test == ntk_test)},
        ]
    print(format_table(["quantity (%)", "TP5 notebook", "skntk"],
                       [[r["quantity"], r["seed"], f"{r['skntk']:.1f}"] for r in rows]))
    if net_note is not None:
        print(f"net skipped: {net_note}")
    for w in net_warnings:
        print(f"note (net, the notebook's settings): {w}")
    print()
    print(format_table(
        ["n", "notebook λmin", "skntk λmin", "notebook formula, float64",
         "skntk bound sqrt(y'K^-1y/n)"],
        [[r["n"], f"{r['seed']:.2f}", f"{r['skntk']:.2f}",
          f"{r['notebook_formula_float64']:.2f}", f"{r['bound']:.4f}"]
         for r in eig_rows]))
    print("λmin: smallest eigenvalue of the Gram of the first n/2 Dresses and n/2 "
          "Shirts, on the notebook's scale (784 x skntk's NTK). The notebook "
          "shrinks the cosine by 0.99999 (its guard against arccos(1 + eps)), "
          "which lowers the diagonal; skntk's kernel is exact at angle 0. The "
          "bound uses the raw labels 3 and 6, as the notebook does.")
    extra = {"eigenvalues": eig_rows, "figures": {k: v.name for k, v in
                                                   figure_paths.items()},
             "data": {"train": int(len(y)), "test": int(len(y_test))},
             "net_warnings": net_warnings,
             "times": {"ntk_fit_predict": ntk_time,
                       "net_fit": None if net_test is None else net_time}}
    report = _write_preset(outdir, args, started, "tp5", rows, extra)
    print(f"report: {outdir / 'results.json'} ({report['wall_time']:.0f}s)")
    return EXIT_OK


def _available_net(name):
    import skntk

    try:
        getattr(skntk, name)
    except (AttributeError, ImportError) as exc:
        return f"skntk.{name} is not available ({exc})"
    return None


def _tp5_net(args, width=1000):
    """The notebook's net: 784 -> width -> 1, xavier normal, zero biases, SGD."""
    from .. import TorchMLPRegressor

    return TorchMLPRegressor(
        (width,), init="xavier_normal", optimizer="sgd", learning_rate_init=0.01,
        batch_size=32, max_iter=200, shuffle=False, n_iter_no_change=np.inf,
        random_state=args.random_state)


def _teacher_data(n_test):
    """The notebook's own draws (np.random.seed(124)): X, X_test, then the teacher."""
    rs = np.random.RandomState(124)
    d, m, m_test = 25, 100, 100000
    X, X_test = rs.randn(d, m).T, rs.randn(d, m_test).T
    W, V = rs.randn(d, d) / np.sqrt(d), rs.randn(d, d) / np.sqrt(d)
    u = rs.randn(d) / np.sqrt(d)
    teacher = {"W": W, "V": V, "u": u}
    return (X, _net_sign(X, teacher), X_test[:n_test],
            _net_sign(X_test[:n_test], teacher))


def _net_sign(X, p):
    """sign(u' relu(V relu(W x))) with sign(0) = -1, as in the notebook."""
    h = np.maximum(np.maximum(X @ p["W"].T, 0) @ p["V"].T, 0)
    return np.where(h @ np.ravel(p["u"]) > 0, 1, -1)


def _preset_teacher(args, started):
    """Learning Using NTK v2.0: a linear SVC on each layer's gradient features."""
    from sklearn.svm import SVC

    from .. import EmpiricalNTKFeatures, NTKClassifier
    from ._report import format_table

    outdir = _prepare_output(args.output)
    n_test = 10000 if args.quick else 100000
    X, y, X_test, y_test = _teacher_data(n_test)
    _preset_header(args,
                   f"teacher preset: the notebook's data (np.random.seed(124)): d=25, "
                   f"100 training samples, {n_test} test samples; labels "
                   f"sign(u' relu(V relu(W x))) of a random teacher")
    progress = _Progress(4, args.quiet)

    def error(clf, features, X, y):
        pred = np.concatenate([clf.predict(features.transform(X[i:i + 20000]))
                               for i in range(0, len(X), 20000)])
        return float(np.mean(pred != y))

    rows, params = [], {}
    try:
        for layer, seed in (("W", 0), ("V", 1), ("u", 2)):
            progress.describe(f"layer {layer}: gradient features + linear SVC")
            features = EmpiricalNTKFeatures(
                (25, 25), layers=(layer,), parameterization="standard",
                init_params=dict(params), random_state=seed).fit(X)
            clf = SVC(kernel="linear", C=1.0).fit(features.transform(X), y)
            start = {"W": features.W_, "V": features.V_, "u": features.u_}
            learned = dict(start)
            learned[layer] = clf.coef_.reshape(start[layer].shape)
            ours = {
                "svc": (error(clf, features, X, y),
                        error(clf, features, X_test, y_test)),
                "net_before": tuple(float(np.mean(_net_sign(Z, start) != t))
                                    for Z, t in ((X, y), (X_test, y_test))),
                "net_after": tuple(float(np.mean(_net_sign(Z, learned) != t))
                                   for Z, t in ((X, y), (X_test, y_test))),
            }
            for key, what in (("svc", "SVC on df/d{}"),
                              ("net_before", "net, {} at init"),
                              ("net_after", "net, {} = SVC hyperplane")):
                for i, split in enumerate(("train", "test")):
                    rows.append({"quantity": f"{what.format(layer)}: {split} error",
                                 "layer": layer, "seed": TEACHER_SEED[layer][key][i],
                                 "skntk": ours[key][i]})
            params[layer] = learned[layer]
            progress.update()
        progress.describe("analytic NTK (depth=2) for reference")
        ntk = NTKClassifier(alpha=1e-3, depth=2).fit(X, y)
        ntk_err = float(np.mean(ntk.predict(X_test) != y_test))
        progress.update()
    finally:
        progress.close()
    print(format_table(["0-1 error", "notebook", "skntk"],
                       [[r["quantity"], f"{r['seed']:.5g}", f"{r['skntk']:.5g}"]
                        for r in rows]))
    print("for reference, NTKClassifier(depth=2, alpha=1e-3) test error: "
          f"{ntk_err:.5g}")
    if n_test < 100000:
        print(f"(--quick: test errors on the first {n_test} of the notebook's 100000 "
              "test samples)")
    report = _write_preset(outdir, args, started, "teacher", rows,
                           {"ntk_depth2_test_error": ntk_err, "n_test": n_test})
    print(f"report: {outdir / 'results.json'} ({report['wall_time']:.0f}s)")
    return EXIT_OK


_PRESETS = {"tp5": _preset_tp5, "teacher": _preset_teacher}


# --------------------------------------------------------------------------- #
# parser and entry point
# --------------------------------------------------------------------------- #


def _int(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def build_parser():
    from .. import __version__

    parser = _Parser(
        prog="skntk",
        description="Neural networks and their Neural Tangent Kernel, side by side "
                    "in scikit-learn.")
    parser.add_argument("--version", action="version", version=f"skntk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    quick = sub.add_parser(
        "quickstart", help="cross-validate an SVC with the ReLU NTK on load_digits",
        description=_quickstart.__doc__)
    quick.add_argument("--depth", type=int, default=2, help="hidden ReLU layers (2)")
    quick.add_argument("--C", type=float, default=10.0, help="SVC's C (10)")
    quick.add_argument("--cv", type=int, default=5, help="number of folds (5)")
    quick.add_argument("--random-state", type=int, default=0,
                       help="CV shuffle seed (0)")
    quick.set_defaults(func=_quickstart)

    cmp = sub.add_parser(
        "compare", help="cross-validate a net against its NTK and write a report",
        description="Cross-validate a neural network (mlp) against its infinite-width "
                    "Neural Tangent Kernel (ntk) and baselines on the same folds; "
                    "print accuracy, times and the net/kernel agreement, and write "
                    "results.json, results.csv and figures to --output.",
        epilog="models: " + "; ".join(f"{k}: {v.description}" for k, v in
                                       MODELS.items())
               + ". Exit status: 0 done, 1 data or runtime error, 2 bad argument, "
               "130 interrupted (no results.json is left behind; the finished "
               "model-folds stay in progress.jsonl for --resume).")
    cmp.add_argument("--dataset", metavar="NAME|PATH",
                     help="digits (default, ships with scikit-learn), fashion-mnist "
                          "(raw IDX files, see skntk.datasets.load_fashion_mnist), "
                          "teacher (the seed's teacher network), PATH.npz (arrays X "
                          "and y) or PATH.csv (numeric features, label in the last "
                          "column, optional header)")
    cmp.add_argument("--classes", metavar="A,B,...",
                     help="keep only these labels (fashion-mnist also takes names, "
                          "e.g. Dress,Shirt)")
    cmp.add_argument("--n-train", type=_int, metavar="N",
                     help="rows used, drawn stratified (fashion-mnist: the first "
                          "N/classes rows of each class); each fold trains on "
                          "(K-1)/K of them. Default: all of digits or a CSV/NPZ, "
                          "1000 of fashion-mnist, 500 of teacher")
    cmp.add_argument("--cv", type=_int, metavar="K",
                     help="number of stratified folds (5; 3 with --quick)")
    cmp.add_argument("--models", metavar="M,M,...",
                     help=f"comma-separated, from {','.join(MODELS)} "
                          f"(default: all whose estimators are installed)")
    cmp.add_argument("--n-jobs", type=_int, default=1, metavar="J",
                     help="model-fold fits run in parallel processes (1; -1: all "
                          "cores)")
    cmp.add_argument("--torch-threads", type=_int, default=1, metavar="T",
                     help="torch threads per process for the net (1: small nets "
                          "train fastest on one thread; 0: torch's default)")
    cmp.add_argument("--output", default="skntk-report", metavar="DIR",
                     help="report folder (./skntk-report)")
    cmp.add_argument("--random-state", type=_int, default=0, metavar="S",
                     help="seeds folds, subsampling and the nets (0)")
    cmp.add_argument("--resume", action="store_true",
                     help="continue an interrupted run: reuse the model-folds "
                          "finished in --output's progress.jsonl (the settings must "
                          "match) and run only the others")
    cmp.add_argument("--quick", action="store_true",
                     help="smaller data, 3 folds, narrower and shorter-trained nets: "
                          "a smoke test in seconds")
    cmp.add_argument("--preset", choices=("tp5", "teacher"),
                     help="reproduce a seed notebook: tp5 (Fashion-MNIST Dress vs "
                          "Shirt, n=200) or teacher (layer-wise gradient features)")
    cmp.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    cmp.add_argument("--quiet", action="store_true",
                     help="no progress bar or notes (the table is still printed)")
    cmp.set_defaults(func=_compare)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    if args.command == "quickstart":
        if args.depth < 1:
            parser.error("--depth must be >= 1")
        if args.cv < 2:
            parser.error("--cv must be >= 2")
    args.argv = argv[argv.index(args.command) + 1:]
    try:
        return args.func(args)
    except CompareError as exc:
        print(f"skntk {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        hint = getattr(args, "interrupt_note", None)
        print(f"\nskntk {args.command}: interrupted; no results.json written"
              + (f"; {hint()}" if hint is not None else ""), file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
