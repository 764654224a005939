"""``skntk compare --preset tp5``: a shallow net and its two-layer NTK.

The TP5 notebook: Fashion-MNIST Dress vs Shirt, the first 100 training images
of each, regression on label/9; its printed accuracies and Gram eigenvalues
beside skntk's.
"""

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..utils.devices import limit_torch_threads
from ._checkpoint import _prepare_output
from ._driver import _Progress
from ._errors import EXIT_OK, CompareError
from ._models import _available
from ._presets import _preset_header, _write_preset
from ._significance import mcnemar_fields, p_cell
from ._summary import _save, _use_agg

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



def _label(f):
    """The notebook's rule: regress on label/9, threshold at 4.5/9."""
    return np.where(9 * f > 4.5, 6, 3)


@dataclass
class _NetRun:
    """The notebook's net, trained if TorchMLPRegressor is available."""

    note: str = None  # why it was not trained
    train: np.ndarray = None  # predicted labels
    test: np.ndarray = None
    time: float = None
    warnings: list = field(default_factory=list)
    # lazy-training diagnostics after the last epoch (record_drift)
    weight_change: float = None
    ntk_change: float = None


def _preset_tp5(args, started):
    """TP5: a shallow net and its two-layer NTK, Fashion-MNIST Dress vs Shirt, n=200."""
    X, y, X_test, y_test, X_all, y_all = _tp5_data()
    outdir = _prepare_output(args.output)
    _preset_header(args,
                   "TP5 preset: Fashion-MNIST Dress (3) vs Shirt (6), the first 100 of "
                   "each class of the training file; all 2000 test images; pixels in "
                   "[-1, 1]; targets label/9, threshold 4.5/9")
    steps = 2 + (0 if args.no_figures else 2)
    progress = _Progress(steps, args.quiet)
    try:
        ntk_train, ntk_test, ntk_time = _tp5_ntk(X, y, X_test, progress)
        net = _tp5_train_net(args, X, y, X_test, progress)
        n_values = TP5_SEED["n_values"][:3] if args.quick else TP5_SEED["n_values"]
        eig_rows = _tp5_eigenvalues(X_all, y_all, n_values)
        figure_paths = {}
        if not args.no_figures and _use_agg():
            figure_paths = _tp5_figures(args, outdir, progress, eig_rows, n_values,
                                        net, ntk_test, X, y, X_test, y_test)
    finally:
        progress.close()

    rows = _tp5_rows(y, y_test, ntk_train, ntk_test, net)
    _print_tp5(rows, net, eig_rows)
    extra = {"eigenvalues": eig_rows, "figures": {k: v.name for k, v in
                                                   figure_paths.items()},
             "data": {"train": int(len(y)), "test": int(len(y_test))},
             "net_warnings": net.warnings,
             "times": {"ntk_fit_predict": ntk_time,
                       "net_fit": None if net.test is None else net.time}}
    report = _write_preset(outdir, args, started, "tp5", rows, extra)
    print(f"report: {outdir / 'report.html'}, {outdir / 'results.json'} "
          f"({report['wall_time']:.0f}s)")
    return EXIT_OK


def _tp5_data():
    """The notebook's training rows, the whole test file, and rows for the Grams."""
    from ..datasets import load_fashion_mnist

    try:
        X, y = load_fashion_mnist("train", classes=["Dress", "Shirt"],
                                  n_per_class=100, return_X_y=True)
        X_test, y_test = load_fashion_mnist("test", classes=["Dress", "Shirt"],
                                            return_X_y=True)
        X_all, y_all = load_fashion_mnist("train", classes=["Dress", "Shirt"],
                                          n_per_class=950, return_X_y=True)
    except FileNotFoundError as exc:
        raise CompareError(str(exc)) from None
    return X, y, X_test, y_test, X_all, y_all


def _tp5_ntk(X, y, X_test, progress):
    """Kernel regression with the NTK (alpha=0): train and test labels, seconds."""
    from .. import NTKRegressor

    progress.describe("NTK: kernel regression (alpha=0)")
    t0 = time.perf_counter()
    ntk = NTKRegressor(alpha=0.0, depth=1).fit(X, y / 9)
    ntk_test = _label(ntk.predict(X_test))
    ntk_time = time.perf_counter() - t0
    ntk_train = _label(ntk.predict(X))
    progress.update()
    return ntk_train, ntk_test, ntk_time


def _tp5_train_net(args, X, y, X_test, progress):
    net = _NetRun(note=_available("TorchMLPRegressor"))
    if net.note is None:
        limit_torch_threads(args.torch_threads)
        progress.describe("net: 784-1000-1, SGD lr 0.01, batch 32, 200 epochs")
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = _tp5_net(args).set_params(record_drift=True).fit(X, y / 9)
        net.time = time.perf_counter() - t0
        net.weight_change = float(model.weight_change_[-1])
        net.ntk_change = float(model.ntk_change_[-1])
        net.warnings = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
        net.test, net.train = _label(model.predict(X_test)), _label(model.predict(X))
    progress.update()
    return net


