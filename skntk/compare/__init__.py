"""The comparison: the ``skntk`` command line and its report.

What lives here, one concern a module:

- ``_cli.py``: the argument parser, ``main`` and ``skntk quickstart``;
  ``_errors.py``: the exit statuses and ``CompareError``.
- ``_compare.py``: ``skntk compare`` step by step, from the arguments to the
  printed table.
- ``_data.py``: its data (digits, fashion-mnist, teacher, a CSV/NPZ file read by
  :func:`skntk.datasets.load_table`), class filter and subsampling.
- ``_models.py``: the model zoo and which of its estimators are installed.
- ``_driver.py``: the cross-validation driver (every model on every fold, in
  ``--n-jobs`` processes) and the progress bar.
- ``_checkpoint.py``: the progress file, ``--resume`` and its settings check,
  the ``--output`` folder.
- ``_summary.py``: per-model summaries, agreement, the table, the figures.
- ``_presets.py``, ``_preset_tp5.py``, ``_preset_teacher.py``: the two seed
  notebooks (``--preset``).
- ``_report.py``: the report files (atomic JSON and CSV, the progress file
  format, library versions).
- ``_stats.py``: the significance tests (plain numpy/scipy);
  ``_significance.py``: the pairs of models, ``--repeats``' folds and their
  table; ``_sweep.py``: ``--widths``; ``_html.py``: ``report.html``.
- ``_display.py``, ``_display_sweep.py``: the figures as scikit-learn-style
  Display objects (matplotlib is imported only when a figure is drawn).

May import: anything public in skntk (it is the top of the dependency graph),
numpy, scikit-learn and matplotlib. Nothing in skntk imports this package
except ``skntk.__main__`` and the top-level lazy attributes for the Displays.
"""

from ._cli import main
from ._display import (
    AgreementDisplay,
    GramSpectrumDisplay,
    LearningCurveComparisonDisplay,
)
from ._display_sweep import WidthSweepDisplay

__all__ = ["AgreementDisplay", "GramSpectrumDisplay", "LearningCurveComparisonDisplay",
           "WidthSweepDisplay", "main"]
