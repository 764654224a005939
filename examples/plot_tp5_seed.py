"""
TP5: a shallow network and its Neural Tangent Kernel on Fashion-MNIST
=====================================================================

The course notebook "TP5: Neural Tangent Kernel", end to end, with skntk's
estimators in place of its loops:

1. a one-hidden-layer ReLU network (784 → 1000 → 1) trained by SGD to regress the
   label / 9 of Fashion-MNIST Dresses and Shirts;
2. kernel regression with the same network's infinite-width NTK
   (:class:`~skntk.NTKRegressor`), their accuracies and how often they agree;
3. the smallest eigenvalue of the NTK Gram matrix and the generalisation bound
   :math:`\\sqrt{y^\\top K^{-1} y / n}` as the number of training points grows;
4. why the NTK Gram matrix is invertible;
5. "lazy training": the weights of an over-parameterised linear model move only in
   the span of the data.

The data are read offline (see :ref:`fashion_mnist`).
"""

# %%
# The data
# --------
# The notebook keeps the first 100 Dresses (label 3) and the first 100 Shirts
# (label 6) of the training file, and all 2000 Dresses and Shirts of the test
# file, with pixels mapped to [-1, 1] (torchvision's ``Normalize((0.5,), (0.5,))``,
# the loader's default ``scale="symmetric"``).
import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from skntk import NTKRegressor, TorchMLPRegressor, relu_kernel
from skntk.datasets import FASHION_MNIST_CLASSES, load_fashion_mnist

torch.set_num_threads(1)  # a small net trains fastest on one thread

classes = ["Dress", "Shirt"]
X, y = load_fashion_mnist("train", classes=classes, n_per_class=100,
                          return_X_y=True)
X_test, y_test = load_fashion_mnist("test", classes=classes, return_X_y=True)
n, d = X.shape
print(f"train: {X.shape}, test: {X_test.shape}, labels {np.unique(y).tolist()}")

fig, axes = plt.subplots(2, 8, figsize=(9, 2.9))
for ax, image, label in zip(axes.ravel(), X, y):
    ax.imshow(image.reshape(28, 28), cmap="gray_r", vmin=-1, vmax=1)
    ax.set_title(FASHION_MNIST_CLASSES[label], fontsize="small")
    ax.set_axis_off()
fig.suptitle("The first 16 training images (Dress = 3, Shirt = 6)")
fig.tight_layout()

# %%
# The network
# -----------
# Linear → ReLU → Linear with 1000 hidden units, Xavier-normal weights and zero
# biases, trained by plain SGD (learning rate 0.01, batches of 32 in file order,
# 200 epochs) on torch's ``MSELoss`` to the target label / 9. A prediction above
# 4.5 / 9 (half-way between the two labels) is a Shirt.


def to_label(f):
    return np.where(9 * f > 4.5, 6, 3)


net = TorchMLPRegressor(
    (1000,), init="xavier_normal", optimizer="sgd", learning_rate_init=0.01,
    batch_size=32, max_iter=200, shuffle=False, n_iter_no_change=np.inf,
    random_state=0)
tic = time.perf_counter()
net.fit(X, y / 9)
print(f"net trained in {time.perf_counter() - tic:.1f} s, "
      f"{net.n_iter_} epochs = {net.n_iter_ * int(np.ceil(n / 32))} SGD steps")
net_train, net_test = to_label(net.predict(X)), to_label(net.predict(X_test))

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogy(np.arange(1, net.n_iter_ + 1), net.loss_curve_)
ax.set(xlabel="epoch", ylabel="mean training loss (MSE, log scale)",
       title="Training the 784-1000-1 network by SGD")
ax.grid(alpha=0.3)
fig.tight_layout()

