"""
Cross-validated: a network against its NTK, in one GridSearchCV
===============================================================

A neural network and its Neural Tangent Kernel are both scikit-learn estimators in
skntk, so one :class:`~sklearn.pipeline.Pipeline` holds either of them behind the
same preprocessing, and one :class:`~sklearn.model_selection.GridSearchCV` tunes
and scores both on the same folds. This is what ``skntk compare`` does, written as
library code.

The data are scikit-learn's hand-written digits (1797 images of 8 x 8 pixels, ten
classes), standardised. The contenders:

- :class:`~skntk.NTKClassifier`: kernel ridge regression with the NTK of an
  infinitely wide ReLU network, over a grid of depths and ridges ``alpha``;
- the same kernel stopped at a finite ``training_time``, the time the net below
  trains for;
- :class:`~skntk.TorchMLPClassifier`: a one-hidden-layer ReLU network in the NTK
  parameterization, trained by full-batch gradient descent on the squared error,
  the setting where the theory says the two should agree.
"""

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skntk import NTKClassifier, TorchMLPClassifier

# Small networks train fastest on one thread (and several threads are slow when
# the machine is shared); ``skntk compare --torch-threads 1`` does the same.
torch.set_num_threads(1)

X, y = load_digits(return_X_y=True)
cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
print(f"{X.shape[0]} images, {X.shape[1]} pixels, {len(np.unique(y))} classes")

# %%
# One pipeline, three families of models
# --------------------------------------
# The net sees every training row at each step (``batch_size`` equal to the
# training set), with a constant learning rate ``lr`` for ``EPOCHS`` steps.
# torch's ``MSELoss`` is the mean squared error without the factor 1/2, so this is
# gradient flow for a time ``t = 2 * lr * EPOCHS`` in the convention of
# :class:`~skntk.NTKClassifier` (neural-tangents' ``0.5 * mean`` loss). Its
# one-hot 0/1 targets and the classifier's +-1 codes give the same predicted
# class: the two codings differ by a constant per row.
LR, EPOCHS = 20.0, 200
T_NET = 2 * LR * EPOCHS
n_train = len(y) * (cv.get_n_splits() - 1) // cv.get_n_splits() + 1

net = TorchMLPClassifier(
    hidden_layer_sizes=(512,), parameterization="ntk", loss="mse", optimizer="sgd",
    learning_rate_init=LR, batch_size=n_train, max_iter=EPOCHS,
    n_iter_no_change=np.inf, random_state=0)
pipe = Pipeline([("scale", StandardScaler()), ("model", NTKClassifier())])
param_grid = [
    {"model": [NTKClassifier()], "model__depth": [1, 2, 4],
     "model__alpha": [1e-3, 1e-1]},
    {"model": [NTKClassifier(alpha=0.0, depth=1)], "model__training_time": [T_NET]},
    {"model": [net], "model__hidden_layer_sizes": [(64,), (512,)]},
]
search = GridSearchCV(pipe, param_grid, cv=cv, refit=False)
tic = time.perf_counter()
search.fit(X, y)
print(f"{len(search.cv_results_['params'])} candidates x {cv.get_n_splits()} folds "
      f"in {time.perf_counter() - tic:.0f} s")


# %%
# The cross-validated scores, as a table and as a figure:


def describe(params):
    model = params["model"]
    if isinstance(model, TorchMLPClassifier):
        (width,) = params["model__hidden_layer_sizes"]
        return f"net, width {width}, t = {T_NET:g}"
    if "model__training_time" in params:
        return f"NTK depth 1, t = {params['model__training_time']:g}"
    return f"NTK depth {params['model__depth']}, alpha = {params['model__alpha']:g}"


results = pd.DataFrame({
    "model": [describe(p) for p in search.cv_results_["params"]],
    "accuracy": search.cv_results_["mean_test_score"],
    "std": search.cv_results_["std_test_score"],
    "fit time (s)": search.cv_results_["mean_fit_time"],
})
print(results.round(4).to_string(index=False))

# %%
colors = ["tab:blue" if m.startswith("NTK depth") and "alpha" in m
          else "tab:orange" if m.startswith("NTK") else "tab:green"
          for m in results["model"]]
fig, ax = plt.subplots(figsize=(8, 5.2))
ypos = np.arange(len(results))[::-1]
ax.barh(ypos, results["accuracy"], xerr=results["std"], color=colors, capsize=3)
ax.set_yticks(ypos, results["model"])
lo = results["accuracy"].min() - 3 * results["std"].max() - 0.01
ax.set_xlim(max(0.0, lo), 1.0)
ax.set_xlabel("mean accuracy over 3 folds (bars: ± 1 std)")
ax.set_title("Digits: NTK kernel ridge, NTK at finite time and trained nets")
handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in
           ("tab:blue", "tab:orange", "tab:green")]
fig.legend(handles, ["NTK, trained to convergence (ridge alpha)",
                     "NTK, gradient flow stopped at time t",
                     "network, gradient descent for time t"],
           loc="lower center", ncol=2, fontsize="small")
fig.tight_layout(rect=(0, 0.1, 1, 1))

# %%
# Do they make the same predictions?
# ----------------------------------
# Equal accuracies do not mean equal predictions. On the same folds, take the
# out-of-fold predictions of the wide net, of its kernel trained for the same
# time (``t = 2 * lr * steps``), and of the kernel trained to convergence (ridge
# ``alpha=1e-3``), and count how often each pair predicts the same class.
models = {
    "net, width 512": net,
    "NTK, time t": NTKClassifier(alpha=0.0, depth=1, training_time=T_NET),
    "NTK, converged": NTKClassifier(alpha=1e-3, depth=1),
}
preds = {name: cross_val_predict(Pipeline([("scale", StandardScaler()),
                                           ("model", model)]), X, y, cv=cv)
         for name, model in models.items()}
names = list(preds)
agree = np.array([[np.mean(preds[a] == preds[b]) for b in names] for a in names])
for name in names:
    print(f"{name:16s} out-of-fold accuracy {np.mean(preds[name] == y):.3f}")

fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
im = ax.imshow(agree, vmin=min(0.8, agree.min()), vmax=1.0, cmap="viridis")
for i in range(len(names)):
    for j in range(len(names)):
        ax.text(j, i, f"{agree[i, j]:.3f}", ha="center", va="center",
                color="white" if agree[i, j] < 0.97 else "black")
ax.set_xticks(range(len(names)), names)
ax.set_yticks(range(len(names)), names)
ax.set_title("Fraction of digits on which two models agree\n(out-of-fold, 3 folds)")
fig.colorbar(im, ax=ax, label="agreement")

# %%
# Reading the results
# -------------------
# - The kernel is a strong classifier here: ridge with the NTK is close to the
#   best of the grid at every depth, and barely depends on ``alpha``.
# - The kernel stopped at the net's training time ``t`` is a little less accurate
#   than the converged one: the directions of small eigenvalue of the Gram are
#   not learnt yet at time ``t``.
# - The finite nets are less accurate than their kernel. Part of the gap is their
#   random function at initialisation, which the kernel (started from 0) does
#   not have: it adds a random error to every prediction, and it shrinks only
#   with averaging over initialisations, not with width. See
#   :ref:`sphx_glr_auto_examples_plot_width_sweep.py` for how the agreement
#   between a net and ``NTKRegressor(training_time=t)`` grows with the width once
#   that is accounted for, and :ref:`net_vs_kernel` for the summary.
