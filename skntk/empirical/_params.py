"""The checks of EmpiricalNTKFeatures' parameters and its parameters' draw.

``layers`` and ``hidden_layer_sizes`` are checked here, and the net's
parameters taken from ``init_params`` or drawn; the activation is checked by
:func:`skntk.utils.activations.check_activation`.
"""

from numbers import Integral

import numpy as np

__all__ = ["LAYERS", "check_hidden", "check_layers", "draw_params"]

LAYERS = ("W", "V", "u")


def check_layers(est):
    """``est.layers`` as a tuple in the order W, V, u."""
    layers = (est.layers,) if isinstance(est.layers, str) else tuple(est.layers)
    unknown = [name for name in layers if name not in LAYERS]
    if unknown or not layers or len(set(layers)) != len(layers):
        raise ValueError(
            f"layers={est.layers!r} must be a non-empty selection without repeats "
            f"of the layers {LAYERS}; got unknown {unknown}"
            if unknown else
            f"layers={est.layers!r} must be a non-empty selection without repeats "
            f"of the layers {LAYERS}."
        )
    return tuple(name for name in LAYERS if name in layers)


def check_hidden(est):
    """``est.hidden_layer_sizes`` as two ints (m1, m2)."""
    sizes = tuple(est.hidden_layer_sizes)
    if len(sizes) != 2 or not all(
            isinstance(m, Integral) and not isinstance(m, bool) and m >= 1
            for m in sizes):
        raise ValueError(
            "hidden_layer_sizes must be two positive ints (m1, m2), the widths of "
            f"the net's two hidden layers; got {est.hidden_layer_sizes!r}.")
    return int(sizes[0]), int(sizes[1])


def draw_params(est, d, rng):
    """The net's parameters {"W", "V", "u"}: ``est.init_params``' copies, the
    others drawn from ``rng`` in the order W, V, u."""
    m1, m2 = check_hidden(est)
    shapes = {"W": (m1, d), "V": (m2, m1), "u": (m2,)}
    given = {} if est.init_params is None else est.init_params
    unknown = sorted(set(given) - set(LAYERS), key=str)
    if unknown:
        raise ValueError(
            f"init_params has unknown keys {unknown}; the layers are {LAYERS}.")
    params = {}
    for name, shape in shapes.items():
        if name in given:
            arr = np.array(given[name], dtype=np.float64, copy=True)
            if name == "u" and arr.shape == shape + (1,):
                arr = arr.reshape(shape)
            if arr.shape != shape:
                raise ValueError(
                    f"init_params[{name!r}] has shape {arr.shape}; expected "
                    f"{shape} for hidden_layer_sizes={est.hidden_layer_sizes!r} "
                    f"and {d} input features.")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"init_params[{name!r}] contains NaN or inf.")
        else:
            arr = rng.standard_normal(shape)
            if est.parameterization == "standard":
                arr /= np.sqrt(shape[-1])
        params[name] = arr
    return params
