"""Warnings attributed to the user's code, without hand-counted stacklevels."""

import os
import sys
import warnings

__all__ = ["warn"]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _is_sklearn_wrapper(code):
    # scikit-learn's method decorators (``_fit_context``, ``set_output``) add
    # one frame named ``wrapper``/``wrapped`` between the user and our method
    return code.co_name in ("wrapper", "wrapped") and (
        f"{os.sep}sklearn{os.sep}" in code.co_filename)


def warn(message, category=UserWarning):
    """:func:`warnings.warn` at the first stack frame outside skntk.

    Parameters
    ----------
    message : str
        The warning's text.
    category : type of Warning, default=UserWarning
        The warning's class.

    Examples
    --------
    >>> import warnings
    >>> from skntk.utils.warn import warn
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn("beware")
    >>> str(caught[0].message)
    'beware'
    """
    frame = sys._getframe(1)
    level = 2  # 1 is this function, 2 its caller
    while frame is not None and (
            frame.f_code.co_filename.startswith(_PACKAGE_DIR)
            or _is_sklearn_wrapper(frame.f_code)):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
