"""Frames through SceneAnalysis and the RuleEngine, as the run loop will do it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sightwire.analysis import SceneAnalysis
from sightwire.config.models import CameraConfig
from sightwire.config.rules import LookupConfig, RuleConfig
from sightwire.core import Detections, Frame
from sightwire.rules import RuleEngine, RuleOutcome
from tests.analysis.scenes import EPOCH, Mover, frame, tracked

Step = tuple[Frame, Detections | None]


class Clock:
    """Emit time: 50 ms after the latest frame's capture, moved by the flow."""

    def __init__(self) -> None:
        self.now = EPOCH

    def __call__(self) -> float:
        return self.now


def rules(*specs: dict[str, Any]) -> list[RuleConfig]:
    """Rules from dicts as the YAML would give them (names r0, r1, ... unless given)."""
    return [RuleConfig.model_validate({"name": f"r{i}", **s}) for i, s in enumerate(specs)]


def steps(
    movers: Callable[[int, float], Sequence[Mover]], at: Iterable[float], **metadata: Any
) -> list[Step]:
    """A frame per time, showing ``movers(index, t)``."""
    return [(frame(t, i, metadata), tracked(movers(i, t), t)) for i, t in enumerate(at)]


def run(
    camera: CameraConfig,
    rule_list: list[RuleConfig],
    frames: Iterable[Step],
    lookups: dict[str, LookupConfig] | None = None,
    engine: RuleEngine | None = None,
    analysers: Sequence[Any] = (),
) -> tuple[list[RuleOutcome], RuleEngine]:
    """Outcomes of every frame; ``analysers`` (e.g. measure) run before the scene."""
    clock = engine.clock if engine is not None and isinstance(engine.clock, Clock) else Clock()
    engine = engine or RuleEngine(rule_list, lookups, clock, site="dc-berlin")
    scene = SceneAnalysis("belt-1", camera, engine.triggers)

    async def flow() -> list[RuleOutcome]:
        out: list[RuleOutcome] = []
        try:
            for f, detections in frames:
                if detections is not None:
                    for analyser in analysers:
                        detections = analyser.analyse(f, detections)
                clock.now = f.captured_at + 0.05
                out += await engine.evaluate(scene.observe(f, detections))
        finally:
            await engine.aclose()
        return out

    return asyncio.run(flow()), engine
