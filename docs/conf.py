"""Sphinx configuration for basketmine's documentation.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html``
(the test suite builds it the same way, warnings as errors).
"""
import basketmine

project = "basketmine"
author = "basketmine developers"
copyright = "2026, basketmine developers"
release = version = basketmine.__version__

extensions = ["sphinx.ext.autodoc", "numpydoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

autodoc_typehints = "none"          # the numpydoc Parameters section carries the types
autodoc_member_order = "bysource"
numpydoc_show_class_members = False  # members are listed with :members: in api.rst
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
# every documented object needs a docstring and a summary line
numpydoc_validation_checks = {"GL08", "SS01"}
numpydoc_validation_exclude = {r"\.[A-Z][A-Z_]+$"}  # constants: documented by their #: comment
myst_heading_anchors = 3

html_theme = "alabaster"
html_title = f"basketmine {release}"
