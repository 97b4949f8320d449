"""Safe templates for action URLs, headers, bodies, topics and messages.

A placeholder is a dotted path in braces, looked up in plain dicts built from the
event; nothing else is allowed inside the braces (no attribute access, no indexing
syntax, no format specs, no conversions, no expressions), so a template can never run
code or reach Python internals. ``{{`` and ``}}`` stand for literal braces.

What a path can start with:

- ``event.*``: the CloudEvent envelope (``{event.id}``, ``{event.type}``, ``{event.time}``,
  ``{event.subject}``, ``{event.data.camera}``)
- ``data.*``: the event's data (``{data.camera}``, ``{data.severity}``,
  ``{data.attributes.tracking_number}``, ``{data.objects.0.class_name}``)
- ``object.*``: the event's first object with the rule's attributes on top, so
  ``{object.tracking_number}`` reads ``data.attributes.tracking_number`` and
  ``{object.class_name}`` the first object's class (an ``object`` attribute wins)
- any other name: a rule attribute, e.g. ``{tracking_number}`` or ``{manifest.station}``

A missing field is a :class:`MissingFieldError` error naming it; the action reports it as
a failure that retrying cannot fix.

>>> ctx = {"event": {"id": "01J"}, "data": {"camera": "belt 1"}}
>>> Template.parse("https://wms/cams/{data.camera}/e/{event.id}").render(ctx, url_part)
'https://wms/cams/belt%201/e/01J'
>>> render_json({"n": "{data.camera}", "id": "e-{event.id}"}, ctx)
{'n': 'belt 1', 'id': 'e-01J'}
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sightwire.core import Event

Context = Mapping[str, Any]
Escape = Callable[[str], str]

_SEGMENT = r"(?:[A-Za-z_][A-Za-z0-9_\-]*|[0-9]+)"
_PATH = re.compile(rf"{_SEGMENT}(?:\.{_SEGMENT})*")
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_ROOTS = ("event", "data")


class TemplateSyntaxError(ValueError):
    """A template that cannot be parsed; reported when the config is loaded."""


class TemplateError(Exception):
    """A template that cannot be filled in from this event (retrying will not help)."""


class MissingFieldError(TemplateError):
    """A placeholder names a field the event does not have."""

    def __init__(self, path: str, template: str, available: list[str]) -> None:
        self.path = path
        have = f" (there: {', '.join(available)})" if available else ""
        super().__init__(f"no field {path!r} in the event for template {template!r}{have}")


@dataclass(frozen=True, slots=True)
class Field:
    """One ``{path}`` placeholder."""

    path: tuple[str, ...]

    @property
    def name(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: literal text and fields, in order."""

    text: str
    parts: tuple[str | Field, ...]

    @classmethod
    def parse(cls, text: str) -> Template:
        """Parse ``text``; raise :class:`TemplateSyntaxError` naming what is wrong."""
        parts: list[str | Field] = []
        pos = 0
        for match in _TOKEN.finditer(text):
            literal = text[pos : match.start()]
            pos = match.end()
            token = match.group(0)
            if token in ("{{", "}}"):
                parts.append(literal + token[0])
                continue
            if match.group(1) is None:
                raise TemplateSyntaxError(
                    f"unmatched {token!r} at character {match.start() + 1} in {text!r} "
                    "(write {{ or }} for a literal brace)"
                )
            parts.extend([literal, Field(_parse_path(match.group(1), text))])
        parts.append(text[pos:])
        return cls(text, tuple(_join_literals(parts)))

    @property
    def fields(self) -> tuple[Field, ...]:
        return tuple(p for p in self.parts if isinstance(p, Field))

    @property
    def single_field(self) -> Field | None:
        """The field when the template is exactly one placeholder, else ``None``."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Field):
            return self.parts[0]
        return None

    def render(self, context: Context, escape: Escape | None = None) -> str:
        """The text with every field's value (as text, then ``escape``\\d) filled in."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            text = as_text(self.value_of(part, context))
            out.append(escape(text) if escape else text)
        return "".join(out)

    def value_of(self, field: Field, context: Context) -> Any:
        """The value ``field`` names in ``context``, keeping its JSON type."""
        node: Any = context
        for depth, key in enumerate(field.path):
            if isinstance(node, Mapping) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                where = ".".join(field.path[:depth])
                raise MissingFieldError(field.name, self.text, _keys(node, where))
        return node


def check_template(text: str) -> str:
    """Validate a template's syntax for the config models; returns ``text``."""
    Template.parse(text)
    return text


def check_json_template(body: Any) -> Any:
    """Validate every string template inside a JSON body; returns ``body``."""
    if isinstance(body, str):
        Template.parse(body)
    elif isinstance(body, dict):
        for value in body.values():
            check_json_template(value)
    elif isinstance(body, list):
        for item in body:
            check_json_template(item)
    return body


def render_json(body: Any, context: Context) -> Any:
    """Fill in a JSON body. A string that is exactly one placeholder keeps the value's
    type (number, bool, object, list, null); other strings are filled in as text."""
    if isinstance(body, str):
        template = Template.parse(body)
        field = template.single_field
        return template.value_of(field, context) if field else template.render(context)
    if isinstance(body, dict):
        return {key: render_json(value, context) for key, value in body.items()}
    if isinstance(body, list):
        return [render_json(item, context) for item in body]
    return body


def event_context(event: Event) -> dict[str, Any]:
    """The plain dicts templates are resolved in (see the module docstring)."""
    envelope = event.model_dump(mode="json")
    data: dict[str, Any] = envelope["data"]
    attributes: dict[str, Any] = data.get("attributes") or {}
    first = data["objects"][0] if data.get("objects") else {}
    context: dict[str, Any] = {"object": {**first, **attributes}}
    context.update(attributes)
    context.update(event=envelope, data=data)
    return context


def as_text(value: Any) -> str:
    """A value as template text: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def url_part(text: str) -> str:
    """Percent-encode a value for a URL path segment or query value (``/`` included)."""
    if not text:
        raise TemplateError("an empty value would leave a gap in the URL")
    return quote(text, safe="")


def header_value(text: str) -> str:
    """Refuse line breaks, which would let a value add HTTP headers of its own."""
    if "\r" in text or "\n" in text:
        raise TemplateError("a header value may not contain a line break")
    return text


def _parse_path(inner: str, text: str) -> tuple[str, ...]:
    path = inner.strip()
    if not _PATH.fullmatch(path):
        raise TemplateSyntaxError(
            f"{{{inner}}} in {text!r} is not a field path: write dotted names like "
            "{event.id} or {data.attributes.tracking_number} (no spaces, calls, "
            "format specs or conversions)"
        )
    return tuple(path.split("."))


def _join_literals(parts: list[str | Field]) -> list[str | Field]:
    joined: list[str | Field] = []
    for part in parts:
        if isinstance(part, str) and joined and isinstance(joined[-1], str):
            joined[-1] += part
        elif part != "":
            joined.append(part)
    return joined


def _keys(node: Any, where: str) -> list[str]:
    if isinstance(node, Mapping):
        prefix = f"{where}." if where else ""
        return [f"{prefix}{key}" for key in sorted(node)][:12]
    return []
