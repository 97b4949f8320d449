"""Rule conditions and attribute templates in CEL, Google's Common Expression Language.

CEL is a small, side-effect-free language: it reads the variables it is given and
nothing else (no attributes of Python objects, no imports, no loops that never
end). Expressions run on the Rust CEL library (package ``common-expression-language``),
compiled once when the config loads; sightwire also reads each one itself
(:mod:`sightwire.rules.syntax`) so that an unknown name or function is refused
then, not when an event comes. Sightwire adds ``abs``, ``min`` and ``max``, and
lets ints and doubles mix: comparisons do so in CEL itself (``object.count > 5``
works when count is 5.0), and ``+ - * /`` make the int a double when the other
operand is one (``600 - object.length_mm``), which CEL alone refuses.

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
import logging
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import cel

from sightwire.rules import syntax

log = logging.getLogger(__name__)
MAX_SOURCE = 4096
"""Longest expression accepted, in characters."""
INT64_MAX = 2**63 - 1

Variables = cel.Context
"""The variables of an evaluation, converted to CEL once (see :func:`to_cel`)."""

TYPE_NAMES = frozenset(
    {"bool", "bytes", "double", "int", "list", "map", "null_type", "string", "type", "uint"}
)
"""Names CEL itself defines: the types, as in ``type(x) == double``."""
NATIVE_CALLS = frozenset(
    {"size", "int", "uint", "double", "string", "bytes", "timestamp", "duration", "dyn", "type"}
)
"""Functions of the Rust CEL library called as ``f(x)``."""
NATIVE_METHODS = frozenset(
    {
        "size",
        "contains",
        "startsWith",
        "endsWith",
        "matches",
        "getFullYear",
        "getMonth",
        "getDayOfYear",
        "getDayOfMonth",
        "getDate",
        "getDayOfWeek",
        "getHours",
        "getMinutes",
        "getSeconds",
        "getMilliseconds",
    }
)
"""Functions of the Rust CEL library called as ``x.f(...)``; the getters of timestamps
and durations take no time zone argument here."""


class ExpressionError(ValueError):
    """An expression that cannot be used: bad syntax, an unknown name or function."""


class EvaluationError(RuntimeError):
    """An expression that failed on the data given (a missing field, division by zero)."""


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _promote(a: Any, b: Any) -> tuple[Any, Any]:
    """Mixed int and double operands as doubles."""
    if _is_number(a) and _is_number(b) and (isinstance(a, float) or isinstance(b, float)):
        return float(a), float(b)
    return a, b


def _abs(value: Any) -> Any:
    if not _is_number(value):
        raise TypeError(f"abs of {type(value).__name__}")
    result = abs(value)
    if isinstance(value, int) and value < 0 and result > INT64_MAX:
        raise OverflowError("abs overflows int")
    return result


_ORDERED = (int, float, str, bytes, datetime, timedelta)


def _extreme(name: str, pick: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    def choose(a: Any, b: Any) -> Any:
        a, b = _promote(a, b)
        if type(a) is not type(b) or not isinstance(a, _ORDERED):
            raise TypeError(f"{name} of {type(a).__name__} and {type(b).__name__}")
        return a if pick(a, b) else b

    choose.__name__ = name
    return choose


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": _abs,
    "min": _extreme("min", lambda a, b: bool(a <= b)),
    "max": _extreme("max", lambda a, b: bool(a >= b)),
}
KNOWN_CALLS = NATIVE_CALLS | {"has"} | frozenset(FUNCTIONS)
KNOWN_METHODS = NATIVE_METHODS | (syntax.MACROS - {"has"}) | frozenset(FUNCTIONS)
"""Functions added from Python may be called either way (``x.abs()``)."""


class _QuietOwnFunctions(logging.Filter):
    """The library logs a warning each time a Python function raises; for ours
    that is an :class:`EvaluationError`, which the engine reports itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(message.startswith(f"Python function '{n}' failed") for n in FUNCTIONS)


logging.getLogger("cel").addFilter(_QuietOwnFunctions())


def new_context(values: Mapping[str, Any] | None = None) -> Variables:
    """A CEL context with sightwire's functions and ``values`` as variables."""
    return cel.Context(dict(values) if values else None, FUNCTIONS)


def to_cel(values: Mapping[str, Any]) -> Variables:
    """Plain Python values (from JSON or data columns) as CEL variables."""
    return new_context(values)


Needs = dict[str, frozenset[str] | None]
"""Variables expressions read: each name with the fields read of it, or None where
an expression may read all of it."""


def needs_of(expressions: Iterable[Expression]) -> Needs:
    """What ``expressions`` read together.

    >>> needs = needs_of([Expression("object.a > 1", {"object"}),
    ...                   Expression("object.b == camera", {"object", "camera"})])
    >>> sorted(needs["object"]), needs["camera"]
    (['a', 'b'], None)
    """
    needs: Needs = {}
    for expression in expressions:
        for name in expression.names:
            fields = expression.fields.get(name)
            if name not in needs:
                needs[name] = fields
            else:
                have = needs[name]
                needs[name] = None if have is None or fields is None else have | fields
    return needs


