"""``skntk compare``: a net against its NTK (and baselines) on the same folds.

:func:`_compare` is the command, in steps: check the arguments (or hand over
to a ``--preset``), plan the run (models, data, folds), take the finished
folds of ``--resume``, cross-validate the rest with a checkpoint per fold,
draw the figures, write results.csv and then results.json (last: it marks a
complete run) and print the table.
"""

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..utils.activations import check_activation
from ..utils.devices import limit_torch_threads
from . import _html, _report, _significance, _sweep
from ._checkpoint import (
    PROGRESS_FILE,
    _checkpoint_settings,
    _load_checkpoint,
    checkpoint_record,
    _prepare_output,
)
from ._data import _Data, _load_data, _parse_classes
from ._driver import _cross_validate_all, _Progress
from ._errors import EXIT_OK, EXIT_USAGE, CompareError
from ._models import (
    KERNEL,
    MODELS,
    NET,
    TORCH_MODELS,
    _choose_models,
    _Context,
)
from ._preset_teacher import _preset_teacher
from ._preset_tp5 import _preset_tp5
from ._summary import (
    _agreement,
    _figure_plan,
    _make_figures,
    _params,
    _summary,
    _table,
    _use_agg,
)

PRESETS = {"tp5": _preset_tp5, "teacher": _preset_teacher}


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
        given += [f"--{k.replace('_', '-')}" for k in ("activation", "negative_slope")
                  if getattr(args, k) is not None]
        if given:
            raise CompareError(f"--preset {args.preset} fixes the data and the models; "
                               f"drop {', '.join(given)}", EXIT_USAGE)
    try:
        args.activation_spec = check_activation(
            args.activation or "relu", args.negative_slope, param="--activation",
            slope_param="--negative-slope")
    except ValueError as exc:
        raise CompareError(str(exc), EXIT_USAGE) from None
    args.dataset = args.dataset or "digits"
    args.classes = _parse_classes(args.classes)



@dataclass
class _Plan:
    """What a run cross-validates: the models, the data and the folds."""

    models: list
    data: _Data
    classes: np.ndarray
    counts: np.ndarray
    n_folds: int
    ctx: _Context
    estimators: dict
    folds: list
    repeats: int = 1  # the folds are repeats x (n_folds / repeats)


def _compare(args):
    """Cross-validate a net against its NTK (and baselines) on the same folds."""
    started = time.time()
    _check_args(args)
    if args.preset is not None:
        return PRESETS[args.preset](args, started)

    def note(text):
        if not args.quiet:
            print(f"note: {text}", file=sys.stderr, flush=True)

    plan = _plan(args, note)
    _sweep.check(args)
    _note_left_out(args, plan, note)
    progress_path = Path(args.output) / PROGRESS_FILE
    checkpoint = _checkpoint_settings(args, plan.data, plan.models, plan.n_folds,
                                      _report.versions())
    done = _resume(args, plan, progress_path, checkpoint, note)
    outdir = _prepare_output(args.output, keep_progress=args.resume)
    figures = _figures_to_draw(args, plan.models, note)
    _announce(args, plan)
    checkpoints = _Checkpoints(args, plan, done, progress_path, checkpoint)
    with checkpoints:
        results, summary, figure_paths = _run(args, plan, done, checkpoints,
                                              figures, outdir)
        sweep = None
        if getattr(args, "widths", None):
            sweep, path = _sweep.run_sweep(args, plan, results, outdir,
                                           bool(figures), done, checkpoints.save)
            if path is not None:
                figure_paths["width_sweep"] = path
    resumed = checkpoints.resumed
    _note_warnings(results, plan, note)
    report = _write_report(args, plan, results, summary, figure_paths, resumed,
                           outdir, started, sweep)
    _print_outcome(summary, report, outdir, figure_paths)
    return EXIT_OK


def _plan(args, note):
    """The models, the data, the folds; errors before anything is written."""
    models = _choose_models(args.models, note)
    data = _load_data(args)
    X, y = data.X, data.y
    classes, counts = np.unique(y, return_counts=True)
    n_folds = args.cv or (3 if args.quick else 5)
    repeats = getattr(args, "repeats", 1)
    if classes.size < 2:
        raise CompareError(f"{data.name}: a single class ({classes[0]}); compare needs "
                           "at least 2")
    if counts.min() < n_folds:
        raise CompareError(
            f"{data.name}: class {classes[counts.argmin()]} has {counts.min()} rows, "
            f"fewer than --cv {n_folds} folds; lower --cv or raise --n-train",
            EXIT_USAGE)
    spec = args.activation_spec
    ctx = _Context(quick=args.quick, random_state=args.random_state,
                   n_samples=len(y), n_features=X.shape[1], n_classes=classes.size,
                   scaler=data.scaler, activation=spec.name,
                   negative_slope=spec.negative_slope)
    estimators = {m: MODELS[m].factory(ctx) for m in models}
    # repeats=1: StratifiedKFold(n_folds, shuffle=True, random_state)'s folds
    folds = _significance.make_folds(X, y, n_folds, repeats, args.random_state)
    return _Plan(models, data, classes, counts, len(folds), ctx, estimators, folds,
                 repeats)


