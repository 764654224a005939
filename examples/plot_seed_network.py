"""
The TP5 network, its stability limit, and its NTK
=================================================

The course notebook "TP5: Neural Tangent Kernel" trains a one-hidden-layer
ReLU network (784 -> 1000 -> 1, xavier-normal weights, zero biases) by SGD
(learning rate 0.01, batch 32, 200 epochs) on the squared error to label / 9,
to tell Fashion-MNIST dresses (label 3) from shirts (label 6), and compares it
with kernel regression with the network's Neural Tangent Kernel. In skntk the
network is one line, :class:`~skntk.TorchMLPRegressor`, and the kernel is
:class:`~skntk.NTKRegressor`.

On the way, ``fit`` tells us something the notebook did not: its learning rate
is 4-5 times the largest step that plain SGD can take stably at
initialisation, which is why such runs occasionally blow up to NaN.
"""

# %%
# The data: the first 100 dresses and 100 shirts of the training file, and
# all 2000 dresses and shirts of the test file, pixels in [-1, 1].
import warnings

import matplotlib.pyplot as plt
import numpy as np

from skntk import NTKRegressor, TorchMLPRegressor
from skntk.datasets import load_fashion_mnist

DRESS, SHIRT = 3, 6
X_train, y_train = load_fashion_mnist("train", classes=[DRESS, SHIRT],
                                      n_per_class=100, return_X_y=True)
X_test, y_test = load_fashion_mnist("test", classes=[DRESS, SHIRT], return_X_y=True)
print(X_train.shape, X_test.shape)


def to_labels(f):
    """The notebook's decision rule: shirt when 9 f > 4.5."""
    return np.where(9 * f > (DRESS + SHIRT) / 2, SHIRT, DRESS)


# %%
# The notebook's network and training, in one line
# ------------------------------------------------
# ``init="xavier_normal"`` with the default ``b_std=0`` gives the notebook's
# initialisation; ``shuffle=False`` visits the rows in file order, like its
# unshuffled ``DataLoader``; ``n_iter_no_change=np.inf`` trains all 200 epochs.
seed_net = TorchMLPRegressor(
    (1000,), init="xavier_normal", optimizer="sgd", learning_rate_init=0.01,
    batch_size=32, max_iter=200, shuffle=False, n_iter_no_change=np.inf,
    random_state=0)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    seed_net.fit(X_train, y_train / 9)
for w in caught:
    print(f"{w.category.__name__}: {w.message}")

# %%
# The warning compares the step with ``max_learning_rate_``: as in
# neural-tangents' ``predict.max_learning_rate``, 2 over the largest
# eigenvalue of the loss curvature on one batch, written through the
# network's empirical NTK. Above it, the error along the kernel's top
# eigenvector grows at each step of the linearised dynamics. This run
# survives through a "catapult" (Lewkowycz et al., arXiv:2003.02218): the loss
# of the first epoch explodes, the curvature then drops until the step is
# stable, and training proceeds, far from the linearised (kernel) regime.
print(f"max_learning_rate_ = {seed_net.max_learning_rate_:.4f}, "
      f"learning_rate_init / max_learning_rate_ = "
      f"{seed_net.learning_rate_init / seed_net.max_learning_rate_:.1f}")
print("loss of the first epochs:", np.round(seed_net.loss_curve_[:5], 3))
print(f"limit after training: {seed_net.max_learning_rate(X_train[:32]):.4f}")

net_test = to_labels(seed_net.predict(X_test))
net_train = to_labels(seed_net.predict(X_train))
print(f"net: train accuracy {np.mean(net_train == y_train):.3f}, "
      f"test accuracy {np.mean(net_test == y_test):.3f}")

# %%
# A step inside the limit
# -----------------------
# Half the limit trains stably, in the linearised regime. The network then
# keeps most of its initial function f_0 away from the training images, and
# with xavier initialisation f_0 is far from 0 (outputs of order 0.5 on these
# images, for targets 3/9 and 6/9): compare the test accuracy.
stable_lr = 0.5 * seed_net.max_learning_rate_
stable_net = TorchMLPRegressor(
    (1000,), init="xavier_normal", optimizer="sgd", learning_rate_init=stable_lr,
    batch_size=32, max_iter=200, shuffle=False, n_iter_no_change=np.inf,
    random_state=0).fit(X_train, y_train / 9)
stable_test = to_labels(stable_net.predict(X_test))
stable_train = to_labels(stable_net.predict(X_train))
print(f"lr {stable_lr:.4f}: train accuracy {np.mean(stable_train == y_train):.3f}, "
      f"test accuracy {np.mean(stable_test == y_test):.3f}")

# %%
# The network's kernel
# --------------------
# Kernel regression on label / 9 with the NTK of a one-hidden-layer ReLU net
# (``depth=1``; the notebook's kernel is this one times the input dimension,
# which ridge-free predictions do not see). Kernel regression starts from
# f = 0, so it is the stable network *minus its initial function* that it
# describes; ``NTKRegressor(training_time=...)`` gives the finite-time version.
ntk = NTKRegressor(alpha=0.0, depth=1).fit(X_train, y_train / 9)
ntk_test = to_labels(ntk.predict(X_test))
print(f"NTK: test accuracy {np.mean(ntk_test == y_test):.3f}")
print(f"the net and the NTK agree on {np.mean(net_test == ntk_test):.1%} "
      f"of the test images (the stable net: {np.mean(stable_test == ntk_test):.1%})")

# %%
# Training curves
# ---------------
fig, ax = plt.subplots(figsize=(7, 4))
ax.semilogy(seed_net.loss_curve_, label="lr 0.01 (the notebook)")
ax.semilogy(stable_net.loss_curve_, label=f"lr {stable_lr:.4f}")
ax.set(xlabel="epoch", ylabel="mean squared error",
       title="TP5 network on Dress vs Shirt")
ax.legend()
fig.tight_layout()
plt.show()
