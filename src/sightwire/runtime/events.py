"""From frame results to events: scene analysis per camera, then the rule engine.

Rules that fetch nothing (no ``lookup:``) never wait: their evaluation is plain CPU
work that finishes in one step. Camera threads run it themselves, one at a time
under a lock, instead of handing each frame to the event loop and waiting to be
woken with the answer; those two thread hand-offs cost more than the rules (about
0.2 ms of CPU a frame, most of it futex and self-pipe wake-ups). Rule sets with
lookups run on the event loop as before (the lookups' HTTP client lives there).
Either way each camera's events come in frame order: its thread waits for them.

>>> # events = CameraEvents(config, loop)        # one per run
>>> # outcomes = events.process("belt-1", result)  # from that camera's thread
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from sightwire.analysis import Observation, SceneAnalysis
from sightwire.config.models import CameraConfig, SightwireConfig
from sightwire.core.event import ModelRef
from sightwire.rules import RuleEngine, RuleOutcome
from sightwire.runtime.event_loop import EventLoopThread
from sightwire.runtime.pipeline import FrameResult

log = logging.getLogger("sightwire.events")
OutcomeListener = Callable[[RuleOutcome, FrameResult], None]
T = TypeVar("T")


class RuleRunner:
    """Evaluates a rule engine for camera threads: inline when no rule looks
    anything up, else on the event loop (see the module doc)."""

    def __init__(self, engine: RuleEngine, loop: EventLoopThread) -> None:
        self.engine = engine
        self.loop = loop
        self.inline = not any(rule.config.lookup for rule in engine.rules)
        self._lock = threading.Lock()  # the engine's state is not thread-safe

    def evaluate(self, observations: Sequence[Observation]) -> list[RuleOutcome]:
        """The outcomes of ``observations``, from any thread."""
        if not self.inline:
            return self.loop.call(self.engine.evaluate(observations))
        with self._lock:
            return run_to_end(self.engine.evaluate(observations))

    def forget(self, camera: str) -> None:
        """:meth:`RuleEngine.forget`, on the thread that evaluates the rules."""
        if self.inline:
            with self._lock:
                self.engine.forget(camera)
            return

        async def forget() -> None:
            self.engine.forget(camera)

        self.loop.call(forget())


def run_to_end(coroutine: Coroutine[Any, Any, T]) -> T:
    """The result of a coroutine that never suspends, run on this thread.

    >>> async def two() -> int:
    ...     return 2
    >>> run_to_end(two())
    2
    """
    try:
        coroutine.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    coroutine.close()
    raise RuntimeError("the coroutine awaited something: it must run on an event loop")


class CameraEvents:
    """Turns each camera's frame results into rule outcomes, in frame order."""

    def __init__(self, config: SightwireConfig, loop: EventLoopThread) -> None:
        self.loop = loop
        self.engine = RuleEngine.from_config(config)
        self.rules = RuleRunner(self.engine, loop)
        self.scenes = {
            name: SceneAnalysis(name, camera, self.engine.triggers)
            for name, camera in config.cameras.items()
        }

    def set_model(self, camera: str, name: str, version: str) -> None:
        """Name the model (and version) that events of ``camera`` come from."""
        self.engine.models[camera] = ModelRef(name=name, version=version)

    def replace_camera(self, camera: str, config: CameraConfig) -> None:
        """Analyse ``camera`` with new zones and lines from its next frame on (the
        zone editor's hook). Its watches start afresh: tracks and timers reset."""
        self.scenes[camera] = SceneAnalysis(camera, config, self.engine.triggers)

    def start_afresh(self, camera: str, config: CameraConfig) -> None:
        """Forget all of ``camera``: its scene and what the rules remember of its
        objects. For a camera whose tracker starts over (a worker taking it over),
        where track ids are numbered afresh."""
        self.replace_camera(camera, config)
        self.rules.forget(camera)

    def process(self, camera: str, result: FrameResult) -> list[RuleOutcome]:
        """Observe ``result`` and evaluate the rules; the events also land in
        ``result.events``. Frames the motion gate skipped count too: time passes."""
        scene = self.scenes[camera]
        observations = scene.observe(result.frame, None if result.skipped else result.detections)
        if not observations:
            return []
        outcomes = self.rules.evaluate(observations)
        result.events.extend(outcome.event for outcome in outcomes)
        return outcomes

    def close(self) -> None:
        self.loop.call(self.engine.aclose(), timeout=2)
