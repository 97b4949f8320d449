"""Load and check a config file, reporting every problem at once with its line.

>>> from pathlib import Path
>>> import tempfile
>>> p = Path(tempfile.mkdtemp()) / "cfg.yaml"
>>> _ = p.write_text("version: 1\\ncameras:\\n  c1: {source: clip.mp4, fps: -1}\\n")
>>> try:
...     load_config(p)
... except ConfigError as e:
...     print(str(e).splitlines()[0].split("/")[-1])
cfg.yaml:3: cameras.c1.fps: Input should be greater than 0
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path as FilePath
from typing import Any

from pydantic import ValidationError

from sightwire.config.models import SightwireConfig
from sightwire.config.yaml_source import ConfigIssue, Path, YamlDocument, dotted, parse_yaml

MAX_CONFIG_BYTES = 4 * 1024 * 1024


class ConfigError(Exception):
    """A config that cannot be used; ``issues`` lists every problem found."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = sorted(issues, key=lambda i: (i.file, i.line, i.path))
        super().__init__("\n".join(str(i) for i in self.issues))


def load_config(path: str | FilePath, environ: Mapping[str, str] | None = None) -> SightwireConfig:
    """Read, expand and validate a config file; raise ConfigError listing every problem."""
    file = str(path)
    try:
        raw = FilePath(path).read_bytes()
    except OSError as exc:
        raise ConfigError([ConfigIssue(file, 1, "", f"cannot read: {exc.strerror}")]) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError([ConfigIssue(file, 1, "", "larger than 4 MiB; is this a config?")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigIssue(file, 1, "", f"not UTF-8 text ({exc.reason})")]) from None
    return parse_config(text, file, environ)


def parse_config(text: str, file: str, environ: Mapping[str, str] | None = None) -> SightwireConfig:
    """Like :func:`load_config` for text already in memory."""
    doc = parse_yaml(text, file, environ)
    issues = list(doc.issues)
    if doc.data is not None and not isinstance(doc.data, dict):
        issues.append(ConfigIssue(file, 1, "", "the config must be a mapping of settings"))
        raise ConfigError(issues)
    if doc.data is None:  # a YAML syntax error, already reported
        raise ConfigError(issues)
    try:
        config = SightwireConfig.model_validate(doc.data)
    except ValidationError as exc:
        issues.extend(_validation_issues(exc, doc))
        raise ConfigError(issues) from None
    issues.extend(_reference_issues(config, doc))
    if issues:
        raise ConfigError(issues)
    return config


def _validation_issues(exc: ValidationError, doc: YamlDocument) -> Iterator[ConfigIssue]:
    for error in exc.errors(include_url=False):
        path = _data_path(doc.data, error["loc"])
        yield ConfigIssue(doc.file, doc.line_of(path), dotted(path), _message(error))


def _data_path(data: Any, loc: tuple[int | str, ...]) -> Path:
    """Pydantic's error location as a path through the user's data.

    Tagged unions add their tag to the location (``actions.qc.http.url``); such parts
    are dropped, except a final one, which names a missing field.
    """
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if _has(node, part):
            node = node[part]
        elif i == len(loc) - 1:
            path.append(part)
            break
        else:
            continue
        path.append(part)
    return tuple(path)


def _has(node: Any, part: int | str) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown setting (check the spelling; `sightwire config schema` lists them all)"
    if error["type"] == "missing":
        return "required setting is missing"
    return str(error["msg"])


def _read_zones(step: object) -> Iterator[tuple[str, str]]:
    """(``barcode`` or ``ocr``, zone) for a step that reads inside a camera's zone."""
    for kind in ("barcode", "ocr"):
        zone = getattr(getattr(step, kind, None), "zone", None)
        if zone is not None:
            yield kind, zone


def _reference_issues(config: SightwireConfig, doc: YamlDocument) -> Iterator[ConfigIssue]:
    """Names that point at nothing: a rule's lookup or action, a trigger's line or zone;
    and rules that cannot work (see :func:`sightwire.rules.check.rule_problems`)."""
    from sightwire.config.sensors import weigh_problems
    from sightwire.rules.check import rule_problems  # the rules import config: load late

    lines = {name for cam in config.cameras.values() for name in cam.lines}
    zones = {name for cam in config.cameras.values() for name in cam.zones}

    def issue(path: Path, message: str) -> ConfigIssue:
        return ConfigIssue(doc.file, doc.line_of(path), dotted(path), message)

    for i, rule in enumerate(config.rules):
        where: Path = ("rules", i)
        if rule.lookup and rule.lookup not in config.lookups:
            yield issue((*where, "lookup"), f"no lookup named {rule.lookup!r} under lookups")
        for j, action in enumerate(rule.actions):
            if action not in config.actions:
                yield issue((*where, "actions", j), f"no action named {action!r} under actions")
        if rule.on.line and rule.on.line not in lines:
            yield issue((*where, "on", "line"), f"no camera has a line named {rule.on.line!r}")
        if rule.on.zone and rule.on.zone not in zones:
            yield issue((*where, "on", "zone"), f"no camera has a zone named {rule.on.zone!r}")
    for path, message in rule_problems(config):
        yield issue(path, message)
    for path, message in weigh_problems(config):
        yield issue(path, message)
    for name, camera in config.cameras.items():
        for k, step in enumerate(camera.analyse):
            for kind, zone in _read_zones(step):
                if zone not in camera.zones:
                    yield issue(
                        ("cameras", name, "analyse", k, kind, "zone"),
                        f"camera {name!r} has no zone named {zone!r}",
                    )
            model = getattr(getattr(step, "detect", None), "model", None)
            if model and model.partition("@")[0] not in config.models:
                yield issue(
                    ("cameras", name, "analyse", k, "detect", "model"),
                    f"no model named {model.partition('@')[0]!r} under models "
                    "(declare registry models there without a path)",
                )
