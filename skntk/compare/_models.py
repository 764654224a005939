"""``skntk compare``'s model zoo: each factory builds a pipeline lazily.

Which estimators exist depends on what is installed (the torch-based ones
need torch): :func:`_available` says, and :func:`_choose_models` leaves the
missing ones out of the default list with a note.
"""

from dataclasses import dataclass

import numpy as np

from ._errors import EXIT_USAGE, CompareError

@dataclass
class _Context:
    quick: bool
    random_state: int
    n_samples: int
    n_features: int
    n_classes: int
    scaler: bool
    activation: str = "relu"  # --activation, the nets' and the kernels'
    negative_slope: float = None  # --negative-slope (leaky_relu)

    def activation_params(self):
        """The estimators' activation parameters; {} for ReLU, every
        estimator's default (so a ReLU run builds the same models as before)."""
        if self.activation == "relu" and self.negative_slope is None:
            return {}
        return {"activation": self.activation, "negative_slope": self.negative_slope}


def _pipeline(ctx, *steps):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(*((StandardScaler(),) if ctx.scaler else ()), *steps)


#: The net and the kernel share the architecture: one hidden layer (ReLU, or
#: --activation), NTK parameterization, w_std=1, b_std=0, squared loss; the
#: kernel's small ridge stands for training to (near) zero loss.
NTK_ALPHA = 1e-3
MLP_WIDTH, MLP_WIDTH_QUICK = 512, 128
#: Learning rate per output unit. In NTK parameterization the stable SGD step
#: does not shrink with the width, and since the squared loss is a mean over
#: the outputs it grows with their number: on standardized digits (10 outputs)
#: TorchMLPClassifier's max_learning_rate_ is 35 to 50 depending on the first
#: batch, for one output about 5. 2.5 per output stays below 0.75 of it.
MLP_LEARNING_RATE = 2.5
#: Activations whose empirical NTK is larger than ReLU's get a smaller step:
#: max_learning_rate_ on standardized digits (width 128, 10 outputs) is 59 for
#: relu, 60-87 for leaky_relu(0.01), erf, tanh and gelu, 40 for logistic, 31 for
#: identity and 17 for abs, so these factors keep the step below 0.45 of it.
MLP_LEARNING_RATE_FACTOR = {"logistic": 0.6, "identity": 0.5, "abs": 0.3}


def _learning_rate_factor(ctx):
    if ctx.activation == "leaky_relu":  # phi'^2 averages (1 + a^2) / 2: abs at a=-1
        return 1.0 / (1.0 + 2.4 * (ctx.negative_slope or 0.0) ** 2)
    return MLP_LEARNING_RATE_FACTOR.get(ctx.activation, 1.0)


def _ntk(ctx, kernel="ntk"):
    from .. import NTKClassifier

    # the kernel of the net's activation (never a ReLU kernel beside a tanh net)
    return _pipeline(ctx, NTKClassifier(alpha=NTK_ALPHA, kernel=kernel, depth=1,
                                        **ctx.activation_params()))


def _nngp(ctx):
    return _ntk(ctx, kernel="nngp")


def _mlp(ctx, width=None):
    from .. import TorchMLPClassifier

    width = width or (MLP_WIDTH_QUICK if ctx.quick else MLP_WIDTH)
    n_outputs = 1 if ctx.n_classes == 2 else ctx.n_classes
    return _pipeline(ctx, TorchMLPClassifier(
        hidden_layer_sizes=(width,), **ctx.activation_params(),
        parameterization="ntk", loss="mse",
        optimizer="sgd",
        learning_rate_init=MLP_LEARNING_RATE * n_outputs * _learning_rate_factor(ctx),
        batch_size=64, max_iter=60 if ctx.quick else 100,
        n_iter_no_change=np.inf, random_state=ctx.random_state))


def _empirical(ctx):
    from sklearn.linear_model import RidgeClassifier

    from .. import EmpiricalNTKFeatures

    width = 32 if ctx.quick else 64
    features = EmpiricalNTKFeatures(hidden_layer_sizes=(width, width),
                                    **ctx.activation_params(),
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
TORCH_MODELS = ("mlp",)  # the nets: --torch-threads applies to them
TORCH_LOADERS = ("mlp", "empirical")  # every model whose fit imports torch
ENGINE_MODELS = ("ntk", "nngp")  # the models that run the numba kernel engine


def _available(needs):
    """None if ``skntk.<needs>`` imports (``""``: scikit-learn only), else why not."""
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
            reason = _available(MODELS[m].needs)
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
        reason = _available(MODELS[m].needs)
        if reason is not None:
            raise CompareError(f"--models {m}: {reason}")
    return chosen

