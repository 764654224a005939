"""``skntk compare``'s summaries: per-model numbers, the table, the figures.

The figures are the Display objects of :mod:`skntk.compare._display`; this
module only decides which to draw, calls them and saves the PNGs.
"""

import warnings

import numpy as np

from ._models import KERNEL, NET, _mlp, _ntk

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
# figures (Display objects of skntk.compare._display; the CLI only calls them)
# --------------------------------------------------------------------------- #


def _use_agg():
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg", force=True)
    return True


def _save(display, path):
    """Save the figure as a PNG atomically (never a half-written image)."""
    import matplotlib.pyplot as plt

    from ._report import atomic_write_with

    atomic_write_with(path, lambda f: display.figure_.savefig(f, dpi=110,
                                                               format="png"))
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
