"""Rewrite one camera's zones and lines in the config file, keeping everything else.

The file is edited as text, not dumped again from data: comments, ``${VAR}``
references and the user's layout stay as they were; only the ``zones:`` and
``lines:`` values of that camera are replaced (written in YAML flow style). The
new text is validated with the config loader before it replaces the file, and
the replacement is atomic (a temporary file in the same folder, then a rename).

>>> text = "cameras:\\n  belt-1:  # the belt\\n    source: belt.mp4\\n"
>>> print(splice_shapes(text, "belt-1", {"belt": [(0, 0), (10, 0), (10, 5)]}, {}), end="")
cameras:
  belt-1:  # the belt
    zones: {belt: [[0, 0], [10, 0], [10, 5]]}
    source: belt.mp4
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from sightwire.config.loader import parse_config
from sightwire.config.models import SightwireConfig

Shapes = Mapping[str, Sequence[tuple[float, float]]]


class ConfigEditError(ValueError):
    """The file's layout does not allow a safe edit (e.g. the camera is not in it)."""


def flow_text(shapes: Shapes) -> str:
    """``{name: [[x, y], ...], ...}``: one line of YAML flow style."""
    items = [
        f"{name}: {json.dumps([[_num(x), _num(y)] for x, y in points])}"
        for name, points in shapes.items()
    ]
    return "{" + ", ".join(items) + "}"


def _num(value: float) -> float | int:
    """Whole pixels as ints (what people write); others to a tenth of a pixel."""
    rounded = round(float(value), 1)
    return int(rounded) if rounded.is_integer() else rounded


def splice_shapes(text: str, camera: str, zones: Shapes, lines: Shapes) -> str:
    """``text`` with ``camera``'s zones and lines replaced; ConfigEditError if it cannot."""
    text = _splice(text, camera, "zones", zones)
    return _splice(text, camera, "lines", lines)


def _splice(text: str, camera: str, key: str, shapes: Shapes) -> str:
    node = _camera_node(text, camera)
    value = flow_text(shapes)
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            # From the key's end (a block value starts lines below it) to the value's
            # end; a block value's span runs on to the next key: keep that whitespace.
            start, end = key_node.end_mark.index, value_node.start_mark.index
            end += len(text[end : value_node.end_mark.index].rstrip())
            return f"{text[:start]}: {value}{text[end:]}"
    if not shapes:
        return text  # nothing to write, and no key to empty
    if node.flow_style:
        at = node.start_mark.index + 1
        joiner = ", " if node.value else ""
        return f"{text[:at]}{key}: {value}{joiner}{text[at:]}"
    if not node.value:
        raise ConfigEditError(f"camera {camera!r} has no settings to put {key} beside")
    first = node.value[0][0].start_mark
    indent = " " * first.column
    return f"{text[: first.index]}{key}: {value}\n{indent}{text[first.index :]}"


def _camera_node(text: str, camera: str) -> yaml.MappingNode:
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    cameras = _child(root, "cameras")
    node = _child(cameras, camera)
    if not isinstance(node, yaml.MappingNode):
        raise ConfigEditError(f"camera {camera!r} is not a mapping written in this file")
    return node


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            found: yaml.Node = value_node
            return found
    return None


def rewrite_shapes(path: Path, camera: str, zones: Shapes, lines: Shapes) -> SightwireConfig:
    """Validate and write the config with ``camera``'s new zones and lines.

    Raises :class:`~sightwire.config.loader.ConfigError` (the new config is not
    valid; the file is unchanged) or ConfigEditError. Returns the new config.
    """
    text = path.read_text(encoding="utf-8")
    new_text = splice_shapes(text, camera, zones, lines)
    config = parse_config(new_text, str(path))
    written = config.cameras[camera]
    if _plain(written.zones) != _plain(zones) or _plain(written.lines) != _plain(lines):
        # Anchors or merge keys put the shapes elsewhere: refuse rather than guess.
        raise ConfigEditError(f"camera {camera!r}'s zones are defined elsewhere; edit by hand")
    write_atomically(path, new_text)
    return config


def _plain(shapes: Shapes) -> dict[str, list[list[float]]]:
    return {k: [[float(_num(x)), float(_num(y))] for x, y in v] for k, v in shapes.items()}


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so readers see the old file or the new, never half."""
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp).chmod(mode)
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
