"""
ReluNTK inside a Gaussian process and inside an SVC
===================================================

:class:`~skntk.ReluNTK` is the NTK (or NNGP) of an infinitely wide ReLU network as
a scikit-learn :class:`~sklearn.gaussian_process.kernels.Kernel`, so it drops into
every kernel method of scikit-learn:

- in :class:`~sklearn.gaussian_process.GaussianProcessRegressor` its ``w_std`` and
  ``b_std`` are fitted by maximising the marginal likelihood (with the kernel's
  analytic gradients), and the posterior gives uncertainty bands;
- in :class:`~sklearn.svm.SVC` it is a kernel for classification like ``"rbf"``.
"""

# %%
# Functions drawn from the network's prior
# ----------------------------------------
# The NNGP is the covariance of the output of a randomly initialised, infinitely
# wide network: samples from a Gaussian process with this kernel are what such
# networks compute before training. ``w_std = sqrt(2)`` keeps the output variance
# the same from layer to layer (larger values make it grow with depth); deeper
# networks bend more, and far from the origin every sample is nearly linear. We
# append a constant feature to the scalar input so that the first layer sees an
# offset too.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.inspection import DecisionBoundaryDisplay
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from skntk import ReluNTK


def with_constant(x):
    return np.column_stack([x, np.ones_like(x)])


grid = np.linspace(-4, 4, 300)
fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), sharey=True)
for ax, depth in zip(axes, (1, 3, 10)):
    prior = GaussianProcessRegressor(ReluNTK(depth=depth, w_std=2**0.5, b_std=0.5,
                                             kernel="nngp"))
    samples = prior.sample_y(with_constant(grid), n_samples=5, random_state=0)
    ax.plot(grid, samples, lw=1)
    ax.set(title=f"NNGP prior, depth {depth}", xlabel="x")
axes[0].set_ylabel("f(x), 5 random networks")
fig.suptitle("Outputs of infinitely wide random ReLU networks (w_std=√2, b_std=0.5)")
fig.tight_layout()

# %%
# Gaussian-process regression, hyperparameters by marginal likelihood
# -------------------------------------------------------------------
# 30 noisy samples of a sine. ``alpha=1e-2`` is the (known) noise variance. The
# optimizer starts from ``w_std=1, b_std=0.5`` and moves both to maximise the log
# marginal likelihood; ``depth`` stays fixed, so we compare depths by their
# fitted marginal likelihood.
rng = np.random.default_rng(0)
x = np.sort(rng.uniform(-3, 3, 30))
y = np.sin(2 * x) + 0.1 * rng.standard_normal(30)
X = with_constant(x)

fits = {}
for kernel in ("nngp", "ntk"):
    for depth in (1, 3):
        gpr = GaussianProcessRegressor(
            ReluNTK(depth=depth, w_std=1.0, b_std=0.5, kernel=kernel), alpha=1e-2,
            normalize_y=True, n_restarts_optimizer=2, random_state=0)
        fits[kernel, depth] = gpr.fit(X, y)
        print(f"{kernel}, depth {depth}: {gpr.kernel_}, "
              f"log marginal likelihood {gpr.log_marginal_likelihood_value_:.2f}")

# %%
# The posterior mean and a band of two posterior standard deviations. Outside the
# data (``|x| > 3``) a ReLU network extrapolates linearly, and the band widens.
fig, axes = plt.subplots(2, 2, figsize=(10, 6.5), sharex=True, sharey=True)
for ax, ((kernel, depth), gpr) in zip(axes.ravel(), fits.items()):
    mean, std = gpr.predict(with_constant(grid), return_std=True)
    ax.plot(grid, np.sin(2 * grid), "k:", lw=1, label="truth sin(2x)")
    ax.plot(x, y, "k.", label="data")
    ax.plot(grid, mean, color="tab:blue", label="posterior mean")
    ax.fill_between(grid, mean - 2 * std, mean + 2 * std, color="tab:blue",
                    alpha=0.25, label="± 2 std")
    k = gpr.kernel_
    lml = gpr.log_marginal_likelihood_value_
    ax.set_title(f"{kernel.upper()}, depth {depth}: w_std={k.w_std:.2f}, "
                 f"b_std={k.b_std:.2f}\nlog marginal likelihood {lml:.1f}",
                 fontsize="medium")
    ax.set_ylim(-3, 3)
for ax in axes[1]:
    ax.set_xlabel("x")
for ax in axes[:, 0]:
    ax.set_ylabel("y")
handles, labels = axes[0, 0].get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncol=4)
fig.suptitle("GaussianProcessRegressor(ReluNTK(...)), hyperparameters fitted")
fig.tight_layout(rect=(0, 0.05, 1, 1))

# %%
# Classification with SVC
# -----------------------
# The same kernel in :class:`~sklearn.svm.SVC`, on two interleaved half-moons,
# beside the RBF kernel. Away from the data, the NTK's decision boundary goes on
# almost straight, as a ReLU network's does, where the RBF's closes around the
# training points.
X2, y2 = make_moons(n_samples=300, noise=0.2, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X2, y2, test_size=0.5,
                                                    random_state=0)
classifiers = {
    "SVC(kernel='rbf')": SVC(kernel="rbf", C=10),
    "SVC(kernel=ReluNTK(depth=1, b_std=1))": SVC(kernel=ReluNTK(depth=1, b_std=1.0),
                                                 C=10),
    "SVC(kernel=ReluNTK(depth=4, b_std=1))": SVC(kernel=ReluNTK(depth=4, b_std=1.0),
                                                 C=10),
}
fig, axes = plt.subplots(1, 3, figsize=(12, 4), sharey=True)
for ax, (name, clf) in zip(axes, classifiers.items()):
    clf.fit(X_train, y_train)
    DecisionBoundaryDisplay.from_estimator(clf, X2, ax=ax, response_method="predict",
                                           alpha=0.3, cmap="coolwarm",
                                           grid_resolution=150)
    ax.scatter(X_test[:, 0], X_test[:, 1], c=y_test, cmap="coolwarm",
               edgecolor="k", s=18, label="test points")
    ax.set_title(f"{name}\ntest accuracy {clf.score(X_test, y_test):.2f}",
                 fontsize="medium")
    ax.set_xlabel("$x_1$")
axes[0].set_ylabel("$x_2$")
axes[0].legend(loc="lower left", fontsize="small")
fig.suptitle("Two moons: SVC with the RBF kernel and with the ReLU NTK")
fig.tight_layout()

# sphinx_gallery_thumbnail_number = 2
