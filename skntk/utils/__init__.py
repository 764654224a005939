"""Helpers shared by every subpackage.

What lives here: :func:`~skntk.utils.warn.warn`, which issues a warning at the
first stack frame outside skntk (no hand-counted ``stacklevel``);
:func:`~skntk.utils.chunks.row_chunks`, the one chunker of row loops under a
``working_memory`` budget; :func:`~skntk.utils.devices.resolve_device`, the one
resolver of ``device=`` parameters, with the one numpy-to-torch dtype map;
:func:`~skntk.utils.memory.check_memory`, the memory budget
(``SKNTK_MAX_MEMORY``) checked before a large allocation;
``compat``, the one module that imports scikit-learn's private names
(parameter validation, ``_fit_context``); ``activations``, the one vocabulary of
``activation=`` parameters (names, ``negative_slope``, user callables, their
torch functions and derivatives).

May import: the standard library, numpy and scikit-learn; torch only inside the
functions of ``devices.py`` and ``activations.py``. Nothing else in skntk.
"""
