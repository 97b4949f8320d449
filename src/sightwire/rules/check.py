"""Checks of ``rules:`` and ``lookups:`` against the whole config, for ``sightwire
validate``: conditions and attributes compile, lookup URLs are templates, and each
trigger can happen on some camera (its camera exists; tracking or a motion gate is
there when the trigger needs one).

>>> from sightwire.config.models import SightwireConfig
>>> config = SightwireConfig.model_validate({
...     "cameras": {"belt": {"source": "belt.mp4", "zones": {"dock": [[0, 0], [9, 0], [9, 9]]}}},
...     "rules": [{"name": "r", "on": {"zone": "dock"}, "when": "object.size >"}]})
>>> for _, message in rule_problems(config): print(message)
syntax: object.size > (column 14: the expression ends too early, expecting a value)
enter needs tracked objects: add '- track: {}' to the analyse list of camera belt
"""

from __future__ import annotations

from collections.abc import Iterator

from sightwire.analysis.triggers import Trigger
from sightwire.config.models import CameraConfig, SightwireConfig, TrackStep
from sightwire.config.rules import TRACKED_KINDS, RuleConfig
from sightwire.rules.compiled import Problem, compile_rule
from sightwire.rules.lookups import url_fields
from sightwire.rules.scope import RESERVED


def rule_problems(config: SightwireConfig) -> Iterator[Problem]:
    """Every problem of the config's rules and lookups, as (path, message)."""
    for name, lookup in config.lookups.items():
        if name in RESERVED:
            yield ("lookups", name), f"{name!r} is a variable of every rule; choose another name"
        try:
            url_fields(lookup.url)
        except ValueError as exc:
            yield ("lookups", name, "url"), str(exc)
    for index, rule in enumerate(config.rules):
        yield from compile_rule(rule, index, config.lookups)[1]
        yield from _trigger_problems(rule, index, config)


def _trigger_problems(rule: RuleConfig, index: int, config: SightwireConfig) -> Iterator[Problem]:
    on = rule.on
    where = ("rules", index, "on")
    if on.camera is not None and on.camera not in config.cameras:
        yield (*where, "camera"), f"no camera named {on.camera!r} under cameras"
        return
    trigger = Trigger.of(rule)
    cameras = {n: c for n, c in config.cameras.items() if trigger.applies_to(n, c)}
    if on.camera is not None:
        place = f"zone {on.zone!r}" if on.zone else f"line {on.line!r}"
        if not cameras and (on.zone or on.line):
            yield (*where, "zone" if on.zone else "line"), f"camera {on.camera} has no {place}"
            return
    needs_tracks = trigger.kind in TRACKED_KINDS or (trigger.kind == "anomaly" and on.score)
    if needs_tracks and cameras and not any(_tracks(c) for c in cameras.values()):
        names = ", ".join(sorted(cameras))
        yield (
            where,
            (
                f"{trigger.kind} needs tracked objects: add '- track: {{}}' to the analyse list "
                f"of camera {names}"
            ),
        )
    if trigger.kind == "still":
        quiet = sorted(n for n, c in cameras.items() if not _gated(c))
        if quiet and len(quiet) == len(cameras):
            yield (
                where,
                (f"still needs a motion gate: add 'motion: {{}}' to camera {', '.join(quiet)}"),
            )


def _tracks(camera: CameraConfig) -> bool:
    return any(isinstance(step, TrackStep) for step in camera.analyse)


def _gated(camera: CameraConfig) -> bool:
    return camera.motion is not None and camera.motion.enabled