# %%
# The NTK
# -------
# The notebook's kernel for this network is
# :math:`k(x, x') = \frac{v}{2\pi}(u(\pi - \arccos u) + \sqrt{1 - u^2})
# + \frac{v}{2\pi} u (\pi - \arccos u)` with :math:`v = |x||x'|` and
# :math:`u = \langle x, x'\rangle / v`, which is :math:`d` times skntk's NTK with
# ``depth=1, w_std=1, b_std=0`` (see :ref:`tp5_kernel`). A check on a few pairs:


def notebook_kernel(A, B):
    v = np.linalg.norm(A, axis=1)[:, None] * np.linalg.norm(B, axis=1)[None, :]
    u = np.clip(A @ B.T / v, -1, 1)
    theta = np.arccos(u)
    return (v * (u * (np.pi - theta) + np.sqrt(1 - u**2)) / (2 * np.pi)
            + v * u * (np.pi - theta) / (2 * np.pi))


K_nb = notebook_kernel(X[:5], X[5:10])
K_skntk = d * relu_kernel(X[:5], X[5:10], depth=1, w_std=1.0, b_std=0.0)
print(f"max relative difference: {np.max(np.abs(K_nb / K_skntk - 1)):.1e}")

# %%
# Ridge-free kernel regression (``alpha=0``) on the same targets interpolates the
# training data; its predictions do not depend on the factor :math:`d`.
ntk = NTKRegressor(alpha=0.0, depth=1).fit(X, y / 9)
ntk_train, ntk_test = to_label(ntk.predict(X)), to_label(ntk.predict(X_test))

# The notebook's NTK row was computed on 100 training images (its variable ``n``
# had been overwritten by a later cell): the first 50 of each class.
first_50 = np.r_[np.flatnonzero(y == 3)[:50], np.flatnonzero(y == 6)[:50]]
ntk100 = NTKRegressor(alpha=0.0).fit(X[first_50], y[first_50] / 9)
ntk100_test = to_label(ntk100.predict(X_test))

rows = [
    ("net, train accuracy (n=200)", 96, np.mean(net_train == y)),
    ("net, test accuracy", 86, np.mean(net_test == y_test)),
    ("NTK, train accuracy (n=200)", None, np.mean(ntk_train == y)),
    ("NTK, test accuracy (n=200)", None, np.mean(ntk_test == y_test)),
    ("NTK, test accuracy (n=100)", 91, np.mean(ntk100_test == y_test)),
    ("net and NTK (n=200) agree, test", None, np.mean(net_test == ntk_test)),
    ("net and NTK (n=100) agree, test", 89, np.mean(net_test == ntk100_test)),
]
print(f"{'':34s}{'notebook':>10s}{'skntk':>8s}")
for name, seed, ours in rows:
    print(f"{name:34s}{'' if seed is None else f'{seed} %':>10s}{100 * ours:7.1f} %")

# %%
# The kernel is as accurate as the net, and the two predict the same class on
# about nine test images in ten. Where they differ, the net's output is close to
# the threshold: the disagreements are the hard images.
f_net, f_ntk = 9 * net.predict(X_test), 9 * ntk.predict(X_test)
fig, ax = plt.subplots(figsize=(5.5, 5))
for label, marker in ((3, "o"), (6, "x")):
    mask = y_test == label
    ax.scatter(f_ntk[mask], f_net[mask], s=8, marker=marker, alpha=0.5,
               label=f"test {FASHION_MNIST_CLASSES[label]}")
ax.axvline(4.5, color="k", lw=0.8)
ax.axhline(4.5, color="k", lw=0.8)
lims = np.percentile(np.r_[f_net, f_ntk], [0.5, 99.5])
ax.plot(lims, lims, "k:", lw=1, label="net = NTK")
ax.set(xlim=lims, ylim=lims, xlabel="NTK regression output (x 9)",
       ylabel="network output (x 9)",
       title="Test images: network versus its NTK\n(threshold 4.5 between Dress 3 "
             "and Shirt 6)")
ax.legend(loc="upper left", fontsize="small")
fig.tight_layout()

