"""From frame results to events: scene analysis per camera, then the rule engine.

>>> # events = CameraEvents(config, loop)        # one per run
>>> # outcomes = events.process("belt-1", result)  # from that camera's thread
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sightwire.analysis import SceneAnalysis
from sightwire.config.models import CameraConfig, SightwireConfig
from sightwire.core.event import ModelRef
from sightwire.rules import RuleEngine, RuleOutcome
from sightwire.runtime.event_loop import EventLoopThread
from sightwire.runtime.pipeline import FrameResult

log = logging.getLogger("sightwire.events")
OutcomeListener = Callable[[RuleOutcome, FrameResult], None]


class CameraEvents:
    """Turns each camera's frame results into rule outcomes, in frame order."""

    def __init__(self, config: SightwireConfig, loop: EventLoopThread) -> None:
        self.loop = loop
        self.engine = RuleEngine.from_config(config)
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

    def process(self, camera: str, result: FrameResult) -> list[RuleOutcome]:
        """Observe ``result`` and evaluate the rules; the events also land in
        ``result.events``. Frames the motion gate skipped count too: time passes."""
        scene = self.scenes[camera]
        observations = scene.observe(result.frame, None if result.skipped else result.detections)
        if not observations:
            return []
        outcomes = self.loop.call(self.engine.evaluate(observations))
        result.events.extend(outcome.event for outcome in outcomes)
        return outcomes

    def close(self) -> None:
        self.loop.call(self.engine.aclose(), timeout=2)
