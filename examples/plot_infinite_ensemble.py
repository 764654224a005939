"""
The spread of trained networks and the infinite ensemble
========================================================

A randomly initialised network is a random function, and so is the network
after training: train many copies from independent initialisations and their
predictions spread around a mean. For infinitely wide networks trained by
gradient flow on the squared error, Lee et al. (2019) give that spread in
closed form: at every training time t the ensemble is a Gaussian process whose
mean uses the NTK Theta and whose covariance needs both Theta and the NNGP K
(the prior of the initial networks),

.. math::

    \\mu_t(x) = T_t(x)\\, y, \\qquad
    \\Sigma_t(x, x') = K(x, x') - T_t(x) K(X, x') - K(x, X) T_t(x')^\\top
        + T_t(x) K(X, X) T_t(x')^\\top,

with :math:`T_t(x) = \\Theta(x, X)\\Theta^{-1}(I - e^{-t\\Theta/N})`.
:meth:`skntk.NTKRegressor.predict` returns it with ``posterior="ensemble"``.
Here we set it beside 24 finite networks (width 1024) trained with
:class:`skntk.TorchMLPRegressor`, at an early time and once the fast modes of
the kernel have converged.
"""

# %%
# A 1-D regression task and the nets
# ----------------------------------
# Eight noisy samples of a sine. Each network has one hidden ReLU layer in
# the NTK parameterisation with the kernel's ``w_std`` and ``b_std``, and is
# trained by full-batch gradient descent (``optimizer="sgd"``, one batch) on
# torch's mean squared error. One step of size ``lr`` on that loss is the
# kernel's gradient flow (on ``0.5 * mean``) for a time ``2 * lr``, so after
# ``s`` epochs the nets are at ``training_time = 2 * lr * s``.
import matplotlib.pyplot as plt
import numpy as np

from skntk import NTKRegressor, TorchMLPRegressor, relu_kernel

rng = np.random.default_rng(0)
x = np.linspace(-3, 3, 8) + 0.2 * rng.standard_normal(8)
y = np.sin(1.5 * x) + 0.1 * rng.standard_normal(8)
X, grid = x[:, None], np.linspace(-4.5, 4.5, 200)[:, None]
w_std, b_std, width, n_nets = 1.5, 0.5, 1024, 24

# a learning rate a quarter of the largest stable one (2 N / lambda_max of the
# loss 0.5 * mean, i.e. N / lambda_max for torch's mean squared error)
lam = np.linalg.eigvalsh(relu_kernel(X, w_std=w_std, b_std=b_std))
lr = 0.25 * len(x) / lam[-1]
epochs = {"early": 10, "later": 100}
times = {name: 2 * lr * s for name, s in epochs.items()}

outputs = {name: [] for name in epochs}
for seed in range(n_nets):
    net = TorchMLPRegressor(
        (width,), parameterization="ntk", w_std=w_std, b_std=b_std,
        optimizer="sgd", learning_rate_init=lr, batch_size=len(x), shuffle=False,
        n_iter_no_change=np.inf, warm_start=True, random_state=seed)
    done = 0
    for name, total in epochs.items():  # continue training to each time
        net.set_params(max_iter=total - done).fit(X, y)
        done = total
        outputs[name].append(net.predict(grid))

# %%
# The infinite ensemble at the same times
# ---------------------------------------
# One :class:`~skntk.NTKRegressor` per time, with ``alpha=0`` (the nets have no
# ridge). The band is the ensemble's mean plus or minus two standard
# deviations; thin lines are the trained nets, the dashed line their mean.
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for ax, (name, t) in zip(axes, times.items()):
    reg = NTKRegressor(alpha=0.0, w_std=w_std, b_std=b_std, training_time=t)
    mean, std = reg.fit(X, y).predict(grid, return_std=True, posterior="ensemble")
    nets = np.array(outputs[name])
    ax.fill_between(grid[:, 0], mean - 2 * std, mean + 2 * std, color="C0",
                    alpha=0.25, label="infinite ensemble, mean ± 2 std")
    ax.plot(grid[:, 0], mean, color="C0", lw=2)
    ax.plot(grid[:, 0], nets.T, color="C1", lw=0.6, alpha=0.5)
    ax.plot(grid[:, 0], nets.mean(axis=0), "--", color="C3", lw=1.5,
            label=f"mean of {n_nets} nets (width {width})")
    ax.plot(x, y, "ko", ms=4, label="training data")
    ax.set(title=f"{name}: t = {t:.1f} ({epochs[name]} epochs)", xlabel="x")
    inside = np.mean(np.abs(nets - mean) <= 2 * std)
    print(f"{name}: {100 * inside:.1f}% of the nets' outputs lie in the band; "
          f"std of the nets / ensemble std: median "
          f"{np.median(nets.std(axis=0, ddof=1) / std):.2f}")
axes[0].set_ylabel("f(x)")
axes[0].legend(loc="lower left", fontsize=8)
fig.tight_layout()
plt.show()

# %%
# Early on, the nets are still close to their random initial functions and
# the band is wide; later they pass close to the data and spread mostly
# between and beyond the training points, as the kernel theory predicts, and
# the spread of the finite nets matches the band.
#
# The agreement is a statement about wide nets, and it degrades with training
# time: trained much longer (here, a few hundred epochs), nets of width 1024
# keep a spread of order 1 / sqrt(width) at the training points, where the
# band of the infinite ensemble pinches to nothing, and their mean drifts by
# a few of the band's standard errors. Both shrink as the width grows. How far
# each net has left the kernel regime is what ``record_drift=True`` of
# :class:`~skntk.TorchMLPRegressor` records (``weight_change_``,
# ``ntk_change_``).