# %%
# Smallest eigenvalue and generalisation bound versus n
# -----------------------------------------------------
# For n = 100, 400, ..., 1900 training images (the first n/2 of each class) the
# notebook prints the smallest eigenvalue of the Gram matrix and plots
# :math:`\sqrt{y^\top K^{-1} y / n}` (Arora et al., 2019). Both are read from the
# fitted :class:`~skntk.NTKRegressor` (:meth:`~skntk.NTKRegressor.gram_min_eigenvalue`,
# :meth:`~skntk.NTKRegressor.generalization_bound`), and converted to the
# notebook's scale: the eigenvalue times d, the bound divided by sqrt(d). The
# notebook used the raw labels 3 and 6 for the bound; we also show it for labels
# +-1, where it measures how hard the labelling is for the kernel.
X_all, y_all = load_fashion_mnist("train", classes=classes, n_per_class=950,
                                  return_X_y=True)
n_values = np.arange(100, 2000, 300)
seed_eigenvalues = [23.51, 15.20, 13.16, 5.42, 5.36, 5.31, 5.27]
eig, bound_raw, bound_pm1 = [], [], []
for m in n_values:
    rows_m = np.r_[np.flatnonzero(y_all == 3)[:m // 2],
                   np.flatnonzero(y_all == 6)[:m // 2]]
    Xm, ym = X_all[rows_m], y_all[rows_m]
    fit = NTKRegressor(alpha=0.0).fit(Xm, ym)
    eig.append(d * fit.gram_min_eigenvalue())
    bound_raw.append(fit.generalization_bound() / np.sqrt(d))
    fit_pm1 = NTKRegressor(alpha=0.0).fit(Xm, np.where(ym == 6, 1.0, -1.0))
    bound_pm1.append(fit_pm1.generalization_bound() / np.sqrt(d))
for m, e, s in zip(n_values, eig, seed_eigenvalues):
    print(f"n = {m:4d}: smallest eigenvalue {e:6.2f} (notebook, float32: {s:6.2f})")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
ax1.plot(n_values, eig, "o-", label="skntk (exact, float64)")
ax1.plot(n_values, seed_eigenvalues, "s--", label="TP5 notebook (float32)")
ax1.set(xlabel="number of training images n",
        ylabel="smallest eigenvalue of the Gram",
        title="Smallest eigenvalue of the NTK Gram\n(notebook's scale, d x skntk)")
ax1.set_ylim(bottom=0)
ax1.legend()
ax2.plot(n_values, bound_raw, "o-", label="labels 3 and 6 (the notebook)")
ax2.plot(n_values, bound_pm1, "s-", label="labels -1 and +1")
ax2.set(xlabel="number of training images n", ylabel=r"$\sqrt{y^\top K^{-1} y / n}$",
        title="Generalisation bound versus n\n(notebook's scale)")
ax2.set_ylim(bottom=0)
ax2.legend()
fig.tight_layout()

# %%
# The eigenvalues are not those of the notebook: it multiplies the cosine by
# 0.99999 (to avoid ``arccos(1 + eps)``), which lowers the diagonal of its Gram,
# and computes in float32; skntk's kernel is exact at angle 0. The trend is the
# same: more images, more nearly parallel pairs, a smaller eigenvalue (the
# notebook's values are about 8 % lower throughout). The bound stays nearly flat
# over this range of n, for either labelling: it shrinks only when the labels
# become easier for the kernel as n grows, which, for this pair of classes and
# this kernel, they hardly do between 100 and 1900 images.
#
# The NTK Gram matrix is typically invertible
# -------------------------------------------
# The notebook draws 30 Gaussian inputs in dimension 100 and finds the Gram
# positive definite. The ReLU NTK is strictly positive definite on inputs of
# which no two are parallel (Du et al., 2019; Jacot et al., 2018), so the same
# holds with more points than dimensions; a repeated input makes two rows of the
# Gram equal, and its smallest eigenvalue 0.
rng = np.random.default_rng(0)
cases = {
    "n=30 points, d=100": rng.standard_normal((30, 100)),
    "n=300 points, d=10": rng.standard_normal((300, 10)),
}
Z = rng.standard_normal((30, 100))
cases["n=30, d=100, one point repeated"] = np.vstack([Z, Z[:1]])

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
im = ax1.imshow(relu_kernel(cases["n=30 points, d=100"]), cmap="viridis")
fig.colorbar(im, ax=ax1, label="NTK value")
ax1.set(title="NTK Gram of 30 Gaussian inputs (d=100)", xlabel="input j",
        ylabel="input i")
styles = {"n=30 points, d=100": dict(marker="o", ms=6, lw=2, zorder=3),
          "n=300 points, d=10": dict(marker=".", ms=3, lw=1),
          "n=30, d=100, one point repeated": dict(marker="x", ms=5, lw=1, ls="--")}
for name, Zc in cases.items():
    lam = np.linalg.eigvalsh(relu_kernel(Zc))
    print(f"{name:34s} smallest eigenvalue {lam[0]: .2e}")
    ax2.semilogy(np.arange(1, len(lam) + 1), np.maximum(lam, 1e-17), label=name,
                 **styles[name])
ax2.set(xlabel="rank (ascending)", ylabel="eigenvalue (log scale, floored at 1e-17)",
        title="Sorted eigenvalues of the NTK Gram")
ax2.legend(fontsize="small")
fig.tight_layout()

# %%
# Lazy training: an over-parameterised linear model
# -------------------------------------------------
# Gradient descent on the least-squares loss of a linear model with p = 1000
# weights and n = 100 data points: the gradient :math:`X (X^\top w - y)` lies in
# the span of the n data points, so the weights move only in that n-dimensional
# subspace of the p-dimensional space of weights. In the eigenbasis of
# :math:`X X^\top` the p - n coordinates of eigenvalue 0 do not move at all. (A
# wide network behaves likewise around its initial weights, with the gradients of
# its outputs in the role of the data.)
p, n_lin, steps, eta = 1000, 100, 1000, 1e-3
Xl = rng.standard_normal((p, n_lin)) / np.sqrt(n_lin)  # columns are the data
yl = rng.standard_normal(n_lin)
w = rng.standard_normal(p) / np.sqrt(p)
eigvals, P = np.linalg.eigh(Xl @ Xl.T)  # ascending: the last n are non-zero
ws, losses = [w], []
for _ in range(steps):
    losses.append(np.sum((Xl.T @ w - yl) ** 2) / n_lin)
    w = w - eta * Xl @ (Xl.T @ w - yl)
    ws.append(w)
ws = np.array(ws)
moved = np.abs((ws - ws[0]) @ P)  # |w_t - w_0| in the eigenbasis
distance = np.linalg.norm(ws - ws[0], axis=1) / np.linalg.norm(ws[0])

fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
axes[0].semilogy(losses)
axes[0].set(xlabel="gradient step", ylabel="mean squared error (log scale)",
            title="Training loss")
axes[1].plot(distance)
axes[1].set(xlabel="gradient step", ylabel=r"$|w_t - w_0| / |w_0|$",
            title="Relative distance of the weights to init")
axes[2].semilogy(np.arange(p), np.maximum(moved[-1], 1e-18), ".", ms=2)
axes[2].axvline(p - n_lin, color="k", ls=":",
                label=f"{p - n_lin} zero eigenvalues | {n_lin} non-zero")
axes[2].set(xlabel="eigen-coordinate i of $X X^T$ (ascending eigenvalue)",
            ylabel=r"$|w_{T,i} - w_{0,i}|$ (log, floored)",
            title=f"Movement after {steps} steps")
axes[2].legend(fontsize="small", loc="center left")
fig.tight_layout()
print(f"largest movement outside the span of the data: "
      f"{moved[-1, :p - n_lin].max():.1e}; inside: {moved[-1, p - n_lin:].max():.2f}")

# sphinx_gallery_thumbnail_number = 3