class Expression:
    """A CEL expression, compiled and checked once, evaluated many times.

    ``names`` are the variables it may use; a name outside them, or a function CEL
    does not have, is an :class:`ExpressionError` here, not a failure later.
    """

    def __init__(self, source: str, names: Collection[str]) -> None:
        if len(source) > MAX_SOURCE:
            raise ExpressionError(f"longer than {MAX_SOURCE} characters")
        try:
            program = cel.compile(source)
        except Exception as exc:  # the library raises ValueError with its parser's report
            raise ExpressionError(_syntax_message(source, exc)) from None
        try:
            tree = syntax.parse(source)
        except syntax.CelSyntaxError as exc:  # the library accepted it: not expected
            raise ExpressionError(f"syntax: {exc}") from None
        found = syntax.references(tree)
        _check(found, names)
        self.source = source
        self.names = frozenset(found.names & set(names))
        self.fields = {n: frozenset(f) for n, f in found.fields.items() if n in self.names}
        """The names read only as ``name.field``, with those fields."""
        self._program = _promoted(program, tree)

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"

    def evaluate(self, variables: Variables | Mapping[str, Any]) -> Any:
        """The value as plain Python; ``variables`` as :func:`to_cel` makes them (a
        plain mapping is converted on each call)."""
        context = variables if isinstance(variables, cel.Context) else new_context(variables)
        try:
            result = self._program.execute(context)
        except Exception as exc:  # KeyError, TypeError, RuntimeError, ... of the library
            raise EvaluationError(_reason(exc)) from None
        return from_cel(result)

    def holds(self, variables: Variables | Mapping[str, Any]) -> bool:
        """Evaluate a condition: true or false, anything else an :class:`EvaluationError`."""
        value = self.evaluate(variables)
        if not isinstance(value, bool):
            raise EvaluationError(f"a condition must be true or false, not {value!r}")
        return value


def _promoted(program: cel.Program, tree: syntax.Node) -> cel.Program:
    """``program`` with its mixed int/double arithmetic rewritten, when it has any."""
    rewritten = syntax.promote(tree)
    if rewritten is None:
        return program
    try:
        return cel.compile(rewritten)
    except Exception as exc:  # a fault of the rewriting: keep plain CEL, and say so
        log.warning("cannot rewrite mixed arithmetic of %r: %s", program.source, exc)
        return program


def _check(found: syntax.References, names: Collection[str]) -> None:
    """Refuse unknown functions, then unknown names, as :class:`ExpressionError`."""
    calls = sorted(found.calls - KNOWN_CALLS)
    if calls:
        hint = f" (call it as a method: x.{calls[0]}(...))" if calls[0] in KNOWN_METHODS else ""
        raise ExpressionError(f"unknown function {calls[0]!r}{hint}")
    methods = sorted(found.methods - KNOWN_METHODS)
    if methods:
        hint = f" (call it as {methods[0]}(x))" if methods[0] in KNOWN_CALLS else ""
        raise ExpressionError(f"unknown function {methods[0]!r}{hint}")
    zoned = sorted(f for f, arity in found.method_arities if f.startswith("get") and arity)
    if zoned:
        raise ExpressionError(f"{zoned[0]}() takes no arguments (time zones are not supported)")
    unknown = sorted(found.names - set(names) - TYPE_NAMES)
    if unknown:
        known = ", ".join(sorted(names))
        raise ExpressionError(f"unknown name {unknown[0]!r} (known here: {known})")
    if found.messages:
        raise ExpressionError(f"unknown message type {min(found.messages)!r}")
    reserved = sorted(b for b in found.bound if b.startswith(syntax.BOUND_PREFIX))
    if reserved:
        raise ExpressionError(
            f"{reserved[0]!r}: names starting with {syntax.BOUND_PREFIX} are reserved"
        )


_ERROR = re.compile(r"ERROR: <input>:(\d+):(\d+): (?:Syntax error: )?([^\n]*)")
_ANY_VALUE = re.compile(r" expecting \{[^}]*IDENTIFIER[^}]*\}")


def _syntax_message(source: str, exc: BaseException) -> str:
    """``syntax: <the line> (column C: what is wrong)`` from the library's report."""
    match = _ERROR.search(str(exc))
    if match is None:
        return f"syntax: {_first_line(exc)}"
    line, column = int(match.group(1)), int(match.group(2))
    reason = _ANY_VALUE.sub(", expecting a value", match.group(3).strip())
    reason = reason.replace("mismatched input '<EOF>'", "the expression ends too early")
    lines = source.splitlines() or [""]
    text = lines[min(line, len(lines)) - 1]
    column = max(1, column - (len(text) - len(text.lstrip())))
    where = f"column {column}" if len(lines) == 1 else f"line {line}, column {column}"
    return f"syntax: {text.strip()} ({where}: {reason})"


def _reason(exc: BaseException) -> str:
    """The library's error in one line, without its advice on CEL's types."""
    if isinstance(exc, KeyError):
        return f"no such key: {exc.args[0]!r}" if exc.args else "no such key"
    text = re.sub(r"Python function call failed: \w+: ", "", _first_line(exc))
    return text.split(". ")[0]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def from_cel(value: Any) -> Any:
    """A CEL value as plain, JSON-safe Python (non-finite numbers as None)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
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
