"""``skntk compare --widths``: the net at several widths, on the run's folds.

For each width the net (``mlp``) is cross-validated on the same folds as the
other models (all repeats); the sweep reports its accuracy, its agreement with
the kernel, its difference from the kernel with the corrected resampled t-test
and, when the net records them, how far its weights and its empirical NTK moved
from initialisation during training (the lazy-training diagnostics).
"""

import argparse
import warnings

import numpy as np

from . import _models
from ._models import KERNEL
from ._stats import corrected_ttest

#: The fitted attributes of a net that records its drift (one value per epoch
#: end, relative to initialisation), and the names the sweep gives their last value.
DRIFT_ATTRIBUTES = {"weight_change_": "weight_change", "ntk_change_": "ntk_change"}


def parse_widths(text):
    """``"64,256"`` -> ``(64, 256)``; an argparse error for anything else.

    Examples
    --------
    >>> parse_widths("64, 256,1024")
    (64, 256, 1024)
    """
    items = [w.strip() for w in str(text).split(",")]
    widths = []
    for w in items:
        try:
            value = int(w)
        except ValueError:
            value = 0
        if value < 1 or str(value) != w.lstrip("+"):
            raise argparse.ArgumentTypeError(
                f"expected comma-separated positive integer widths, e.g. "
                f"64,256,1024; got {w!r} in {text!r}")
        widths.append(value)
    if len(set(widths)) != len(widths):
        raise argparse.ArgumentTypeError(f"a width is listed twice in {text!r}")
    return tuple(widths)


def sweep_model(width):
    """The sweep's name for the net at ``width`` (``mlp@256``)."""
    return f"mlp@{width}"


def _net(ctx, width):
    est = _models._mlp(ctx, width=width)
    net = est[-1]
    net.set_params(record_drift=True)
    return est


def fitted_diagnostics(estimator):
    """The drift curves a fitted net recorded (``{}`` if it records none)."""
    net = estimator[-1] if hasattr(estimator, "steps") else estimator
    out = {}
    for attr, name in DRIFT_ATTRIBUTES.items():
        curve = getattr(net, attr, None)  # None for a net fitted without it
        if curve is not None:
            out[name] = np.asarray(curve, dtype=float).ravel().tolist()
    return out


def _mean_last(per_fold, name):
    values = [d[name][-1] for d in per_fold if d.get(name)]
    return float(np.mean(values)) if len(values) == len(per_fold) else None


def summarize(widths, results, kernel_results, n_folds):
    """Per width: accuracy, agreement and test against the kernel, drift.

    ``results[(sweep_model(w), k)]`` are the driver's fold results (with their
    ``diagnostics``); ``kernel_results[k]`` the kernel's, or None without one.
    """
    rows = []
    for w in widths:
        folds = [results[sweep_model(w), k] for k in range(n_folds)]
        acc = np.array([r["accuracy"] for r in folds])
        row = {"width": int(w), "accuracy_mean": float(acc.mean()),
               "accuracy_std": float(acc.std()), "accuracy": acc.tolist(),
               "fit_time_mean": float(np.mean([r["fit_time"] for r in folds])),
               "agreement_with_ntk_mean": None, "agreement_with_ntk": None,
               "vs_ntk": None}
        if kernel_results is not None:
            agree = [float(np.mean(r["predictions"] == kr["predictions"]))
                     for r, kr in zip(folds, kernel_results)]
            row["agreement_with_ntk"] = agree
            row["agreement_with_ntk_mean"] = float(np.mean(agree))
            t = corrected_ttest(acc, [kr["accuracy"] for kr in kernel_results],
                                n_train=[r["n_train"] for r in folds],
                                n_test=[r["n_test"] for r in folds])
            row["vs_ntk"] = {k: t[k] for k in ("difference", "ci_low", "ci_high",
                                               "p_value", "status")}
        diagnostics = [r.get("diagnostics") or {} for r in folds]
        for name in DRIFT_ATTRIBUTES.values():
            row[f"{name}_mean"] = _mean_last(diagnostics, name)
            if row[f"{name}_mean"] is not None:
                row[f"{name}_per_epoch"] = [d[name] for d in diagnostics]
        rows.append(row)
    return rows


def sweep_table(rows):
    """The printed table: one line per width (drift columns only if recorded)."""
    from ._report import format_table

    drift = [n for n in DRIFT_ATTRIBUTES.values()
             if any(r[f"{n}_mean"] is not None for r in rows)]
    header = ["width", "accuracy (mean ± std)", "agrees with ntk", "vs ntk (points)",
              "p"] + [n.replace("_", " ") for n in drift]
    lines = []
    for r in rows:
        vs = r["vs_ntk"]
        agree = r["agreement_with_ntk_mean"]
        lines.append([
            r["width"], f"{r['accuracy_mean']:.4f} ± {r['accuracy_std']:.4f}",
            "-" if agree is None else f"{agree:.4f}",
            "-" if vs is None else f"{100 * vs['difference']:+.2f}",
            "-" if vs is None or vs["p_value"] is None else f"{vs['p_value']:.3f}",
            *("-" if r[f"{n}_mean"] is None else f"{r[f'{n}_mean']:.4g}"
              for n in drift)])
    return format_table(header, lines)


def check(args):
    """Refuse ``--widths`` before anything runs if the net is not installed."""
    from ._errors import CompareError
    from ._models import _available

    reason = _available("TorchMLPClassifier") if getattr(args, "widths", None) else None
    if reason is not None:
        raise CompareError(f"--widths sweeps the net (mlp): {reason}")


def run_sweep(args, plan, results, outdir, draw, done=None, on_result=None):
    """Cross-validate the net at every ``--widths`` on ``plan.folds``.

    ``done``: finished model-folds of ``--resume`` (those of the sweep are
    reused); ``on_result`` checkpoints each new one. Returns ``(rows,
    figure_path)``; the figure (``widths_sweep.png``) only if ``draw``.
    """
    from ._driver import _cross_validate_all, _Progress
    from ._summary import _save

    widths = args.widths
    models = [sweep_model(w) for w in widths]
    estimators = {sweep_model(w): _net(plan.ctx, w) for w in widths}
    done = {mk: r for mk, r in (done or {}).items() if mk[0] in estimators}
    progress = _Progress(len(models) * len(plan.folds) + int(draw), args.quiet)
    progress.update(len(done), text=f"{len(done)} sweep model-folds resumed")
    try:
        sweep = _cross_validate_all(models, estimators, plan.data.X, plan.data.y,
                                    plan.folds, args.n_jobs, progress,
                                    args.torch_threads, done, on_result)
        kernel = ([results[KERNEL, k] for k in range(len(plan.folds))]
                  if (KERNEL, 0) in results else None)
        rows = summarize(widths, sweep, kernel, len(plan.folds))
        path = None
        if draw:
            from ._display_sweep import WidthSweepDisplay

            progress.describe("figure: width sweep")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                disp = WidthSweepDisplay.from_sweep(rows, kernel_results=kernel)
                disp.figure_.suptitle(f"{plan.data.name}: the net at each width, "
                                      f"{len(plan.folds)} folds")
                path = outdir / "widths_sweep.png"
                _save(disp, path)
            progress.update()
    finally:
        progress.close()
    return rows, path
