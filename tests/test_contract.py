"""One contract for every public function: each parameter has a declared
constraint (checked on every call, shared by the local and Spark
functions), results carry their metadata in ``attrs`` through filtering
and sorting, and one vocabulary names the same things."""
import inspect
import warnings

import numpy as np
import pandas as pd
import pytest

import basketmine as bm
from basketmine import InvalidParameterError

from conftest import DATASETS


def _public_functions():
    mods = [bm, bm.models, bm.value]
    try:
        import basketmine.spark as bms
        mods.append(bms)
    except ImportError:  # pragma: no cover - spark.py imports pyspark lazily
        pass
    seen = {}
    for mod in mods:
        names = getattr(mod, "__all__", None) or [n for n in dir(mod) if not n.startswith("_")]
        for name in names:
            obj = getattr(mod, name)
            if inspect.isfunction(obj) and getattr(obj, "__module__", "").startswith("basketmine"):
                seen.setdefault(f"{obj.__module__}.{obj.__name__}", obj)
    return sorted(seen.items())


FUNCTIONS = _public_functions()


@pytest.mark.parametrize("name,fn", FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_every_public_parameter_has_a_declared_constraint(name, fn):
    declared = getattr(fn, "constraints", None)
    assert declared is not None, f"{name} is not bound to its constraints (@validated)"
    params = [p for p in inspect.signature(fn).parameters if p not in ("self", "args", "kwargs", "read_kw")]
    missing = [p for p in params if p not in declared]
    assert not missing, f"{name}: no constraint declared for {missing}"
