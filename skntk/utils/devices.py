"""One resolver for every ``device=`` parameter, one map of torch dtypes.

torch is imported inside the functions only, so importing this module stays
light; every caller is on a torch path already.
"""

import numpy as np

from .warn import warn

__all__ = ["DeviceWarning", "cuda_available", "limit_torch_threads", "resolve_device",
           "torch_dtype"]


class DeviceWarning(UserWarning):
    """A model asked for a device this machine lacks and runs on the CPU.

    Issued by :func:`resolve_device` with ``fallback_to_cpu=True``, e.g. by
    ``predict`` / ``predict_proba`` of a network estimator whose ``device`` is
    ``"cuda"`` on a machine without CUDA (a model trained on a GPU and
    unpickled on a laptop): inference then runs on the CPU.
    """


def cuda_available():
    """``torch.cuda.is_available()``; one indirection so that tests can fake a
    machine without CUDA."""
    import torch

    return torch.cuda.is_available()


def torch_dtype(dtype):
    """The torch dtype of ``"float32"``/``"float64"`` or a numpy float dtype.

    Examples
    --------
    >>> torch_dtype("float32")
    torch.float32
    """
    import torch

    name = np.dtype(dtype).name
    if name == "float32":
        return torch.float32
    if name == "float64":
        return torch.float64
    raise ValueError(f"dtype must be float32 or float64, got {dtype!r}.")


def resolve_device(device, *, name="device", fallback_to_cpu=False,
                   cpu_hint="device='cpu'"):
    """The :class:`torch.device` of a ``device`` parameter.

    Parameters
    ----------
    device : str or torch.device
        ``"auto"`` (CUDA when available, else the CPU), or anything
        :class:`torch.device` accepts (``"cpu"``, ``"cuda"``, ``"cuda:1"``).
    name : str, default="device"
        The parameter's name, for the error messages.
    fallback_to_cpu : bool, default=False
        Where CUDA is asked for and missing: ``False`` raises a ValueError,
        ``True`` warns (:class:`DeviceWarning`) and returns the CPU (a model
        trained on a GPU still predicts after unpickling elsewhere).
    cpu_hint : str, default="device='cpu'"
        What the error message suggests instead.

    Returns
    -------
    device : torch.device
    """
    import torch

    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if cuda_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(
            f"{name}={device!r} is not a torch device; use 'cpu', 'cuda', "
            "'cuda:K' or 'auto'.") from exc
    if dev.type == "cuda" and not cuda_available():
        if fallback_to_cpu:
            warn(f"This estimator has {name}={device!r} but CUDA is not available "
                 "on this machine; running on the CPU.", DeviceWarning)
            return torch.device("cpu")
        raise ValueError(
            f"{name}={device!r} but CUDA is not available on this machine "
            f"(torch.cuda.is_available() is False). Use {cpu_hint}, or "
            f"{name}='auto' to use a GPU only when there is one.")
    return dev


def limit_torch_threads(n):
    """Set torch's intra-op threads to ``n`` (nothing when ``n`` is falsy).

    Small nets train faster on one thread: with several, each small matrix
    product of a 64-row batch pays OpenMP synchronisation, and on a busy
    machine that costs 5-50x (measured on 2 shared cores); one thread per
    process is also what ``skntk compare --n-jobs`` wants.
    """
    if n:
        import torch

        torch.set_num_threads(n)
