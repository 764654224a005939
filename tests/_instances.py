"""The estimator instances scikit-learn's common checks run on, and the checks
each one is expected to fail, with the reason a user would accept.

Test fixtures live here, never in the package. ``tests/test_common.py`` runs
every instance through ``parametrize_with_checks`` (strict: an expected
failure that passes is an error), and checks that every public estimator of
``skntk.__all__`` has at least one instance here.
"""

import numpy as np

from skntk import (
    EmpiricalNTKFeatures,
    NTKClassifier,
    NTKClassifierCV,
    NTKRegressor,
    NTKRegressorCV,
    TorchMLPClassifier,
    TorchMLPRegressor,
)


def ridge_instances():
    """Kernel ridge: every solver, kernel, dtype and the device path."""
    return [
        NTKRegressor(),
        NTKRegressor(kernel="precomputed"),
        NTKRegressor(kernel="nngp", depth=2, b_std=0.5, solver="eigh",
                     training_time=1e4),
        NTKClassifier(),
        NTKClassifier(kernel="precomputed", solver="eigh"),
        NTKClassifier(depth=3, training_time=5.0),
        NTKRegressor(solver="nystrom", n_components=10, random_state=0),
        NTKClassifier(solver="nystrom", n_components=10, random_state=0),
        NTKRegressor(dtype="float32", depth=2),
        # the torch path of device= (on the CPU here; CUDA machines run the
        # same code with device="cuda")
        NTKRegressor(device="cpu", depth=2),
        NTKClassifier(device="cpu", kernel="precomputed"),
        NTKRegressorCV(),
        NTKRegressorCV(kernel="precomputed"),
        NTKClassifierCV(),
        NTKClassifierCV(scoring="accuracy", kernel="nngp"),
        NTKRegressorCV(training_times=[1.0, 100.0, np.inf], depth=2),
        # other activations: the series, a closed form with a slope (the CV
        # variants' new parameters are checked by their default instances)
        NTKRegressor(activation="tanh", depth=2, b_std=0.1),
        NTKClassifier(activation="leaky_relu", negative_slope=0.2),
    ]


def mlp_instances():
    """The nets: the defaults, smaller (the checks fit a few hundred tiny
    problems), and one with a user activation."""
    import torch

    from skntk.utils.activations import Activation

    fast = dict(hidden_layer_sizes=(32,), max_iter=100, learning_rate_init=0.01)
    return [TorchMLPClassifier(**fast), TorchMLPRegressor(**fast),
            # a callable activation as a parameter: clone, get/set_params, pickle
            TorchMLPRegressor(activation=Activation(torch.sin, torch.cos), **fast),
            # the lazy-training diagnostics, recorded on every fit
            TorchMLPClassifier(record_drift=True, **fast)]


def empirical_instances():
    """The default, small nets, a sketched one, a trained one and a trained
    one with another activation."""
    return [
        EmpiricalNTKFeatures(),
        EmpiricalNTKFeatures(hidden_layer_sizes=(12, 10)),
        EmpiricalNTKFeatures(hidden_layer_sizes=(12, 10), n_components=16,
                             parameterization="standard"),
        EmpiricalNTKFeatures(hidden_layer_sizes=(12, 10), layers=("V", "u"),
                             train_steps=3),
        EmpiricalNTKFeatures(hidden_layer_sizes=(12, 10), activation="leaky_relu",
                             negative_slope=0.1, train_steps=2),
    ]


def all_instances():
    return ridge_instances() + mlp_instances() + empirical_instances()


# check_methods_sample_order_invariance passes in float32: a permutation of
# the rows permutes the Gram's entries without changing how each is rounded
_FLOAT32_INVARIANCES = ("check_sample_weight_equivalence_on_dense_data",
                        "check_methods_subset_invariance")


def expected_failed_checks(estimator):
    """Checks scikit-learn's suite cannot pass for this setting, and why."""
    failed = {}
    if isinstance(estimator, (TorchMLPClassifier, TorchMLPRegressor)):
        if estimator.dtype == "float32":
            failed["check_sample_weight_equivalence_on_dense_data"] = (
                "dtype='float32' training sums the weighted and the repeated rows "
                "in different orders; the float32 rounding (~1e-7) compounds over "
                "100 Adam epochs to ~1e-6 relative, the check asks for 1e-7. In "
                "float64 the check passes (tests/nets/test_weights_and_stopping.py).")
        return failed
    if isinstance(estimator, (NTKRegressorCV, NTKClassifierCV)):
        if estimator.training_times is None:  # GCV (with times) passes
            failed["check_sample_weight_equivalence_on_dense_data"] = (
                "leave-one-out leaves out one copy of a repeated row, not all "
                "of them, so integer weights and repeated rows choose "
                "different alphas.")
        return failed
    if not isinstance(estimator, (NTKRegressor, NTKClassifier)):
        return failed
    if estimator.solver == "nystrom":
        failed["check_sample_weight_equivalence_on_dense_data"] = (
            "solver='nystrom' samples its centres from the rows, so repeating "
            "or removing rows changes which centres are drawn.")
    if estimator.dtype is not None and np.dtype(estimator.dtype) == np.float32:
        for check in _FLOAT32_INVARIANCES:
            failed[check] = ("dtype='float32' agrees with these invariances to "
                             "float32 rounding (~1e-7 relative), the check "
                             "asks for 1e-7 or 1e-9.")
    return failed
