"""A rule's trigger, normalised: what to analyse and which observations match.

Analysers that serve many rules at once (a zone's enters and exits serve every rule
on that zone) label each observation with a *watch*: a name of the analysis and its
settings. A rule matches an observation when the watch and kind are its own and the
class and direction fit.

>>> from sightwire.config.rules import RuleConfig
>>> rule = RuleConfig.model_validate(
...     {"name": "r", "on": {"zone": "dock", "event": "dwell", "seconds": 30}})
>>> Trigger.of(rule).watch
'dwell zone=dock anchor=center margin=5 seconds=30'
"""

from __future__ import annotations

from dataclasses import dataclass

from sightwire.analysis.observation import Observation
from sightwire.config.models import CameraConfig
from sightwire.config.rules import Anchor, Direction, ObservationKind, RuleConfig


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


@dataclass(frozen=True, slots=True)
class Trigger:
    """Everything a trigger asks of the analysers, defaults filled in."""

    kind: ObservationKind
    camera: str | None = None
    zone: str | None = None
    line: str | None = None
    class_name: str | None = None
    anchor: Anchor = "center"
    margin_px: float = 5.0
    direction: Direction = "any"
    seconds: float | None = None
    frames: int = 1
    window: int = 1
    above: float | None = None
    score: str | None = None
    frame_score: str | None = None
    min_confidence: float = 0.0
    min_area: float = 0.0

    @classmethod
    def of(cls, rule: RuleConfig) -> Trigger:
        """The trigger of ``rule`` (its ``on``, with its confidence and area floors)."""
        on = rule.on
        frames = on.frames or 1
        return cls(
            kind=on.kind,
            camera=on.camera,
            zone=on.zone,
            line=on.line,
            class_name=on.class_name,
            anchor=on.anchor,
            margin_px=on.margin_px,
            direction=on.direction,
            seconds=on.seconds,
            frames=frames,
            window=on.window or frames,
            above=on.above,
            score=on.score,
            frame_score=on.frame_score,
            min_confidence=rule.min_confidence,
            min_area=rule.min_area,
        )

    @property
    def watch(self) -> str:
        """The name of the analysis this trigger needs (shared by equal settings)."""
        place = f"anchor={self.anchor} margin={_num(self.margin_px)}"
        floors = f"confidence={_num(self.min_confidence)} area={_num(self.min_area)}"
        what = f"zone={self.zone or '*'} class={self.class_name or '*'}"
        kind = self.kind
        if kind in ("enter", "exit", "inside"):
            return f"zone zone={self.zone} {place}"
        if kind == "dwell":
            return f"dwell zone={self.zone} {place} seconds={_num(self.seconds)}"
        if kind == "cross":
            return f"line line={self.line} {place}"
        if kind in ("count", "count_change"):
            return f"count {what} anchor={self.anchor} frames={self.frames} {floors}"
        if kind == "absent":
            return f"absent {what} anchor={self.anchor} seconds={_num(self.seconds)} {floors}"
        if kind == "still":
            return f"still zone={self.zone or '*'} seconds={_num(self.seconds)}"
        source = f"score={self.score}" if self.score else f"frame_score={self.frame_score}"
        return (
            f"anomaly {what} anchor={self.anchor} {source} above={_num(self.above)} "
            f"frames={self.frames} window={self.window} {floors}"
        )

    def applies_to(self, camera: str, config: CameraConfig) -> bool:
        """Whether this trigger can happen on ``camera``: right camera, and its zone
        or line exists there."""
        if self.camera is not None and self.camera != camera:
            return False
        if self.zone is not None and self.zone not in config.zones:
            return False
        return self.line is None or self.line in config.lines

    def matches(self, observation: Observation) -> bool:
        """Whether ``observation`` is one this trigger reacts to."""
        if observation.watch != self.watch or observation.kind != self.kind:
            return False
        if self.camera is not None and observation.camera != self.camera:
            return False
        obj = observation.object
        if self.class_name is not None and obj is not None and obj.class_name != self.class_name:
            return False
        return self.direction in ("any", observation.direction, observation.sense)
