"""CEL source read by sightwire itself: the names and functions an expression uses,
and mixed int/double arithmetic rewritten so that it works.

The Rust CEL library (package ``common-expression-language``) parses and runs
expressions, but finds an unknown variable or function only when it evaluates
one, and, as the CEL specification says, refuses ``600 - 612.5`` (int minus
double). So sightwire parses the source once more, here, after the library has
accepted it: :func:`parse` gives a small syntax tree, :func:`references` the free
names, the names bound by macros and the functions called, and :func:`promote`
the source with each ``+ - * /`` whose operand types are not known at load turned
into a native CEL comprehension that makes the int side a double when the other
is a double (and leaves every other case to CEL's own operator).

>>> tree = parse("abs(object.length_mm - manifest.length_mm) > 10")
>>> found = references(tree)
>>> sorted(found.names), sorted(found.functions)
(['manifest', 'object'], ['abs'])
>>> promote(parse("600 - 612.5"))  # types known at load: promoted here
'(double(600)) - (612.5)'
>>> promote(parse("object.barcode + '-' + camera")) is None  # text: nothing to rewrite
True
>>> promote(parse("object.count - 3")).startswith("[[object.count, 3]].map(__sw, ")
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

KEYWORDS = frozenset({"true", "false", "null", "in"})
MACROS = frozenset({"has", "all", "exists", "exists_one", "map", "filter"})
BOUND_PREFIX = "__"
"""Macro variables may not start with it: the rewritten arithmetic binds ``__sw``."""
_PAIR = "__sw"

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*)
    | (?P<string>[bB]?(?:
          [rR](?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"[^"\n\r]*"|'[^'\n\r]*')
        | \"\"\"(?:\\[\s\S]|[^\\])*?\"\"\"
        | '''(?:\\[\s\S]|[^\\])*?'''
        | "(?:\\.|[^"\\\n\r])*"
        | '(?:\\.|[^'\\\n\r])*'
      ))
    | (?P<double>\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\.\d+(?:[eE][+-]?\d+)?)
    | (?P<int>(?:0[xX][0-9a-fA-F]+|\d+)[uU]?)
    | (?P<ident>[_a-zA-Z][_a-zA-Z0-9]*)
    | (?P<op>==|!=|<=|>=|&&|\|\||[<>!+\-*/%?:.,()\[\]{}])
    """,
    re.VERBOSE,
)


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


# Reading ---------------------------------------------------------------------------


