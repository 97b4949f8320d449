"""Reading CEL source into a syntax tree."""

from __future__ import annotations

import re

from sightwire.rules.syntax.nodes import (
    KEYWORDS,
    Binary,
    Call,
    CelSyntaxError,
    Conditional,
    Ident,
    Index,
    ListOf,
    Literal,
    MapOf,
    Message,
    Node,
    Select,
    Unary,
)

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
