"""The rule engine: observations in, events (and the actions to run) out.

For each observation, every rule whose trigger matches is tried in three steps:

1. filters (class, direction, ``min_confidence``, ``min_area``) and cooldowns;
2. its lookup, all lookups of the batch at once (each URL fetched once);
3. its condition ``when``, then debounce and minimum duration; if it fires, an
   :class:`~sightwire.core.Event` is made and the cooldowns start.

A failed lookup binds its name to null and ``lookup_error`` to the reason. The rule
still fires (``on_lookup_error: fire``, the default) unless its condition is false:
a condition that cannot be evaluated because the answer is missing counts as met,
so an object whose manifest cannot be fetched is not silently let through; the
event carries ``lookup_error`` (and ``condition_error``). Write
``manifest != null && ...`` to act only on answers, or set ``on_lookup_error: skip``.
A condition that fails on the observation itself (a field the object lacks) counts
as not met, and is counted in :attr:`RuleStats.condition_errors`.

Await :meth:`RuleEngine.evaluate` for each camera's frames in order; cameras may
be evaluated concurrently (tasks of one event loop).

>>> import asyncio
>>> from sightwire.analysis.observation import Observation, ObservedObject
>>> from sightwire.config.rules import RuleConfig
>>> rule = RuleConfig.model_validate({"name": "parcel.long", "on": {"line": "exit"},
...                                   "when": "object.length_mm > 600"})
>>> engine = RuleEngine([rule], clock=lambda: 10.0, site="dc-1")
>>> parcel = ObservedObject("parcel", (0, 0, 10, 10), 0.9, 7, {"length_mm": 640.0})
>>> watch = engine.triggers[0].watch
>>> seen = Observation("cross", "belt-1", watch, 9.5, 3.0, 0, line="exit", object=parcel)
>>> [o.event.type for o in asyncio.run(engine.evaluate([seen]))]
['com.sightwire.parcel.long']
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sightwire.actions.http_pool import HttpPool
from sightwire.analysis.observation import Observation, plain
from sightwire.analysis.triggers import Trigger
from sightwire.config.models import SightwireConfig
from sightwire.config.rules import LookupConfig, RuleConfig
from sightwire.core.event import Event, EventData, EventObject, ModelRef, latency_ms
from sightwire.rules.breaker import Clock
from sightwire.rules.compiled import CompiledRule, Problem, RuleConfigError, RuleStats, compile_rule
from sightwire.rules.condition import EvaluationError, Variables
from sightwire.rules.lookups import Lookup, LookupResult
from sightwire.rules.scope import RESERVED, Scope

log = logging.getLogger(__name__)
PRUNE_EVERY = 256
_LOOKUP_POOL_TIMEOUT_S = 60.0  # unused: each lookup's read() passes its own timeout
"""Evaluations between sweeps of finished cooldowns and broken runs."""


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """A rule fired: the event to record and the actions to run for it."""

    event: Event
    actions: tuple[str, ...]
    rule: str
    observation: Observation


@dataclass(slots=True)
class _Try:
    """One rule to try on one observation."""

    rule: CompiledRule
    observation: Observation
    scope: Scope
    cooling: bool = False
    lookup: LookupResult | None = None


class RuleEngine:
    """Evaluates ``rules`` on observations; see the module's description.

    ``clock`` gives the emit time of events and drives the lookup caches and
    breakers; ``models`` names the model of each camera for ``EventData.model``;
    ``client`` is the HTTP client of the lookups (one is made when needed).
    Raises :class:`RuleConfigError` listing every rule problem.
    """

    def __init__(
        self,
        rules: Sequence[RuleConfig],
        lookups: Mapping[str, LookupConfig] | None = None,
        clock: Clock = time.time,
        *,
        site: str = "default",
        models: Mapping[str, ModelRef] | None = None,
        client: HttpPool | None = None,
    ) -> None:
        self.clock = clock
        self.site = site
        self.models = dict(models or {})
        self._client = client
        self._own_client = client is None
        self.rules, problems = _compile(rules, lookups or {})
        if problems:
            raise RuleConfigError(problems)
        if client is None and any(rule.config.lookup for rule in self.rules):
            client = self._client = HttpPool(_LOOKUP_POOL_TIMEOUT_S)
        self.lookups = {
            name: Lookup(name, config, client, clock) for name, config in (lookups or {}).items()
        }
        self._index: dict[tuple[str, str], list[CompiledRule]] = {}
        for rule in self.rules:
            self._index.setdefault((rule.trigger.watch, rule.trigger.kind), []).append(rule)
        self._last: dict[str, tuple[float, int]] = {}  # camera -> (pts, tick)
        self._evaluations = 0

    @classmethod
    def from_config(cls, config: SightwireConfig, clock: Clock = time.time) -> RuleEngine:
        """The engine of a whole config file."""
        return cls(config.rules, config.lookups, clock, site=config.site)

    @property
    def triggers(self) -> list[Trigger]:
        """Every rule's trigger, for :class:`~sightwire.analysis.SceneAnalysis`."""
        return [rule.trigger for rule in self.rules]

    @property
    def stats(self) -> dict[str, RuleStats]:
        """Counters per rule name."""
        return {rule.name: rule.stats for rule in self.rules}

    async def evaluate(self, observations: Sequence[Observation]) -> list[RuleOutcome]:
        """The rules that fire on ``observations`` (one frame's, or several, in order)."""
        tries = [t for obs in observations for t in self._matches(obs)]
        await self._look_up([t for t in tries if t.rule.config.lookup and not t.cooling])
        outcomes = [o for o in (self._decide(t) for t in tries) if o is not None]
        self._evaluations += 1
        if self._evaluations % PRUNE_EVERY == 0:
            self._prune()
        return outcomes

    async def aclose(self) -> None:
        """Close the lookups' HTTP client."""
        if self._client is not None and self._own_client:
            await self._client.close()
            self._client = None
        for lookup in self.lookups.values():  # those with TLS settings of their own
            await lookup.aclose()

    def _matches(self, observation: Observation) -> list[_Try]:
        self._follow(observation)
        rules = self._index.get((observation.watch, observation.kind), ())
        tries: list[_Try] = []
        scope: Scope | None = None
        for rule in rules:
            if not rule.trigger.matches(observation) or not _big_enough(rule, observation):
                continue
            rule.stats.matched += 1
            cooling = rule.gate.cooling(observation)
            if cooling and not rule.gate.level:
                rule.stats.cooling += 1
                continue
            scope = scope or Scope(observation)
            tries.append(_Try(rule, observation, scope, cooling))
        return tries

    def _follow(self, observation: Observation) -> None:
        """Track each camera's time; a stream that went back in time starts afresh."""
        camera = observation.camera
        last = self._last.get(camera)
        if last is not None and observation.pts < last[0]:
            self.forget(camera)
        self._last[camera] = (observation.pts, observation.tick)

    async def _look_up(self, tries: list[_Try]) -> None:
        if not tries:
            return
        results = await asyncio.gather(
            *(
                self.lookups[t.rule.config.lookup or ""].fetch(t.scope.lookup_fields())
                for t in tries
            )
        )
        for t, result in zip(tries, results, strict=True):
            t.lookup = result

    def _decide(self, t: _Try) -> RuleOutcome | None:
        """Fire ``t``'s rule, or not. A level rule in cooldown still follows its
        condition (a spell that outlasts the cooldown does not fire again), except
        when that would take a lookup: then the spell simply goes on."""
        rule, observation = t.rule, t.observation
        config = rule.config
        if t.cooling and config.lookup:
            rule.gate.passes(observation, holds=True)
            rule.stats.cooling += 1
            return None
        failed = t.lookup is not None and not t.lookup.ok
        if failed:
            rule.stats.lookup_errors += 1
            if config.on_lookup_error == "skip":
                return None
        variables = t.scope.variables(rule.needs, self._binding(t))
        holds, error = self._condition(rule, variables, failed)
        if not holds:
            rule.stats.not_met += 1
        if not rule.gate.passes(observation, holds):
            return None
        if t.cooling or rule.gate.cooling(observation):  # or another of this batch fired
            rule.stats.cooling += 1
            return None
        extra: dict[str, Any] = {}
        if t.lookup is not None and t.lookup.error is not None:
            extra["lookup_error"] = t.lookup.error
        if error is not None:
            extra["condition_error"] = error
        outcome = self._emit(rule, observation, variables, extra)
        rule.gate.fired(observation)
        rule.stats.fired += 1
        return outcome

    def _binding(self, t: _Try) -> tuple[str, Any, str | None] | None:
        name = t.rule.config.lookup
        if name is None or t.lookup is None:
            return None
        return name, t.lookup.value, t.lookup.error

    @staticmethod
    def _condition(
        rule: CompiledRule, variables: Variables, lookup_failed: bool
    ) -> tuple[bool, str | None]:
        """Whether the condition holds, and the error that decided it, if any."""
        if rule.condition is None:
            return True, None
        try:
            return rule.condition.holds(variables), None
        except EvaluationError as exc:
            if lookup_failed:
                return True, str(exc)
            rule.stats.condition_errors += 1
            if rule.stats.last_condition_error is None:
                log.warning("rule %s: condition failed: %s", rule.name, exc)
            rule.stats.last_condition_error = str(exc)
            return False, str(exc)

    def _emit(
        self,
        rule: CompiledRule,
        observation: Observation,
        variables: Variables,
        extra: dict[str, Any],
    ) -> RuleOutcome:
        attributes = _observed(observation) | extra
        for key, template in rule.attributes.items():
            try:
                attributes[key] = template.render(variables)
            except EvaluationError:
                attributes[key] = None
        objects = [observation.object] if observation.object else list(observation.objects)
        now = self.clock()
        data = EventData(
            rule=rule.name,
            camera=observation.camera,
            captured_at=observation.captured_at,
            severity=rule.config.severity,
            objects=[
                EventObject(
                    class_name=o.class_name, box=o.box, confidence=o.confidence, track_id=o.track_id
                )
                for o in objects
            ],
            attributes=attributes,
            model=self.models.get(observation.camera),
            latency_ms=latency_ms(observation.captured_at, now),  # spares create() a copy
        )
        event = Event.create(
            site=self.site, camera=observation.camera, kind=rule.name, data=data, now=now
        )
        return RuleOutcome(event, tuple(rule.config.actions), rule.name, observation)

    def forget(self, camera: str) -> None:
        """Drop everything the rules remember of ``camera`` (cooldowns, debounce runs,
        its clock): its tracks are numbered afresh from here, so an old cooldown
        must not silence a new object that happens to get the same track id."""
        self._last.pop(camera, None)
        for rule in self.rules:
            rule.gate.forget(camera)

    def _prune(self) -> None:
        for camera, (pts, tick) in self._last.items():
            for rule in self.rules:
                rule.gate.forget(camera, pts, tick)