def _tokens(source: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    at = 0
    while at < len(source):
        match = _TOKEN.match(source, at)
        if match is None:
            raise CelSyntaxError(f"unexpected {source[at]!r} at character {at + 1}")
        kind = match.lastgroup or ""
        text = match.group()
        at = match.end()
        if kind == "space":
            continue
        if kind == "ident" and text in KEYWORDS:
            kind = "keyword"
        out.append((kind, text))
    out.append(("end", ""))
    return out


class _Reader:
    """Recursive descent over CEL's grammar (cel-spec's CEL.g4, less optional syntax,
    which the library refuses)."""

    def __init__(self, source: str) -> None:
        self.tokens = _tokens(source)
        self.at = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        return self.tokens[min(self.at + offset, len(self.tokens) - 1)]

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def accept(self, text: str) -> bool:
        kind, value = self.peek()
        if kind in ("op", "keyword") and value == text:
            self.at += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            raise CelSyntaxError(f"expected {text!r}, found {self.peek()[1] or 'the end'!r}")

    def ident(self) -> str:
        kind, value = self.take()
        if kind != "ident":
            raise CelSyntaxError(f"expected a name, found {value or 'the end'!r}")
        return value

    def expression(self) -> Node:
        condition = self.binary(0)
        if self.accept("?"):
            then = self.binary(0)
            self.expect(":")
            return Conditional(condition, then, self.expression())
        return condition

    _LEVELS: tuple[frozenset[str], ...] = (
        frozenset({"||"}),
        frozenset({"&&"}),
        frozenset({"<", "<=", ">", ">=", "==", "!=", "in"}),
        frozenset({"+", "-"}),
        frozenset({"*", "/", "%"}),
    )

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while True:
            kind, value = self.peek()
            if kind not in ("op", "keyword") or value not in self._LEVELS[level]:
                return node
            self.at += 1
            node = Binary(value, node, self.binary(level + 1))

    def unary(self) -> Node:
        for op in ("!", "-"):
            count = 0
            while self.accept(op):
                count += 1
            if count:  # as CEL's parser does, an even run of one operator cancels out
                operand = self.unary()
                return Unary(op, operand) if count % 2 else operand
        return self.member()

    def member(self) -> Node:
        node = self.primary()
        while True:
            if self.accept("."):
                name = self.ident()
                if self.accept("("):
                    node = Call(name, node, self.arguments(")"))
                else:
                    node = Select(node, name)
            elif self.accept("["):
                node = Index(node, self.expression())
                self.expect("]")
            elif self.peek() == ("op", "{") and _qualified(node) is not None:
                self.at += 1
                node = Message(_qualified(node) or "", self.fields())
            else:
                return node

    def primary(self) -> Node:
        kind, value = self.take()
        if kind == "op" and value == ".":
            return Ident("." + self.ident())
        if kind == "ident":
            if self.accept("("):
                return Call(value, None, self.arguments(")"))
            return Ident(value)
        if kind == "op" and value == "(":
            node = self.expression()
            self.expect(")")
            return node
        if kind == "op" and value == "[":
            return ListOf(self.arguments("]", trailing=True))
        if kind == "op" and value == "{":
            return MapOf(self.entries())
        if kind == "string":
            return Literal(value, "bytes" if value[0] in "bB" else "string")
        if kind == "int":
            return Literal(value, "uint" if value[-1] in "uU" else "int")
        if kind == "double":
            return Literal(value, "double")
        if kind == "keyword" and value in ("true", "false"):
            return Literal(value, "bool")
        if kind == "keyword" and value == "null":
            return Literal(value, "null")
        raise CelSyntaxError(f"unexpected {value or 'end'!r}")

    def arguments(self, close: str, trailing: bool = False) -> tuple[Node, ...]:
        items: list[Node] = []
        while not self.accept(close):
            items.append(self.expression())
            if not self.accept(","):
                self.expect(close)
                break
            if not trailing and self.peek() == ("op", close):
                raise CelSyntaxError(f"a ',' before {close!r}")
        return tuple(items)

    def entries(self) -> tuple[tuple[Node, Node], ...]:
        items: list[tuple[Node, Node]] = []
        while not self.accept("}"):
            key = self.expression()
            self.expect(":")
            items.append((key, self.expression()))
            if not self.accept(","):
                self.expect("}")
                break
        return tuple(items)

    def fields(self) -> tuple[tuple[str, Node], ...]:
        items: list[tuple[str, Node]] = []
        while not self.accept("}"):
            name = self.ident()
            self.expect(":")
            items.append((name, self.expression()))
            if not self.accept(","):
                self.expect("}")
                break
        return tuple(items)


def _qualified(node: Node) -> str | None:
    """``a.b.c`` of a chain of names, else None."""
    if isinstance(node, Ident):
        return node.name
    if isinstance(node, Select):
        inner = _qualified(node.operand)
        return None if inner is None else f"{inner}.{node.field}"
    return None


def parse(source: str) -> Node:
    """The syntax tree of ``source``; raises :class:`CelSyntaxError`."""
    reader = _Reader(source)
    node = reader.expression()
    if reader.peek()[0] != "end":
        raise CelSyntaxError(f"unexpected {reader.peek()[1]!r}")
    return node


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, (Select, Unary)):
        return (node.operand,)
    if isinstance(node, Call):
        return node.args if node.target is None else (node.target, *node.args)
    if isinstance(node, Index):
        return (node.operand, node.index)
    if isinstance(node, (Binary, Promoted)):
        return (node.left, node.right)
    if isinstance(node, Conditional):
        return (node.condition, node.then, node.otherwise)
    if isinstance(node, ListOf):
        return node.items
    if isinstance(node, MapOf):
        return tuple(part for entry in node.entries for part in entry)
    if isinstance(node, Message):
        return tuple(value for _, value in node.fields)
    return ()


# What an expression refers to --------------------------------------------------------


@dataclass
class References:
    """What a tree uses: free ``names``, ``bound`` macro variables, ``functions``
    called as ``f(...)`` (``calls``) or as ``x.f(...)`` (``methods``), and the
    ``messages`` it would build (``Name{...}``)."""

    names: set[str] = field(default_factory=set)
    bound: set[str] = field(default_factory=set)
    calls: set[str] = field(default_factory=set)
    methods: set[str] = field(default_factory=set)
    method_arities: set[tuple[str, int]] = field(default_factory=set)
    messages: set[str] = field(default_factory=set)

    @property
    def functions(self) -> set[str]:
        return self.calls | self.methods


