"""What an expression refers to: free names, macro variables, functions."""

from __future__ import annotations

from dataclasses import dataclass, field

from sightwire.rules.syntax.nodes import (
    MACROS,
    Binary,
    Call,
    Conditional,
    Ident,
    Index,
    ListOf,
    MapOf,
    Message,
    Node,
    Promoted,
    Select,
    Unary,
)


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
    ``messages`` it would build (``Name{...}``).

    ``fields`` holds, for each free name used only as ``name.field``, the fields
    selected; a name used any other way (``size(object)``, ``object["x"]``) is not
    in it, since the expression may read all of it.
    """

    names: set[str] = field(default_factory=set)
    fields: dict[str, set[str]] = field(default_factory=dict)
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
    whole: set[str] = set()  # free names used other than as name.field

    def visit(node: Node, scope: frozenset[str]) -> None:
        if isinstance(node, Select) and isinstance(node.operand, Ident):
            name = node.operand.name
            if name not in scope:
                found.names.add(name)
                found.fields.setdefault(name, set()).add(node.field)
            return
        if isinstance(node, Ident):
            if node.name not in scope:
                found.names.add(node.name)
                whole.add(node.name)
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
    for name in whole:
        found.fields.pop(name, None)
    return found
