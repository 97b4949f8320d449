"""Mixed int/double arithmetic rewritten, and the tree written back as source."""

from __future__ import annotations

from sightwire.rules.syntax.nodes import (
    Binary,
    Call,
    Conditional,
    Ident,
    Index,
    ListOf,
    Literal,
    MapOf,
    Message,
    Node,
    Promoted,
    Select,
    Unary,
)

_PAIR = "__sw"  # the variable the rewritten arithmetic binds (see BOUND_PREFIX)

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