def _note_left_out(args, plan, note):
    """Say what the chosen rows and models leave out, rather than drop it silently."""
    n_rows = len(plan.data.y)
    if args.n_train is not None and n_rows < args.n_train:
        how = (" (n_train // classes rows of each class)"
               if plan.data.name == "fashion-mnist" else "")
        note(f"--n-train {args.n_train}: {plan.data.name}"
             f"{' with --classes' if args.classes else ''} has {n_rows} rows{how}: "
             f"using all {n_rows}")
    missing = [m for m in (KERNEL, NET) if m not in plan.models]
    if not missing:
        return
    lost = [f"the agreement of {NET} with {KERNEL}"]
    if KERNEL in missing:
        lost[0] = f"the 'agrees with {KERNEL}' column"
    if not args.no_figures:
        lost.append("the figures learning_curve and agreement_width"
                    + (" and gram_spectrum" if KERNEL in missing else ""))
    note(f"--models has no {' or '.join(missing)}: {' and '.join(lost)} "
         f"{'are' if len(lost) > 1 else 'is'} left out (add "
         f"{','.join(missing)} to --models to get them)")


def _resume(args, plan, progress_path, checkpoint, note):
    """The finished model-folds of --resume (checked before --output is touched)."""
    if not args.resume:
        return {}
    done = _load_checkpoint(progress_path, checkpoint, plan.folds)
    if done is None:
        note(f"--resume: no {progress_path}, starting from the first fold")
        return {}
    note(f"--resume: {len(done)} of {len(plan.models) * plan.n_folds} model-folds "
         f"finished in {progress_path}")
    return done


def _figures_to_draw(args, models, note):
    figures = [] if args.no_figures else _figure_plan(models, args.quick)
    if any(m in TORCH_MODELS for m in models):
        limit_torch_threads(args.torch_threads)  # the figures' nets (this process)
    if figures and not _use_agg():
        note("figures skipped: matplotlib is not installed (pip install matplotlib)")
        figures = []
    return figures


def _announce(args, plan):
    """The one-line header; the kernel engine is loaded outside the fit times."""
    X, y = plan.data.X, plan.data.y
    if not args.quiet:
        print(f"{plan.data.name}: {len(y)} samples, {X.shape[1]} features, "
              f"{plan.classes.size} classes; {plan.n_folds // plan.repeats}-fold "
              f"stratified CV{_repeated(plan)} "
              f"(random_state={args.random_state}); models: {', '.join(plan.models)}",
              flush=True)
    if KERNEL in plan.models or "nngp" in plan.models:
        from .. import relu_kernel

        relu_kernel(X[:2], depth=1)  # load the kernel engine outside the fit times


def _repeated(plan):
    return f" x {plan.repeats} repeats" if plan.repeats > 1 else ""


class _Checkpoints:
    """The run's progress file: the resumed model-folds first (the models'
    then the --widths sweep's), then each model-fold as it finishes; open for
    the whole cross-validation, the sweep included."""

    def __init__(self, args, plan, done, progress_path, checkpoint):
        order = list(plan.models) + [_sweep.sweep_model(w)
                                     for w in getattr(args, "widths", None) or ()]
        self.resumed = sorted(done, key=lambda mk: (order.index(mk[0]), mk[1]))
        self.file = _report.ProgressFile(progress_path, checkpoint,
                                         [checkpoint_record(done[mk])
                                          for mk in self.resumed])
        self.saved = len(done)
        args.interrupt_note = lambda: (f"{self.saved} finished model-folds kept in "
                                       f"{progress_path}; rerun with --resume to "
                                       f"continue")

    def save(self, res):
        self.file.append(checkpoint_record(res))
        self.saved += 1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()


def _run(args, plan, done, checkpoints, figures, outdir):
    """Every model-fold not in ``done`` (each checkpointed), then the figures."""
    models, n_folds = plan.models, plan.n_folds
    done = {mk: r for mk, r in done.items() if mk[0] in models}
    progress = _Progress(len(models) * n_folds + len(figures), args.quiet)
    progress.update(len(done), text=f"{len(done)} model-folds resumed")
    try:
        results = _cross_validate_all(models, plan.estimators, plan.data.X,
                                      plan.data.y, plan.folds, args.n_jobs,
                                      progress, args.torch_threads, done,
                                      checkpoints.save)
        summary = _summary(results, models, n_folds)
        figure_paths = _make_figures(figures, plan.ctx, plan.data, plan.folds, outdir,
                                     progress, args.quick) if figures else {}
    finally:
        progress.close()
    return results, summary, figure_paths


def _note_warnings(results, plan, note):
    for m in plan.models:
        seen = sorted({w for k in range(plan.n_folds)
                       for w in results[m, k]["warnings"]})
        for w in seen:
            note(f"{m}: {w.splitlines()[0][:300]} (results.json lists the warnings "
                 "of every fold)")


