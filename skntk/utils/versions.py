"""A pickle of a skntk estimator says which skntk wrote it.

scikit-learn's ``BaseEstimator`` stores its own version in every pickle and
warns (:class:`~sklearn.exceptions.InconsistentVersionWarning`) when another
version loads it. :class:`VersionedStateMixin` does the same for skntk's
version, with :class:`SkntkVersionWarning`, a subclass, so that a filter on
scikit-learn's warning catches both.
"""

from sklearn.exceptions import InconsistentVersionWarning

from .._version import __version__
from .warn import warn

__all__ = ["SkntkVersionWarning", "VersionedStateMixin"]

_KEY = "_skntk_version"


class SkntkVersionWarning(InconsistentVersionWarning):
    """A skntk estimator pickled by another skntk version was loaded."""

    def __str__(self):
        return (
            f"Trying to unpickle estimator {self.estimator_name} from skntk version "
            f"{self.original_sklearn_version} when using skntk version "
            f"{self.current_sklearn_version}. This might lead to breaking code or "
            "invalid results: refit the model with this version, or load it with "
            f"skntk=={self.original_sklearn_version}.")


class VersionedStateMixin:
    """Store skntk's version in the pickled state; warn when it differs.

    Put it before ``BaseEstimator`` in the bases, so that its
    ``__getstate__``/``__setstate__`` wrap scikit-learn's.
    """

    def __getstate__(self):
        state = super().__getstate__()
        if isinstance(state, dict):
            state = {**state, _KEY: __version__}
        return state

    def __setstate__(self, state):
        if isinstance(state, dict):
            state = dict(state)
            version = state.pop(_KEY, "unknown (before 0.1.0.dev0)")
            if version != __version__:
                warn(SkntkVersionWarning(
                    estimator_name=type(self).__name__,
                    current_sklearn_version=__version__,
                    original_sklearn_version=version))
        super().__setstate__(state)
