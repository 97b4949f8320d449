"""Attribute values of a rule: literals, or text with CEL expressions in braces.

``"{object.length_mm}"`` (one expression and nothing else) keeps the value's type:
a number stays a number. ``"parcel {object.barcode} is {object.length_mm} mm"``
gives text. Text without braces, numbers, booleans and null are taken as they are.
``{{`` and ``}}`` stand for literal braces.

>>> from sightwire.rules.condition import to_cel
>>> variables = to_cel({"object": {"length_mm": 612.5, "barcode": "1Z9"}})
>>> Template("{object.length_mm}", {"object"}).render(variables)
612.5
>>> Template("parcel {object.barcode}: {object.length_mm} mm", {"object"}).render(variables)
'parcel 1Z9: 612.5 mm'
>>> Template("QC", {"object"}).render(variables)
'QC'
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sightwire.rules.condition import Expression, ExpressionError, Variables


def _split(text: str) -> list[str | tuple[str]]:
    """Literal runs (str) and expressions (1-tuples) of ``text``."""
    parts: list[str | tuple[str]] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        pair = text[i : i + 2]
        if pair in ("{{", "}}"):
            literal.append(pair[0])
            i += 2
        elif text[i] == "{":
            end = text.find("}", i + 1)
            if end < 0:
                raise ExpressionError("a { without its }")
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append((text[i + 1 : end].strip(),))
            i = end + 1
        elif text[i] == "}":
            raise ExpressionError("a } without its { (write }} for a literal brace)")
        else:
            literal.append(text[i])
            i += 1
    if literal:
        parts.append("".join(literal))
    return parts


def _text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Template:
    """One attribute value: checked at load, rendered per event."""

    def __init__(self, value: str | float | bool | None, names: Collection[str]) -> None:
        self.value = value
        self.parts: list[str | Expression] = []
        if isinstance(value, str):
            for part in _split(value):
                if isinstance(part, tuple):
                    if not part[0]:
                        raise ExpressionError("empty {} in a template")
                    self.parts.append(Expression(part[0], names))
                else:
                    self.parts.append(part)

    @property
    def expressions(self) -> list[Expression]:
        """The expressions between its braces."""
        return [p for p in self.parts if isinstance(p, Expression)]

    @property
    def names(self) -> frozenset[str]:
        """The variables the template's expressions use."""
        return frozenset().union(*(p.names for p in self.expressions))

    def render(self, variables: Variables | Mapping[str, Any]) -> Any:
        """The value; raises :class:`~sightwire.rules.condition.EvaluationError`."""
        if not isinstance(self.value, str):
            return self.value
        if len(self.parts) == 1 and isinstance(self.parts[0], Expression):
            return self.parts[0].evaluate(variables)
        return "".join(
            p if isinstance(p, str) else _text(p.evaluate(variables)) for p in self.parts
        )