def _fold_rows(results, models, n_folds, repeats=1):
    rows = []
    for m in models:
        agree_k = None if m == KERNEL else _agreement(results, m, KERNEL, n_folds)
        for k in range(n_folds):
            r = results[m, k]
            rows.append({key: r[key] for key in (
                "model", "fold", "n_train", "n_test", "accuracy", "fit_time",
                "predict_time", "warnings")}
                | {"agreement_with_ntk": None if agree_k is None else agree_k[k],
                   "repeat": k * repeats // n_folds})
    return rows


def _settings(args, plan):
    n_folds, estimators = plan.n_folds // plan.repeats, plan.estimators
    return {
        "command": ["skntk", "compare", *args.argv],
        "dataset": args.dataset, "classes": args.classes, "n_train": args.n_train,
        "cv": n_folds, "repeats": plan.repeats,
        "rope": getattr(args, "rope", _significance.ROPE),
        "widths": list(getattr(args, "widths", None) or []) or None,
        "models": plan.models, "n_jobs": args.n_jobs,
        "random_state": args.random_state, "quick": args.quick,
        "activation": args.activation_spec.label,
        "figures": not args.no_figures, "torch_threads": args.torch_threads,
        "folds": ("StratifiedKFold(n_splits=%d, shuffle=True, random_state=%d)"
                  % (n_folds, args.random_state) if plan.repeats == 1 else
                  "RepeatedStratifiedKFold(n_splits=%d, n_repeats=%d, "
                  "random_state=%d)" % (n_folds, plan.repeats, args.random_state)),
        "definitions": {
            "accuracy": "held-out accuracy of the fold (cross_validate's test_score)",
            "fit_time": "seconds to fit the pipeline on the training rows",
            "predict_time": "cross_validate's score_time: seconds to predict and "
                            "score the held-out rows",
            "agreement_with_ntk": "fraction of held-out rows where the model and "
                                  "ntk predict the same label",
            "repeat": "which round of --repeats the fold belongs to",
            **_significance.DEFINITIONS,
        },
        "estimators": {m: {"description": MODELS[m].description,
                           "pipeline": repr(estimators[m]),
                           "params": _params(estimators[m])} for m in plan.models},
    }


def _write_report(args, plan, results, summary, figure_paths, resumed, outdir,
                  started, sweep=None):
    """results.csv, report.html, then results.json (last: it marks completion)."""
    data, n_folds = plan.data, plan.n_folds
    X, y = data.X, data.y
    agreement = _agreement(results, NET, KERNEL, n_folds)
    fold_rows = _fold_rows(results, plan.models, n_folds, plan.repeats)
    significance = _significance.from_results(
        results, plan.models, n_folds, getattr(args, "rope", _significance.ROPE))
    versions = _report.versions()
    settings = _settings(args, plan)
    report = {
        "schema_version": _report.SCHEMA_VERSION,
        "complete": True,
        "settings": settings,
        "versions": versions,
        "data": {"name": data.name, "description": data.description,
                 "n_samples": int(len(y)), "n_features": int(X.shape[1]),
                 "classes": plan.classes.tolist(),
                 "class_counts": plan.counts.tolist(), **data.info},
        "folds": [{"fold": k, "repeat": k * plan.repeats // n_folds,
                   "train_size": int(len(tr)), "test_size": int(len(te)),
                   "test_indices": te.tolist()}
                  for k, (tr, te) in enumerate(plan.folds)],
        "results": fold_rows,
        "summary": summary,
        "agreement": None if agreement is None else {
            "net": NET, "kernel": KERNEL, "per_fold": agreement,
            "mean": float(np.mean(agreement)), "std": float(np.std(agreement))},
        "significance": significance,
        "width_sweep": sweep,
        "figures": {k: v.name for k, v in figure_paths.items()},
        "progress_file": PROGRESS_FILE,
        "resumed": [list(mk) for mk in resumed],
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "wall_time": None,
    }
    versus = _significance.csv_columns(significance)
    csv_rows = [r | versus.get(r["model"], {})
                | {"dataset": data.name, "n_samples": len(y),
                   "cv": n_folds // plan.repeats,
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
        "scikit-learn", "torch", "params", *_significance.CSV_COLUMNS])
    report["wall_time"] = time.time() - started
    report["summary_text"] = _significance.sentence(significance, report["agreement"])
    _html.write_html(outdir / "report.html", report, outdir)
    _report.write_json(outdir / "results.json", report)  # last: marks completion
    return report


def _print_outcome(summary, report, outdir, figure_paths):
    print(_table(summary))
    agreement = report["agreement"]
    if agreement is not None:
        print(f"net ({NET}) and kernel ({KERNEL}) agree on "
              f"{agreement['mean']:.1%} ± {agreement['std']:.1%} of held-out "
              f"predictions")
    _significance.print_sections(report)
    print(f"report: {outdir / 'report.html'}, {outdir / 'results.json'}, "
          f"{outdir / 'results.csv'}"
          + "".join(f", {p}" for p in figure_paths.values())
          + f" ({report['wall_time']:.0f}s)")
