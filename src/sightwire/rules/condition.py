"""Rule conditions and attribute templates in CEL, Google's Common Expression Language.

CEL is a small, side-effect-free language: it reads the variables it is given and
nothing else (no attributes of Python objects, no imports, no loops that never
end). Expressions are parsed and checked when the config loads; evaluation builds
nothing but values. Sightwire adds ``abs``, ``min`` and ``max``, and lets ints and
doubles mix (``object.count > 5`` works when count is 5.0), as newer CEL versions do.

>>> when = Expression("abs(object.length_mm - manifest.length_mm) > 10",
...                   names={"object", "manifest"})
>>> when.evaluate(to_cel({"object": {"length_mm": 212.0}, "manifest": {"length_mm": 200}}))
True
>>> Expression("__import__('os')", names={"object"})
Traceback (most recent call last):
...
sightwire.rules.condition.ExpressionError: unknown function '__import__'
"""

from __future__ import annotations

import base64
import math
import operator
from collections.abc import Callable, Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

import celpy
import lark
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.evaluation import CELEvalError, base_functions

MAX_SOURCE = 4096
"""Longest expression accepted, in characters."""
MACROS = frozenset({"has", "all", "exists", "exists_one", "map", "filter", "dyn"})
_ENVIRONMENT = celpy.Environment()


class ExpressionError(ValueError):
    """An expression that cannot be used: bad syntax, an unknown name or function."""


class EvaluationError(RuntimeError):
    """An expression that failed on the data given (a missing field, division by zero)."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, (bool, celtypes.BoolType))


def _promote(a: Any, b: Any) -> tuple[Any, Any]:
    """Mixed int and double operands as doubles."""
    if isinstance(a, float) and _is_int(b):
        return celtypes.DoubleType(a), celtypes.DoubleType(b)
    if isinstance(b, float) and _is_int(a):
        return celtypes.DoubleType(a), celtypes.DoubleType(b)
    return a, b


def _numeric(name: str) -> Callable[[Any, Any], Any]:
    original = base_functions[name]

    def mixed(a: Any, b: Any) -> Any:
        return original(*_promote(a, b))

    mixed.__name__ = original.__name__
    return mixed


def _abs(value: Any) -> Any:
    if isinstance(value, float):
        return celtypes.DoubleType(abs(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return celtypes.UintType(value) if _is_uint(value) else celtypes.IntType(abs(value))
    raise TypeError(f"abs of {type(value).__name__}")


def _is_uint(value: Any) -> bool:
    return isinstance(value, celtypes.UintType)


def _extreme(pick: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    def choose(a: Any, b: Any) -> Any:
        a, b = _promote(a, b)
        return a if pick(a, b) else b

    return choose


FUNCTIONS: dict[str, Any] = {
    **{name: _numeric(name) for name in ("_+_", "_-_", "_*_", "_/_", "_%_")},
    **{name: _numeric(name) for name in ("_<_", "_<=_", "_>_", "_>=_", "_==_", "_!=_")},
    "abs": _abs,
    "min": _extreme(operator.le),
    "max": _extreme(operator.ge),
}
KNOWN_FUNCTIONS = frozenset(base_functions) | frozenset(FUNCTIONS) | MACROS


def _names(tree: lark.Tree[Any]) -> tuple[set[str], set[str], set[str]]:
    """Free names, called functions and names bound by macros (``x`` in ``exists(x, …)``)."""
    names: set[str] = set()
    functions: set[str] = set()
    bound: set[str] = set()
    for node in tree.iter_subtrees():
        first = node.children[0] if node.children else None
        if node.data in ("ident", "dot_ident") and isinstance(first, lark.Token):
            names.add(str(first))
        elif node.data in ("ident_arg", "dot_ident_arg") and isinstance(first, lark.Token):
            functions.add(str(first))
        elif node.data == "member_dot_arg" and len(node.children) >= 2:
            method = str(node.children[1])
            functions.add(method)
            if method in MACROS and len(node.children) > 2:
                arguments = node.children[2]
                if isinstance(arguments, lark.Tree) and arguments.children:
                    bound |= _idents(arguments.children[0])
    return names, functions, bound


def _idents(node: Any) -> set[str]:
    if not isinstance(node, lark.Tree):
        return set()
    return {str(n.children[0]) for n in node.iter_subtrees() if n.data == "ident"}


class Expression:
    """A CEL expression, parsed and checked once, evaluated many times.

    ``names`` are the variables it may use; a name outside them, or a function CEL
    does not have, is an :class:`ExpressionError` here, not a failure later.
    """

    def __init__(self, source: str, names: Collection[str]) -> None:
        if len(source) > MAX_SOURCE:
            raise ExpressionError(f"longer than {MAX_SOURCE} characters")
        try:
            tree = _ENVIRONMENT.compile(source)
        except Exception as exc:  # celpy raises its parse errors, lark others
            raise ExpressionError(f"syntax: {_first_line(exc)}") from None
        used, functions, bound = _names(tree)
        unknown_functions = sorted(functions - KNOWN_FUNCTIONS)
        if unknown_functions:
            raise ExpressionError(f"unknown function {unknown_functions[0]!r}")
        unknown = sorted(used - set(names) - bound)
        if unknown:
            known = ", ".join(sorted(names))
            raise ExpressionError(f"unknown name {unknown[0]!r} (known here: {known})")
        self.source = source
        self.names = frozenset(used & set(names))
        self._program = _ENVIRONMENT.program(tree, functions=FUNCTIONS)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def evaluate(self, variables: Mapping[str, Any]) -> Any:
        """The value as plain Python; ``variables`` are CEL values (see :func:`to_cel`)."""
        try:
            result = self._program.evaluate(dict(variables))
        except Exception as exc:  # CELEvalError, or a type error of a function
            raise EvaluationError(_first_line(exc)) from None
        if isinstance(result, CELEvalError):
            raise EvaluationError(_first_line(result))
        return from_cel(result)

    def holds(self, variables: Mapping[str, Any]) -> bool:
        """Evaluate a condition: true or false, anything else an :class:`EvaluationError`."""
        value = self.evaluate(variables)
        if not isinstance(value, bool):
            raise EvaluationError(f"a condition must be true or false, not {value!r}")
        return value


def _first_line(exc: BaseException) -> str:
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    return text.strip().splitlines()[0][:300] if text.strip() else type(exc).__name__


def to_cel(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain Python values (from JSON or data columns) as CEL variables."""
    return {name: json_to_cel(value) for name, value in values.items()}


def from_cel(value: Any) -> Any:
    """A CEL value as plain, JSON-safe Python (non-finite numbers as None)."""
    if value is None or isinstance(value, (celtypes.BoolType, bool)):
        return None if value is None else bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): from_cel(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [from_cel(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return str(value)
