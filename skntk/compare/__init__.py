"""The comparison: the ``skntk`` command line and its report.

What lives here: ``skntk compare`` (data, the model zoo, the cross-validation
driver, checkpoints and ``--resume``, the notebook presets; ``_cli.py``), the
report files (``_report.py``) and the figures as scikit-learn-style Display
objects (``_display.py``; matplotlib is imported only when a figure is drawn).

May import: anything public in skntk (it is the top of the dependency graph),
numpy, scikit-learn and matplotlib. Nothing in skntk imports this package
except ``skntk.__main__`` and the top-level lazy attributes for the Displays.
"""

from ._cli import main
from ._display import AgreementDisplay, GramSpectrumDisplay, LearningCurveComparisonDisplay

__all__ = ["AgreementDisplay", "GramSpectrumDisplay", "LearningCurveComparisonDisplay",
           "main"]
