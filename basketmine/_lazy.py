"""A module imported on first use, so that ``import basketmine`` stays lean
(scipy's submodules, tqdm and the like cost more than pandas to import)."""
from __future__ import annotations

import importlib


class LazyModule:
    """Stands for module ``name``; the import happens at the first attribute read.

    Examples
    --------
    >>> import math
    >>> from basketmine._lazy import LazyModule
    >>> special = LazyModule("scipy.special")
    >>> math.isclose(float(special.gammaln(5.0)), math.log(24))
    True
    """

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr):
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"LazyModule({self._name!r})"
