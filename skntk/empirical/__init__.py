"""The empirical NTK of a finite network as features.

What lives here: :class:`EmpiricalNTKFeatures`, the explicit per-parameter
gradient features of a randomly initialised two-hidden-layer network, whose
inner products are the network's empirical NTK (closed-form gradients, no
autograd), on numpy or on a torch device. The estimator is in ``_features.py``;
the closed-form forward and backward pass it runs on each batch of rows, for
numpy arrays and torch tensors alike, in ``_ops.py``. Devices are resolved by
:func:`skntk.utils.devices.resolve_device` and batches sized by
:func:`skntk.utils.chunks.row_chunks`.

May import: numpy, scipy, scikit-learn and :mod:`skntk.utils`; torch only
lazily, when a torch device is asked for. Never the kernels' engine, the ridge
estimators or the compare package.
"""

from ._features import EmpiricalNTKFeatures

__all__ = ["EmpiricalNTKFeatures"]
