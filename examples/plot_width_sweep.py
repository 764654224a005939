"""
Width sweep: finite networks converge to their NTK
==================================================

The Neural Tangent Kernel describes a network in the limit of infinite width.
How wide is wide enough? We widen networks and measure two things:

1. the **empirical NTK** of a finite three-layer net at initialisation
   (:meth:`skntk.EmpiricalNTKFeatures.empirical_ntk`), against the analytic kernel
   ``relu_kernel(X, depth=2)``, and how much it moves during training;
2. the **predictions of a trained network** (:class:`~skntk.TorchMLPRegressor`,
   NTK parameterization, full-batch gradient descent on the squared error) against
   ``NTKRegressor(training_time=t)``, the kernel's gradient flow for the same time.

Everything is in neural-tangents' NTK parameterization, where the limit is
:func:`skntk.relu_kernel` with ``w_std=1, b_std=0``.
"""

# %%
# Data: a smooth function of 8 Gaussian inputs, 64 training and 200 test points.
import matplotlib.pyplot as plt
import numpy as np
import torch

from skntk import EmpiricalNTKFeatures, NTKRegressor, TorchMLPRegressor, relu_kernel

torch.set_num_threads(1)  # small nets train fastest on one thread

rng = np.random.default_rng(0)
d, n_train, n_test = 8, 64, 200
X_all = rng.standard_normal((n_train + n_test, d))
y_all = np.sin(X_all[:, 0]) + 0.5 * X_all[:, 1] * X_all[:, 2]
X, X_test = X_all[:n_train], X_all[n_train:]
y, y_test = y_all[:n_train], y_all[n_train:]
seeds = (0, 1, 2)


def rel_error(A, B):
    """Relative Frobenius (or Euclidean) distance of A from B."""
    return np.linalg.norm(A - B) / np.linalg.norm(B)


# %%
# 1. The empirical NTK at initialisation, and during training
# -----------------------------------------------------------
# ``EmpiricalNTKFeatures`` is the net ``f(x) = u' relu(V relu(W x))`` with two
# hidden layers of width m (the seed notebook "Learning Using NTK v2.0"); its
# gradient features' Gram is the empirical NTK, and as m grows it tends to
# ``relu_kernel(X, depth=2)``. With ``train_steps`` the net is first trained by
# full-batch gradient descent on the training targets, and the Gram is taken at
# the trained parameters: its distance from the Gram at initialisation is how far
# the kernel moved during training.
K_inf = relu_kernel(X, depth=2)
widths_a = (16, 64, 256, 1024, 4096)
err_init = np.empty((len(widths_a), len(seeds)))
moved = np.full((len(widths_a), len(seeds)), np.nan)
for i, m in enumerate(widths_a):
    for j, seed in enumerate(seeds):
        feats = EmpiricalNTKFeatures((m, m), random_state=seed).fit(X)
        K0 = feats.empirical_ntk(X)
        err_init[i, j] = rel_error(K0, K_inf)
        if m <= 1024:  # training the widest one in numpy takes too long here
            trained = EmpiricalNTKFeatures((m, m), train_steps=100, random_state=seed)
            moved[i, j] = rel_error(trained.fit(X, y).empirical_ntk(X), K0)
    print(f"width {m:5d}: |K_m - K_inf| / |K_inf| = {err_init[i].mean():.3f}, "
          "moved in training: "
          + (f"{moved[i].mean():.4f}" if m <= 1024 else "(not computed)"))

fig, ax = plt.subplots(figsize=(6.5, 4.2))
w = np.array(widths_a)
ax.loglog(w, err_init.mean(1), "o-", label="empirical NTK at init vs analytic NTK")
ax.loglog(w[w <= 1024], moved[w <= 1024].mean(1), "s-",
          label="change of the empirical NTK in 100 GD steps")
ax.loglog(w, err_init.mean(1)[0] * np.sqrt(w[0] / w), "k:",
          label=r"$\propto 1/\sqrt{m}$")
for vals in (err_init, moved):
    for j in range(len(seeds)):
        ax.loglog(w, vals[:, j], ".", color="gray", ms=4)
ax.set(xlabel="width m of both hidden layers",
       ylabel="relative Frobenius distance",
       title="Empirical NTK of a 3-layer ReLU net (64 inputs)\n"
             "means of 3 seeds, seeds as grey dots")
ax.legend(fontsize="small")
fig.tight_layout()

# %%
# Both distances shrink like :math:`1/\sqrt m` (and the change during training
# faster): a wide net's kernel is the analytic one, and it hardly moves while the
# net learns. That is the regime where the NTK predicts the net.
#
# 2. A trained network against ``NTKRegressor(training_time=t)``
# ---------------------------------------------------------------
# One hidden layer of width m, NTK parameterization (``relu_kernel(depth=1)`` in
# the limit), full-batch gradient descent with learning rate ``LR`` for ``EPOCHS``
# steps on torch's ``MSELoss`` (the mean squared error, without a factor 1/2).
# In the kernel's convention (neural-tangents' ``0.5 * mean`` loss) that is a
# training time ``t = 2 * LR * EPOCHS``.
#
# The kernel regression starts from the function 0, the net from its random
# initial function :math:`f_0`, which does not vanish as the width grows (it is
# a draw of the NNGP). The linearised net predicts
# :math:`f_0(x) + \mathrm{NTK}_t[y - f_0(X)](x)`: kernel regression of the residual
# at initialisation, plus :math:`f_0`. We get :math:`f_0` from the same net (same
# ``random_state``, so the same initial weights) trained with a learning rate too
# small to move it.
LR, EPOCHS = 1.0, 300
t = 2 * LR * EPOCHS
widths_b = (32, 128, 512, 2048, 8192)


