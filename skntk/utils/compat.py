"""The one home of scikit-learn's private names that skntk uses.

scikit-learn's parameter validation (``Interval``, ``StrOptions``, ...), the
``_fit_context`` decorator and a few validation helpers are what every
estimator of the scikit-learn ecosystem uses, but they are private: they may
move between releases. Importing them here only means a move is mended in one
place. Every other module imports them from here
(``tests/test_architecture.py`` checks it).
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    Interval,
    Options,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import _check_feature_names_in, _check_sample_weight

__all__ = ["Interval", "Options", "StrOptions", "check_feature_names_in",
           "check_sample_weight", "fit_context", "validate_params"]

fit_context = _fit_context
check_feature_names_in = _check_feature_names_in
check_sample_weight = _check_sample_weight