def _tp5_net(args, width=1000):
    """The notebook's net: 784 -> width -> 1, xavier normal, zero biases, SGD."""
    from .. import TorchMLPRegressor

    return TorchMLPRegressor(
        (width,), init="xavier_normal", optimizer="sgd", learning_rate_init=0.01,
        batch_size=32, max_iter=200, shuffle=False, n_iter_no_change=np.inf,
        random_state=args.random_state)


def _tp5_eigenvalues(X_all, y_all, n_values):
    """λmin of the Gram of the first n/2 rows of each class, three ways; the bound."""
    from .. import NTKRegressor
    from ..datasets import first_rows_per_class

    d = X_all.shape[1]
    eig_rows = []
    for n, seed_eig in zip(n_values, TP5_SEED["min_eigenvalues"]):
        rows = first_rows_per_class(y_all, n)
        fit = NTKRegressor(alpha=0.0, depth=1).fit(X_all[rows], y_all[rows])
        notebook = float(np.linalg.eigvalsh(_notebook_kernel(X_all[rows]))[0])
        eig_rows.append({"n": n, "seed": seed_eig,
                         "skntk": d * fit.gram_min_eigenvalue(),
                         "notebook_formula_float64": notebook,
                         "bound": fit.generalization_bound() / np.sqrt(d)})
    return eig_rows


def _tp5_figures(args, outdir, progress, eig_rows, n_values, net, ntk_test,
                 X, y, X_test, y_test):
    """The Gram spectrum, and agreement versus width if the net was trained."""
    from ._display import AgreementDisplay, GramSpectrumDisplay

    figure_paths = {}
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
    if net.note is None:
        progress.describe("figure: agreement versus width")
        # the notebook's width is the widest: with its lr of 0.01 a
        # 3000-wide net (standard parameterization) diverges
        widths = (30, 100, 1000) if args.quick else (30, 100, 300, 1000)
        preds = {1000: net.test}  # the net trained above
        for w in widths[:-1]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # as for the main net
                try:
                    net_w = _tp5_net(args, w).fit(X, y / 9)
                except ValueError as exc:  # diverged
                    net.warnings.append(f"width {w}: {exc}")
                    continue
            preds[w] = _label(net_w.predict(X_test))
        kept = sorted(preds)
        disp = AgreementDisplay.from_predictions(
            kept, [preds[w] for w in kept], ntk_test, y_true=y_test)
        disp.ax_.set_title("TP5: net (SGD, 200 epochs) versus its NTK")
        figure_paths["agreement_width"] = outdir / "agreement_width.png"
        _save(disp, figure_paths["agreement_width"])
    progress.update()
    return figure_paths


def _tp5_rows(y, y_test, ntk_train, ntk_test, net):
    seed = TP5_SEED
    rows = [
        {"quantity": "NTK train accuracy", "seed": seed["ntk_train_accuracy"],
         "skntk": 100 * np.mean(ntk_train == y)},
        {"quantity": "NTK test accuracy", "seed": seed["ntk_test_accuracy"],
         "skntk": 100 * np.mean(ntk_test == y_test)},
    ]
    if net.test is not None:
        rows += [
            {"quantity": "net train accuracy", "seed": seed["net_train_accuracy"],
             "skntk": 100 * np.mean(net.train == y)},
            {"quantity": "net test accuracy", "seed": seed["net_test_accuracy"],
             "skntk": 100 * np.mean(net.test == y_test),
             **mcnemar_fields(y_test, net.test, ntk_test)},
            {"quantity": "agreement net / NTK (test)", "seed": seed["agreement"],
             "skntk": 100 * np.mean(net.test == ntk_test)},
            # how far training moved the net from its initialisation (the
            # notebook has no such measure): weights and its empirical NTK
            {"quantity": "net weight change |θ-θ0|/|θ0|", "seed": None,
             "skntk": 100 * net.weight_change},
            {"quantity": "net NTK change |Θ-Θ0|/|Θ0| (probe)", "seed": None,
             "skntk": 100 * net.ntk_change},
        ]
    return rows


def _print_tp5(rows, net, eig_rows):
    from ._report import format_table

    print(format_table(["quantity (%)", "TP5 notebook", "skntk",
                        "net - NTK (McNemar)"],
                       [[r["quantity"], "-" if r["seed"] is None else r["seed"],
                         f"{r['skntk']:.1f}", p_cell(r)] for r in rows]))
    if net.note is not None:
        print(f"net skipped: {net.note}")
    for w in net.warnings:
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
