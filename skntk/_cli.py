"""The ``skntk`` command line (also ``python -m skntk``)."""

import argparse
import sys
import time


def _quickstart(args):
    """Cross-validate SVC with the ReLU NTK on load_digits, beside an RBF SVC."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import StratifiedKFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from . import ReluNTK

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
    return 0


def build_parser():
    parser = argparse.ArgumentParser(
        prog="skntk",
        description="Neural networks and their Neural Tangent Kernel, side by side "
                    "in scikit-learn.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"skntk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    quick = sub.add_parser(
        "quickstart", help="cross-validate an SVC with the ReLU NTK on load_digits",
        description=_quickstart.__doc__)
    quick.add_argument("--depth", type=int, default=2, help="hidden ReLU layers (2)")
    quick.add_argument("--C", type=float, default=10.0, help="SVC's C (10)")
    quick.add_argument("--cv", type=int, default=5, help="number of folds (5)")
    quick.add_argument("--random-state", type=int, default=0, help="CV shuffle seed (0)")
    quick.set_defaults(func=_quickstart)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.depth < 1:
        parser.error("--depth must be >= 1")
    if args.cv < 2:
        parser.error("--cv must be >= 2")
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
