"""YAML to plain data, remembering the line of every value and expanding ``${VAR}``.

PyYAML's composer keeps a mark on every node; walking the node tree ourselves lets
each validation error point at the line the user wrote, not at Python.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]
_BOOL_TAG = "tag:yaml.org,2002:bool"
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in a config file."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}: {where}{self.message}"


@dataclass(slots=True)
class YamlDocument:
    """Plain data from a YAML file, the line of each value, and problems found."""

    file: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    issues: list[ConfigIssue] = field(default_factory=list)

    def line_of(self, path: Path) -> int:
        """Line of the value at ``path``, or of its nearest enclosing value."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return 1


def parse_yaml(text: str, file: str, environ: Mapping[str, str] | None = None) -> YamlDocument:
    """Parse ``text``; ``${VAR}`` and ``${VAR:-default}`` are filled from ``environ``.

    >>> doc = parse_yaml("site: ${SITE}\\n", "cfg.yaml", {"SITE": "dc-1"})
    >>> doc.data, doc.lines[("site",)]
    ({'site': 'dc-1'}, 1)
    """
    env = os.environ if environ is None else environ
    doc = YamlDocument(file=file, data=None)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        doc.issues.append(ConfigIssue(file, line, "", f"YAML syntax: {exc.problem}"))
        return doc
    if root is None:
        doc.data = {}
        return doc
    walker = _Walker(doc, env)
    doc.data = walker.value(root, ())
    return doc


class _Walker:
    def __init__(self, doc: YamlDocument, environ: Mapping[str, str]) -> None:
        self.doc = doc
        self.environ = environ
        self.constructor = yaml.SafeLoader("")

    def value(self, node: yaml.Node, path: Path) -> Any:
        self.doc.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.value(item, (*path, i)) for i, item in enumerate(node.value)]
        scalar = self.scalar(node)
        if isinstance(scalar, str):
            return self.expand(scalar, path, node.start_mark.line + 1)
        return scalar

    def mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        self.constructor.flatten_mapping(node)  # resolves "<<" merge keys
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            # Keys are names: `on:` is the text "on", never YAML 1.1's boolean.
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            line = key_node.start_mark.line + 1
            if key is None:
                self.issue(line, path, "keys must be plain names, not lists or mappings")
                continue
            if key in result:
                self.issue(line, (*path, key), "duplicate key (an earlier one would be lost)")
            result[key] = self.value(value_node, (*path, key))
        return result

    def scalar(self, node: yaml.Node) -> Any:
        """A scalar under YAML 1.2's rules: only true/false are booleans, so
        `faces: off` stays the text "off" (PyYAML follows YAML 1.1 here)."""
        if node.tag == _BOOL_TAG and str(node.value).lower() not in ("true", "false"):
            return str(node.value)
        return self.constructor.construct_object(node, deep=True)

    def expand(self, text: str, path: Path, line: int) -> str:
        def substitute(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in self.environ:
                return self.environ[name]
            if default is not None:
                return default
            self.issue(line, path, f"environment variable {name} is not set")
            return match.group(0)

        return _VAR.sub(substitute, text)

    def issue(self, line: int, path: Path, message: str) -> None:
        self.doc.issues.append(ConfigIssue(self.doc.file, line, dotted(path), message))


def dotted(path: Path) -> str:
    """``("cameras", "belt-1", "zones", 0)`` → ``cameras.belt-1.zones[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
