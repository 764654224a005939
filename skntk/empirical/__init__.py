"""The empirical NTK of a finite network as features.

What lives here: :class:`EmpiricalNTKFeatures`, the explicit per-parameter
gradient features of a randomly initialised two-hidden-layer network, whose
inner products are the network's empirical NTK (closed-form gradients, no
autograd), on numpy or on a torch device.

May import: numpy, scipy, scikit-learn and :mod:`skntk.utils`; torch only
lazily, when a torch device is asked for. Never the kernels' engine, the ridge
estimators or the compare package.
"""

from ._features import EmpiricalNTKFeatures

__all__ = ["EmpiricalNTKFeatures"]