def make_net(width, seed, lr=LR, epochs=EPOCHS):
    return TorchMLPRegressor(
        (width,), parameterization="ntk", optimizer="sgd", loss="mse",
        learning_rate_init=lr, batch_size=n_train, max_iter=epochs,
        n_iter_no_change=np.inf, shuffle=False, random_state=seed, dtype="float64")


kernel = NTKRegressor(alpha=0.0, depth=1, training_time=t)
pred_kernel = kernel.fit(X, y).predict(X_test)
err_raw = np.empty((len(widths_b), len(seeds)))
err_lin = np.empty_like(err_raw)
examples = {}
for i, m in enumerate(widths_b):
    for j, seed in enumerate(seeds):
        net = make_net(m, seed).fit(X, y)
        init = make_net(m, seed, lr=1e-12, epochs=1).fit(X, y)
        f0_train, f0_test = init.predict(X), init.predict(X_test)
        pred_net = net.predict(X_test)
        pred_lin = f0_test + kernel.fit(X, y - f0_train).predict(X_test)
        err_raw[i, j] = rel_error(pred_net, pred_kernel)
        err_lin[i, j] = rel_error(pred_net, pred_lin)
        if j == 0:
            examples[m] = (pred_net, pred_lin, net.loss_curve_)
    print(f"width {m:5d}: net vs NTK_t: {err_raw[i].mean():.3f}, "
          f"net vs f0 + NTK_t(residual): {err_lin[i].mean():.4f}")
print(f"test R^2: kernel at time t {kernel.fit(X, y).score(X_test, y_test):.3f}, "
      f"kernel converged {NTKRegressor(alpha=0.0).fit(X, y).score(X_test, y_test):.3f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4.3))
ax = axes[0]
wb = np.array(widths_b)
ax.loglog(wb, err_raw.mean(1), "o-", label="net vs NTKRegressor(training_time=t)")
ax.loglog(wb, err_lin.mean(1), "s-",
          label=r"net vs $f_0$ + NTKRegressor(t) on $y - f_0(X)$")
ax.loglog(wb, err_lin.mean(1)[0] * np.sqrt(wb[0] / wb), "k:",
          label=r"$\propto 1/\sqrt{m}$")
for vals in (err_raw, err_lin):
    for j in range(len(seeds)):
        ax.loglog(wb, vals[:, j], ".", color="gray", ms=4)
ax.set(xlabel="width m of the hidden layer",
       ylabel="relative distance of test predictions",
       title=f"Trained net vs its NTK at t = 2 x lr x steps = {t:g}\n"
             "(200 test points, means of 3 seeds)")
ax.legend(fontsize="small", loc="lower left")

ax = axes[1]
for m, marker in ((widths_b[0], "o"), (widths_b[-1], "x")):
    pred_net, pred_lin, _ = examples[m]
    ax.scatter(pred_lin, pred_net, s=12, marker=marker, alpha=0.7,
               label=f"width {m}")
lims = [min(ax.get_xlim()[0], ax.get_ylim()[0]), max(ax.get_xlim()[1],
                                                       ax.get_ylim()[1])]
ax.plot(lims, lims, "k:", lw=1, label="equal")
ax.set(xlim=lims, ylim=lims, xlabel=r"$f_0$ + NTK regression at time t",
       ylabel="trained network", title="Test predictions, seed 0")
ax.legend(fontsize="small")
fig.tight_layout()

# %%
# Without :math:`f_0` the net and the kernel do *not* converge to each other: the
# distance stalls at the size of the initial function, at every width (averaging
# nets over many initialisations would remove it). With :math:`f_0` accounted
# for, the trained net's predictions approach the kernel's like
# :math:`1/\sqrt m`: at width 8192 they differ by about 3 % (of the size of the
# predictions), against 30 % at width 32.
#
# The training loss along the way
# -------------------------------
# The kernel also predicts the whole training curve: the loss at epoch k is that
# of kernel gradient flow at time ``2 * LR * k``
# (:meth:`~skntk.NTKRegressor.staged_predict` evaluates many times from one
# eigendecomposition).
epochs = np.arange(EPOCHS)
init = make_net(widths_b[-1], seeds[0], lr=1e-12, epochs=1).fit(X, y)
f0_train = init.predict(X)
staged = NTKRegressor(alpha=0.0, depth=1, solver="eigh").fit(X, y - f0_train)
kernel_loss = [np.mean((f0_train + f - y) ** 2)
               for f in staged.staged_predict(X, 2 * LR * epochs)]
fig, ax = plt.subplots(figsize=(6.5, 4))
for m in (widths_b[0], widths_b[-1]):
    ax.semilogy(epochs + 1, examples[m][2], label=f"network, width {m}")
ax.semilogy(epochs + 1, kernel_loss, "k--",
            label=f"kernel gradient flow ($f_0$ of width {widths_b[-1]})")
ax.set(xlabel="epoch (one full-batch step)", ylabel="training MSE (log scale)",
       title="Training loss: networks and their NTK")
ax.legend(fontsize="small")
fig.tight_layout()

# sphinx_gallery_thumbnail_number = 2