def _macro_variable(node: Call) -> str | None:
    """The variable a comprehension macro binds (``x`` of ``list.all(x, p)``)."""
    if node.target is None or node.function not in MACROS or not node.args:
        return None
    arity = (2, 3) if node.function == "map" else (2,)
    first = node.args[0]
    if len(node.args) in arity and isinstance(first, Ident) and "." not in first.name:
        return first.name
    return None


def references(tree: Node) -> References:
    """The names and functions ``tree`` uses; names bound by a macro are free only
    outside it."""
    found = References()

    def visit(node: Node, scope: frozenset[str]) -> None:
        if isinstance(node, Ident):
            if node.name not in scope:
                found.names.add(node.name)
            return
        if isinstance(node, Message):
            found.messages.add(node.name)
        if isinstance(node, Call):
            if node.target is None:
                found.calls.add(node.function)
            else:
                found.methods.add(node.function)
                found.method_arities.add((node.function, len(node.args)))
            variable = _macro_variable(node)
            if variable is not None and node.target is not None:
                found.bound.add(variable)
                visit(node.target, scope)
                for arg in node.args[1:]:
                    visit(arg, scope | {variable})
                return
        for child in _children(node):
            visit(child, scope)

    visit(tree, frozenset())
    return found


# Mixed arithmetic ------------------------------------------------------------------

_ARITHMETIC = frozenset({"+", "-", "*", "/"})
_NUMBERS = frozenset({"int", "uint", "double"})
_RESULT_OF_CALL = {
    "size": "int",
    "int": "int",
    "uint": "uint",
    "double": "double",
    "string": "string",
    "bytes": "bytes",
    "timestamp": "timestamp",
    "duration": "duration",
    "has": "bool",
}
_RESULT_OF_METHOD = {
    "size": "int",
    "contains": "bool",
    "startsWith": "bool",
    "endsWith": "bool",
    "matches": "bool",
    "all": "bool",
    "exists": "bool",
    "exists_one": "bool",
    "map": "list",
    "filter": "list",
}


def _type(node: Node) -> str | None:
    """The CEL type of ``node`` where it is known at load (literals, conversions,
    operators on them), else None."""
    if isinstance(node, Literal):
        return node.type
    if isinstance(node, ListOf):
        return "list"
    if isinstance(node, MapOf):
        return "map"
    if isinstance(node, Unary):
        inner = _type(node.operand)
        if node.op == "!":
            return "bool"
        return inner if inner in ("int", "double") else None
    if isinstance(node, Binary):
        if node.op in ("&&", "||", "<", "<=", ">", ">=", "==", "!=", "in"):
            return "bool"
        left, right = _type(node.left), _type(node.right)
        joined = {left, right} & {"string", "bytes", "list"}
        if node.op == "+" and len(joined) == 1:
            return joined.pop()  # concatenation (or an error either way)
        return left if left is not None and left == right else None
    if isinstance(node, Promoted):
        types = {_type(node.left), _type(node.right)}
        return "double" if "double" in types and types <= _NUMBERS else None
    if isinstance(node, Conditional):
        then, otherwise = _type(node.then), _type(node.otherwise)
        return then if then == otherwise else None
    if isinstance(node, Call):
        if node.target is None:
            return _RESULT_OF_CALL.get(node.function)
        if node.function.startswith("get"):
            return "int"
        return _RESULT_OF_METHOD.get(node.function)
    return None


