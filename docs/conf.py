"""Sphinx configuration of the skntk documentation.

Build (from the repository root), warnings as errors, executing the gallery::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Quick build, without running the examples (the gallery pages show the code only)::

    python -m sphinx -W --keep-going -b html -D plot_gallery=0 docs docs/_build/html

``SKNTK_DOCS_EXAMPLES`` (a regular expression on the file names, for example
``plot_cv``) runs only the matching examples, for working on one of them.
"""

import os
import sys
import warnings
from pathlib import Path

import skntk

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

project = "skntk"
author = "skntk developers"
copyright = "skntk developers"  # noqa: A001
version = release = skntk.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
default_role = "literal"
root_doc = "index"

# -- autodoc / autosummary / numpydoc ----------------------------------------
autosummary_generate = True
autodoc_default_options = {"member-order": "groupwise"}
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# numpydoc turns "Parameters"-style type fields into cross-references; types
# written as prose ("float >= 0", "{"ntk", "nngp"}") stay plain text.
numpydoc_xref_param_type = False

# MathJax comes from a CDN by default; SKNTK_DOCS_MATHJAX points at a local copy
# for offline reading (e.g. Debian's libjs-mathjax: file:///usr/share/javascript/
# mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML).
if os.environ.get("SKNTK_DOCS_MATHJAX"):
    mathjax_path = os.environ["SKNTK_DOCS_MATHJAX"]

# -- HTML -----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skntk {release}"
html_static_path = []
html_theme_options = {
    "navbar_end": ["theme-switcher", "navbar-icon-links"],
    "show_prev_next": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"install": [], "index": []}
html_show_sourcelink = False

# -- sphinx-gallery ------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": os.environ.get("SKNTK_DOCS_EXAMPLES", r"/plot_"),
    "ignore_pattern": r"__init__\.py|/_",
    "doc_module": ("skntk",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"skntk": None},
    "within_subsection_order": "_gallery_order.example_order",
    "remove_config_comments": True,
    "show_memory": False,
    "min_reported_time": 1,
    "matplotlib_animations": False,
    # an example that raises fails the build
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}

# numba / torch chatter that is not ours to fix would otherwise be printed into
# the rendered example output.
warnings.filterwarnings("ignore", message=".*NumbaPerformanceWarning.*")
