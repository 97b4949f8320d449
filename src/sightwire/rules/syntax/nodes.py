"""The syntax tree of a CEL expression, and the names it shares."""

from __future__ import annotations

from dataclasses import dataclass

KEYWORDS = frozenset({"true", "false", "null", "in"})
MACROS = frozenset({"has", "all", "exists", "exists_one", "map", "filter"})
BOUND_PREFIX = "__"
"""Macro variables may not start with it: the rewritten arithmetic binds ``__sw``."""


class CelSyntaxError(ValueError):
    """Source this reader cannot follow (the CEL library accepted it first)."""


# The syntax tree -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    text: str
    type: str  # int, uint, double, string, bytes, bool, null


@dataclass(frozen=True, slots=True)
class Ident:
    name: str  # with its leading dot, if written with one


@dataclass(frozen=True, slots=True)
class Select:
    operand: Node
    field: str


@dataclass(frozen=True, slots=True)
class Call:
    function: str
    target: Node | None  # ``target.function(args)``; None for ``function(args)``
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Index:
    operand: Node
    index: Node


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Conditional:
    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class ListOf:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MapOf:
    entries: tuple[tuple[Node, Node], ...]


@dataclass(frozen=True, slots=True)
class Message:
    name: str
    fields: tuple[tuple[str, Node], ...]


@dataclass(frozen=True, slots=True)
class Promoted:
    """``left op right`` with an int operand made a double when the other is one."""

    op: str
    left: Node
    right: Node


Node = (
    Literal
    | Ident
    | Select
    | Call
    | Index
    | Unary
    | Binary
    | Conditional
    | ListOf
    | MapOf
    | Message
    | Promoted
)
