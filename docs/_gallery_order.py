"""The order of the examples in the gallery (sphinx-gallery sort key).

The seed notebooks first, then the answers to "when does the kernel predict the
net?", then the kernel in other scikit-learn estimators; unknown files last, by
name.
"""

ORDER = (
    "plot_tp5_seed.py",
    "plot_teacher_layerwise.py",
    "plot_width_sweep.py",
    "plot_tanh_net_and_kernel.py",
    "plot_seed_network.py",
    "plot_cv_net_vs_ntk.py",
    "plot_infinite_ensemble.py",
    "plot_relu_ntk_gp.py",
)


def example_order(filename):
    """Sort key: position in ORDER, then the file name."""
    try:
        return (ORDER.index(filename), filename)
    except ValueError:
        return (len(ORDER), filename)
