"""The ``skntk`` command line (also ``python -m skntk``): the parser and ``main``.

``skntk compare`` cross-validates a neural network against its Neural Tangent
Kernel (and baselines) on the same folds and writes a report (the command is
:func:`skntk.compare._compare._compare`); ``skntk quickstart`` is the
five-second tour.
"""

import argparse
import contextlib
import logging
import sys
import time

from ..utils.activations import NAMES
from ._compare import _compare
from ._errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, CompareError
from ._models import MODELS
from ._sweep import parse_widths as _widths


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (argparse prints the usage block too)."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} "
                              f"(see '{self.prog} --help')\n")


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


def _int(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def _positive_int(text):
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _rope(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(
            f"expected an accuracy difference in [0, 1), e.g. 0.01; got {text!r}")
    return value


@contextlib.contextmanager
def _dask_backend(args):
    """joblib's "dask" backend on ``--scheduler`` or a ``--dask`` LocalCluster
    for the command it wraps (nothing without them); the model-folds then run
    on the cluster's workers, all at once (``--n-jobs -1``)."""
    address, local = getattr(args, "scheduler", None), getattr(args, "dask", None)
    if address is None and local is None:
        yield
        return
    if address is not None and local is not None:
        raise CompareError("give --scheduler or --dask, not both", EXIT_USAGE)
    if local is not None and local < 1:
        raise CompareError(f"--dask must be >= 1 workers, got {local}", EXIT_USAGE)
    try:
        import joblib
        from distributed import Client, LocalCluster
    except ImportError:
        raise CompareError("--scheduler and --dask need dask.distributed: pip "
                           "install 'dask[distributed]'", EXIT_USAGE) from None
    with contextlib.ExitStack() as stack:
        if local is not None:
            address = stack.enter_context(LocalCluster(
                n_workers=local, threads_per_worker=1, dashboard_address=":0",
                silence_logs=logging.ERROR))
        try:
            client = stack.enter_context(Client(address))  # dask's connect timeout
        except OSError as exc:
            raise CompareError(f"cannot reach the Dask scheduler at {address}: "
                               f"{exc}", EXIT_ERROR) from None
        if not args.quiet:
            print(f"Dask cluster {client.scheduler.address}: "
                  f"{len(client.scheduler_info()['workers'])} workers",
                  file=sys.stderr, flush=True)
        args.n_jobs = -1
        stack.enter_context(joblib.parallel_config(backend="dask"))
        yield


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
    cmp.add_argument("--activation", choices=NAMES, metavar="NAME",
                     help="the hidden layers' activation of the nets (mlp, "
                          "empirical) and of their kernels (ntk, nngp), one of "
                          f"{', '.join(NAMES)} (relu); where skntk's kernels "
                          "are ReLU only, ntk and nngp are left out with a note")
    cmp.add_argument("--negative-slope", type=float, metavar="A",
                     help="leaky_relu's slope below 0 (0.01); only with "
                          "--activation leaky_relu")
    cmp.add_argument("--n-jobs", type=_int, default=1, metavar="J",
                     help="processes for the model-folds (1; -1: all cores): each "
                          "(model, fold) fit is one task, so at most models x folds "
                          "run at once; the figures are drawn afterwards in this "
                          "process. Each process starts by loading the libraries "
                          "(seconds), and the cores are shared out (J processes "
                          "with cores/J BLAS, OpenMP, numba and torch threads "
                          "each), so J > 1 pays only when folds take longer than "
                          "that start, not on --quick")
    cmp.add_argument("--torch-threads", type=_int, default=1, metavar="T",
                     help="torch threads per process for the net (1: small nets "
                          "train fastest on one thread; 0: torch's default); "
                          "with --n-jobs at most each process's share of the cores")
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
    cmp.add_argument("--repeats", type=_positive_int, default=1, metavar="R",
                     help="repeated cross-validation: R reshuffled rounds of the "
                          "--cv folds, the same folds for every model (1); each "
                          "pair of models gets the corrected resampled t-test and "
                          "the Bayesian correlated t-test over all R x K folds")
    cmp.add_argument("--rope", type=_rope, default=0.01, metavar="X",
                     help="half-width of the Bayesian test's region of practical "
                          "equivalence, in accuracy (0.01: one point)")
    cmp.add_argument("--widths", type=_widths, metavar="W,W,...",
                     help="width sweep: also cross-validate the net (mlp) at each "
                          "hidden width on the same folds, with its agreement with "
                          "the kernel (and, when the net records them, its weight "
                          "movement and NTK drift); widths_sweep.png")
    cmp.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    cmp.add_argument("--quiet", action="store_true",
                     help="no progress or notes (the table is still printed); "
                          "without it, a bar when stderr is a terminal, else "
                          "one line per finished step")
    cmp.add_argument("--scheduler", metavar="ADDRESS",
                     help="run the model-folds on this Dask cluster (e.g. "
                          "tcp://host:8786) through joblib's dask backend; needs "
                          "dask[distributed] here and on the workers")
    cmp.add_argument("--dask", type=_int, metavar="W",
                     help="run the model-folds on a local Dask cluster of W "
                          "one-thread worker processes (what --scheduler does on "
                          "a real cluster)")
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
        with _dask_backend(args):
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
