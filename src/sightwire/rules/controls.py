"""False-positive controls of one rule: debounce, minimum duration and cooldowns.

Times are stream times (``pts``) of each camera, so a recorded clip played fast
keeps the cooldowns of the scene. Keys: an observation is about an object (its
track) or, without one, about its zone, line or the frame.

- ``debounce`` K and ``min_duration_s`` D (for kinds observed every frame: inside,
  count): the condition must hold on K consecutive frames spanning at least D
  seconds; the rule then fires once, and again only after the condition has failed.
- ``cooldown_s``: after firing for an object (or a zone, without an object), quiet
  for that object for this long; ``zone_cooldown_s``: quiet for the zone or line.
  A spell (of inside or count) that outlasts the cooldown does not fire again.

>>> from sightwire.config.rules import RuleConfig
>>> gate = RuleGate(RuleConfig.model_validate(
...     {"name": "queue", "on": {"zone": "tills", "event": "count"}, "debounce": 2}))
>>> from sightwire.analysis.observation import Observation
>>> def seen(tick): return Observation("count", "cam", "w", 0.0, tick * 0.2, tick, zone="tills")
>>> [gate.passes(seen(t), holds=True) for t in range(4)]
[False, True, False, False]
"""

from __future__ import annotations

from dataclasses import dataclass

from sightwire.analysis.observation import Observation
from sightwire.config.rules import LEVEL_KINDS, RuleConfig

Key = tuple[str, str]


@dataclass(slots=True)
class _Run:
    """Consecutive frames on which the condition held, for one key."""

    first_tick: int
    last_tick: int
    started: float
    frames: int = 1
    fired: bool = False


def object_key(observation: Observation) -> Key:
    """Whom an observation is about: its track, else its zone or line, else the frame."""
    obj = observation.object
    if obj is not None and obj.track_id is not None:
        return observation.camera, f"track {obj.track_id}"
    return place_key(observation)


def place_key(observation: Observation) -> Key:
    """Where an observation is: its zone or line, else the whole frame."""
    return observation.camera, f"place {observation.place or '*'}"


class RuleGate:
    """Decides whether a rule whose condition held may fire now."""

    def __init__(self, rule: RuleConfig) -> None:
        self.rule = rule
        self.level = rule.on.kind in LEVEL_KINDS
        self._runs: dict[Key, _Run] = {}
        self._quiet: dict[Key, float] = {}  # key -> pts until which to stay quiet
        self._quiet_places: dict[Key, float] = {}

    def cooling(self, observation: Observation) -> bool:
        """Whether a cooldown keeps this observation quiet."""
        pts = observation.pts
        return (
            self._quiet.get(object_key(observation), -1e300) > pts
            or self._quiet_places.get(place_key(observation), -1e300) > pts
        )

    def passes(self, observation: Observation, holds: bool) -> bool:
        """Whether the condition (``holds``) has held long enough to fire now."""
        if not self.level:
            return holds
        key = object_key(observation)
        run = self._runs.get(key)
        if not holds:
            self._runs.pop(key, None)
            return False
        if run is None or observation.tick != run.last_tick + 1:
            run = self._runs[key] = _Run(observation.tick, observation.tick, observation.pts)
        elif observation.tick != run.last_tick:
            run.last_tick, run.frames = observation.tick, run.frames + 1
        lasted = observation.pts - run.started >= self.rule.min_duration_s
        if run.fired or run.frames < self.rule.debounce or not lasted:
            return False
        run.fired = True
        return True

    def fired(self, observation: Observation) -> None:
        """The rule fired for ``observation``: start its cooldowns."""
        if self.rule.cooldown_s > 0:
            self._quiet[object_key(observation)] = observation.pts + self.rule.cooldown_s
        if self.rule.zone_cooldown_s > 0:
            self._quiet_places[place_key(observation)] = observation.pts + self.rule.zone_cooldown_s

    def forget(self, camera: str, pts: float | None = None, tick: int | None = None) -> None:
        """Drop state of ``camera``: all of it, or only runs broken before ``tick`` and
        cooldowns over by ``pts``."""
        for table in (self._quiet, self._quiet_places):
            for key in [k for k, until in table.items() if k[0] == camera]:
                if pts is None or table[key] <= pts:
                    del table[key]
        for key in [k for k in self._runs if k[0] == camera]:
            if tick is None or self._runs[key].last_tick < tick - 1:
                del self._runs[key]