def _big_enough(rule: CompiledRule, observation: Observation) -> bool:
    obj = observation.object
    if obj is None:
        return True
    config = rule.config
    return obj.confidence >= config.min_confidence and obj.area >= config.min_area


def _observed(observation: Observation) -> dict[str, Any]:
    """The attributes every event gets: the object's data, then what was observed."""
    attributes: dict[str, Any] = {}
    if observation.object is not None:
        attributes.update(observation.object.data)
    attributes["observed"] = observation.kind
    for name in ("zone", "line", "direction", "sense"):
        value = getattr(observation, name)
        if value is not None:
            attributes[name] = value
    attributes.update({k: plain(v) for k, v in observation.measurements.items()})
    return attributes


def _compile(
    rules: Sequence[RuleConfig], lookups: Mapping[str, LookupConfig]
) -> tuple[list[CompiledRule], list[Problem]]:
    compiled: list[CompiledRule] = []
    problems: list[Problem] = []
    for name in lookups:
        if name in RESERVED:
            problems.append((("lookups", name), f"{name!r} is a variable of every rule"))
    for index, rule in enumerate(rules):
        if rule.lookup is not None and rule.lookup not in lookups:
            problems.append(
                (("rules", index, "lookup"), f"no lookup named {rule.lookup!r} under lookups")
            )
        result, found = compile_rule(rule, index, lookups)
        problems += found
        if result is not None:
            compiled.append(result)
    return compiled, problems