def _rewrite(node: Node) -> Node:
    """``node`` with its mixed arithmetic promoted, children first."""
    if isinstance(node, (Literal, Ident)):
        return node
    if isinstance(node, Select):
        return Select(_rewrite(node.operand), node.field)
    if isinstance(node, Call):
        target = None if node.target is None else _rewrite(node.target)
        return Call(node.function, target, tuple(_rewrite(a) for a in node.args))
    if isinstance(node, Index):
        return Index(_rewrite(node.operand), _rewrite(node.index))
    if isinstance(node, Unary):
        return Unary(node.op, _rewrite(node.operand))
    if isinstance(node, Conditional):
        return Conditional(_rewrite(node.condition), _rewrite(node.then), _rewrite(node.otherwise))
    if isinstance(node, ListOf):
        return ListOf(tuple(_rewrite(item) for item in node.items))
    if isinstance(node, MapOf):
        return MapOf(tuple((_rewrite(k), _rewrite(v)) for k, v in node.entries))
    if isinstance(node, Message):
        return Message(node.name, tuple((n, _rewrite(v)) for n, v in node.fields))
    if isinstance(node, Promoted):
        return node
    left, right = _rewrite(node.left), _rewrite(node.right)
    if node.op not in _ARITHMETIC:
        return Binary(node.op, left, right)
    types = (_type(left), _type(right))
    if types[0] == types[1] and types[0] is not None:
        return Binary(node.op, left, right)  # the same type: CEL's own operator
    if any(t is not None and t not in _NUMBERS for t in types):
        return Binary(node.op, left, right)  # text, lists, times: no promotion applies
    if None not in types:  # both numbers, known: promote here
        if types[0] == "double":
            return Binary(node.op, left, Call("double", None, (right,)))
        if types[1] == "double":
            return Binary(node.op, Call("double", None, (left,)), right)
        return Binary(node.op, left, right)  # int and uint: CEL refuses, as before
    return Promoted(node.op, left, right)


def promote(tree: Node) -> str | None:
    """The source of ``tree`` with mixed int/double arithmetic made to work, or None
    when nothing needs rewriting (the original source is used as it is)."""
    rewritten = _rewrite(tree)
    return None if rewritten == tree else unparse(rewritten)


# Writing ---------------------------------------------------------------------------


def _tight(node: Node) -> str:
    """``node`` as an operand of ``.``, ``[]`` or a unary operator."""
    text = unparse(node)
    if isinstance(node, (Ident, Select, Call, Index, ListOf, MapOf)):
        return text
    return f"({text})"


def unparse(node: Node) -> str:
    """CEL source of ``node`` (parenthesised where it matters)."""
    if isinstance(node, Literal):
        return node.text
    if isinstance(node, Ident):
        return node.name
    if isinstance(node, Select):
        return f"{_tight(node.operand)}.{node.field}"
    if isinstance(node, Call):
        args = ", ".join(unparse(a) for a in node.args)
        prefix = "" if node.target is None else f"{_tight(node.target)}."
        return f"{prefix}{node.function}({args})"
    if isinstance(node, Index):
        return f"{_tight(node.operand)}[{unparse(node.index)}]"
    if isinstance(node, Unary):
        operand = node.operand
        if isinstance(operand, Literal):  # -9223372036854775808 is one literal
            return f"{node.op}{operand.text}"
        return f"{node.op}({unparse(operand)})"
    if isinstance(node, Binary):
        return f"({unparse(node.left)}) {node.op} ({unparse(node.right)})"
    if isinstance(node, Conditional):
        parts = (node.condition, node.then, node.otherwise)
        condition, then, otherwise = (unparse(p) for p in parts)
        return f"({condition}) ? ({then}) : ({otherwise})"
    if isinstance(node, ListOf):
        return "[" + ", ".join(unparse(i) for i in node.items) + "]"
    if isinstance(node, MapOf):
        return "{" + ", ".join(f"{unparse(k)}: {unparse(v)}" for k, v in node.entries) + "}"
    if isinstance(node, Message):
        return node.name + "{" + ", ".join(f"{n}: {unparse(v)}" for n, v in node.fields) + "}"
    return _promoted(node)


def _promoted(node: Promoted) -> str:
    """One comprehension over the pair, so each operand is evaluated once; ``type(0.0)``
    and the like rather than the names ``double``, ``int``, which a variable could hide."""
    a, b, op = f"{_PAIR}[0]", f"{_PAIR}[1]", node.op
    double, ints = "type(0.0)", "[type(0), type(0u)]"
    mixed = (
        f"(type({a}) == {double} && type({b}) in {ints})"
        f" || (type({b}) == {double} && type({a}) in {ints})"
    )
    body = (
        f"type({a}) == type({b}) ? {a} {op} {b}"
        f" : (({mixed}) ? double({a}) {op} double({b}) : {a} {op} {b})"
    )
    return f"[[{unparse(node.left)}, {unparse(node.right)}]].map({_PAIR}, {body})[0]"
