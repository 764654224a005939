"""
ReluNTK inside a Gaussian process
=================================

The NTK of an infinitely wide ReLU network as the covariance of a
:class:`~sklearn.gaussian_process.GaussianProcessRegressor`: its ``w_std`` and
``b_std`` are fitted by maximising the marginal likelihood, with the kernel's
analytic gradients.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.gaussian_process import GaussianProcessRegressor

from skntk import ReluNTK

rng = np.random.default_rng(0)
x = np.sort(rng.uniform(-3, 3, 30))
y = np.sin(2 * x) + 0.1 * rng.standard_normal(30)
X = np.column_stack([x, np.ones_like(x)])  # a constant feature lets the net bend anywhere

gpr = GaussianProcessRegressor(ReluNTK(depth=3, w_std=1.0, b_std=0.5), alpha=1e-2)
gpr.fit(X, y)
print(gpr.kernel_)

# %%
grid = np.linspace(-4, 4, 300)
mean, std = gpr.predict(np.column_stack([grid, np.ones_like(grid)]), return_std=True)
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(x, y, "k.", label="data")
ax.plot(grid, mean, label="posterior mean")
ax.fill_between(grid, mean - 2 * std, mean + 2 * std, alpha=0.3, label="± 2 std")
ax.set(xlabel="x", ylabel="y", title=f"GP regression with {gpr.kernel_}")
ax.legend()
fig.tight_layout()
