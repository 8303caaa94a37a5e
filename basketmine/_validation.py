"""One validation path and one message shape for every public parameter.

Constraints are declared once, next to the function that owns them, and
checked here::

    The 'min_support' parameter of frequent_itemsets must be a float in the
    range (0.0, 1.0] or an int >= 1. Got 1.5 instead.
"""
from __future__ import annotations

import functools
import inspect
import numbers
import os
import re
import sys
from dataclasses import dataclass
from typing import Any, Iterable


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def user_stacklevel() -> int:
    """The ``stacklevel`` for :func:`warnings.warn` that names the first
    line outside basketmine (the user's call), however deep the call that
    warns sits in the package."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


class InvalidParameterError(ValueError, TypeError):
    """A public parameter has a value outside what is allowed."""


class NotFittedError(InvalidParameterError, AttributeError):
    """A model was used before ``fit`` (an AttributeError too, as scikit-learn's)."""


class UnknownLabelError(InvalidParameterError, KeyError):
    """An item label that is not in the log's vocabulary (a KeyError too, as a
    mapping lookup would raise)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_float(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, numbers.Integral))


@dataclass(frozen=True)
class Interval:
    """Numbers of one kind between two bounds; ``closed`` names the closed ends."""

    kind: str  # "int", "float" or "real" (int or float)
    left: float | None
    right: float | None
    closed: str = "both"  # "both", "left", "right", "neither"

    def is_satisfied_by(self, v: Any) -> bool:
        ok_type = {"int": _is_int, "float": _is_float,
                   "real": lambda x: _is_int(x) or _is_float(x)}[self.kind](v)
        if not ok_type:
            return False
        if v != v:  # NaN
            return False
        if self.left is not None:
            if v < self.left or (v == self.left and self.closed not in ("both", "left")):
                return False
        if self.right is not None:
            if v > self.right or (v == self.right and self.closed not in ("both", "right")):
                return False
        return True

    def __str__(self) -> str:
        kind = {"int": "an int", "float": "a float", "real": "a number"}[self.kind]
        if self.left is not None and self.right is not None:
            lb = "[" if self.closed in ("both", "left") else "("
            rb = "]" if self.closed in ("both", "right") else ")"
            lo = float(self.left) if self.kind == "float" else self.left
            hi = float(self.right) if self.kind == "float" else self.right
            return f"{kind} in the range {lb}{lo}, {hi}{rb}"
        if self.left is not None:
            op = ">=" if self.closed in ("both", "left") else ">"
            return f"{kind} {op} {self.left}"
        if self.right is not None:
            op = "<=" if self.closed in ("both", "right") else "<"
            return f"{kind} {op} {self.right}"
        return kind


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values."""

    values: tuple

    def is_satisfied_by(self, v: Any) -> bool:
        try:
            return v in self.values
        except TypeError:
            return False

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(x) for x in self.values)


@dataclass(frozen=True)
class Kind:
    """An instance of a type (or a callable, with kind=callable)."""

    kind: Any
    name: str

    def is_satisfied_by(self, v: Any) -> bool:
        if self.kind is callable:
            return callable(v)
        return isinstance(v, self.kind)

    def __str__(self) -> str:
        return self.name


NONE = Options((None,))
BOOL = Kind(bool, "a bool")
FRACTION_OR_COUNT = (Interval("float", 0, 1, "right"), Interval("int", 1, None, "left"))


def _describe(constraints: Iterable) -> str:
    parts = []
    for c in constraints:
        parts.append("None" if c is NONE else str(c))
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " or " + parts[-1]


def check(owner: str, name: str, value: Any, constraints) -> Any:
    """Return ``value`` if it meets one of ``constraints``; raise otherwise."""
    if not isinstance(constraints, (tuple, list)):
        constraints = (constraints,)
    for c in constraints:
        if c.is_satisfied_by(value):
            return value
    raise InvalidParameterError(
        f"The {name!r} parameter of {owner} must be {_describe(constraints)}. "
        f"Got {value!r} instead."
    )


class InBody:
    """A parameter the function checks in its body, against the data (a
    TransactionMatrix, column names, item labels, durations): declared with
    what is allowed, so that every public parameter has a declaration."""

    def __init__(self, allowed: str):
        self.allowed = allowed

    def is_satisfied_by(self, v: Any) -> bool:
        return True

    def __str__(self) -> str:
        return self.allowed


def validate(owner: str, spec: dict, values: dict) -> None:
    """Check every parameter named in ``spec`` against its constraints."""
    for name, constraints in spec.items():
        if not isinstance(constraints, InBody):
            check(owner, name, values[name], constraints)


def validated(spec: dict, owner: str | None = None):
    """Bind a public function's parameters to their declared constraints.

    Every call checks the bound arguments against ``spec`` before the body
    runs (parameters declared :class:`InBody` are the body's to check).
    ``fn.constraints`` keeps the declarations: the local and the Spark
    functions share them, and a test checks that every parameter of every
    public function has one."""
    def wrap(fn):
        sig = inspect.signature(fn)
        name = owner or fn.__name__
        wanted = {k: v for k, v in spec.items() if k in sig.parameters}

        @functools.wraps(fn)
        def checked(*args, **kwargs):
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as exc:
                raise InvalidParameterError(f"{name}: {exc}.") from None
            bound.apply_defaults()
            validate(name, wanted, bound.arguments)
            return fn(*args, **kwargs)

        checked.constraints = wanted
        return checked
    return wrap


def column_error(owner: str, name: str, value: Any, columns) -> InvalidParameterError:
    cols = ", ".join(repr(c) for c in list(columns)[:20])
    more = "" if len(columns) <= 20 else f", ... ({len(columns)} columns)"
    return InvalidParameterError(
        f"The {name!r} parameter of {owner} must name a column of the data "
        f"({cols}{more}). Got {value!r} instead."
    )


_BARE_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")


def unitless_duration(owner: str, name: str, value: Any, baskets: bool = False) -> None:
    """Raise when a duration is a number in a string without a unit, which
    pandas would read as nanoseconds ("90" -> 90 ns)."""
    if isinstance(value, str) and _BARE_NUMBER.match(value):
        v = value.strip()
        raise InvalidParameterError(
            f"The {name!r} parameter of {owner} is a number without a unit ({value!r}). Write a duration "
            f"with its unit, such as '{v}D' (days), '{v}h' (hours) or '{v}W' (weeks)"
            + (", or give an int for a number of baskets." if baskets else "."))
