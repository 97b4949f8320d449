"""Rule engine and scene analysis throughput: ``python -m benchmarks.rules``.

``run()`` returns the figures as a dict:

- ``cel_observations_per_s``: line-crossing observations through a rule with a CEL
  condition (no lookup), half of them firing an event, 10 per ``evaluate`` call
  (one frame's worth); ``cel_events_per_s`` the events made meanwhile;
- ``plain_observations_per_s``: the same through a rule without a condition (the
  engine's own cost: matching, controls, making events);
- ``cel_us_per_condition``: one condition evaluation (the Rust CEL library,
  package ``common-expression-language``) on variables already converted to CEL,
  microseconds;
- ``cel_us_per_conversion``: converting one object's fields (the variable
  ``object``, as the engine does once per observation) to CEL, microseconds;
- ``analysis_frames_per_s``: frames of 10 tracked objects through a camera's
  SceneAnalysis watching a zone (enter, exit, dwell), a line and a count.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from sightwire.analysis import Observation, ObservedObject, SceneAnalysis
from sightwire.config.models import CameraConfig
from sightwire.config.rules import RuleConfig
from sightwire.core import Detections, Frame
from sightwire.rules import RuleEngine
from sightwire.rules.condition import Expression, to_cel

CONDITION = "object.length_mm > 500 && object.confidence > 0.5"
OBSERVATIONS = 2000
PER_FRAME = 10


def _observations(watch: str) -> list[Observation]:
    """Line crossings of distinct parcels, every other one longer than 500 mm."""
    out = []
    for i in range(OBSERVATIONS):
        parcel = ObservedObject(
            "parcel",
            (1100.0, 300.0, 1300.0, 400.0),
            0.9,
            i + 1,
            {"length_mm": 600.0 if i % 2 else 300.0, "tracking_number": f"1Z{i:016d}"},
        )
        tick = i // PER_FRAME
        out.append(
            Observation(
                "cross",
                "belt-1",
                watch,
                1e9 + tick / 10,
                tick / 10,
                tick,
                line="exit",
                object=parcel,
                direction="out",
                sense="left_to_right",
            )
        )
    return out


def _engine_rate(when: str | None) -> tuple[float, float]:
    """Observations and events per second through one rule."""
    rule = RuleConfig.model_validate({"name": "parcel.long", "on": {"line": "exit"}, "when": when})
    engine = RuleEngine([rule], clock=lambda: 1e9, site="bench")
    observations = _observations(engine.triggers[0].watch)
    batches = [observations[i : i + PER_FRAME] for i in range(0, len(observations), PER_FRAME)]

    async def flow() -> int:
        return sum([len(await engine.evaluate(batch)) for batch in batches])

    start = time.perf_counter()
    events = asyncio.run(flow())
    elapsed = time.perf_counter() - start
    return len(observations) / elapsed, events / elapsed


def _condition_us() -> float:
    expression = Expression(CONDITION, {"object"})
    variables = to_cel({"object": {"length_mm": 600.0, "confidence": 0.9}})
    rounds = 2000
    start = time.perf_counter()
    for _ in range(rounds):
        expression.holds(variables)
    return (time.perf_counter() - start) / rounds * 1e6


def _conversion_us() -> float:
    parcel = _observations("bench")[1].object
    assert parcel is not None
    values = {"object": parcel.fields()}
    rounds = 2000
    start = time.perf_counter()
    for _ in range(rounds):
        to_cel(values)
    return (time.perf_counter() - start) / rounds * 1e6


def _analysis_rate(frames: int = 500) -> float:
    camera = CameraConfig(
        source="belt.mp4",
        zones={"belt": [[0, 120], [1280, 120], [1280, 600], [0, 600]]},
        lines={"exit": [[1180, 0], [1180, 720]]},
    )
    triggers: list[dict[str, Any]] = [
        {"zone": "belt", "event": "enter"},
        {"zone": "belt", "event": "exit"},
        {"zone": "belt", "event": "dwell", "seconds": 5},
        {"line": "exit"},
        {"zone": "belt", "event": "count", "class": "parcel"},
    ]
    rules = [RuleConfig.model_validate({"name": f"r{i}", "on": t}) for i, t in enumerate(triggers)]
    scene = SceneAnalysis("belt-1", camera, rules)
    image = np.zeros((720, 1280, 3), np.uint8)
    ids = np.arange(1, 11, dtype=np.int64)
    names = np.array(["parcel"] * 10)
    start = time.perf_counter()
    for i in range(frames):
        t = i / 25
        x = (np.arange(10) * 130 + 200 * t) % 1400 - 60
        boxes = np.stack([x, np.full(10, 300.0), x + 120, np.full(10, 400.0)], axis=1)
        confidence = np.full(10, 0.9, np.float32)
        detections = Detections(
            boxes.astype(np.float32),
            confidence,
            np.zeros(10, np.int64),
            ids,
            data={"class_name": names},
        )
        scene.observe(Frame("belt-1", i, 1e9 + t, t, image), detections)
    return frames / (time.perf_counter() - start)


def _median(fn: Callable[[], Any], rounds: int) -> Any:
    results = [fn() for _ in range(rounds)]
    if isinstance(results[0], tuple):
        return tuple(statistics.median(r[i] for r in results) for i in range(len(results[0])))
    return statistics.median(results)


def run(rounds: int = 3) -> dict[str, float]:
    """The figures (medians of ``rounds`` runs each)."""
    cel_obs, cel_events = _median(lambda: _engine_rate(CONDITION), rounds)
    plain_obs, plain_events = _median(lambda: _engine_rate(None), rounds)
    return {
        "cel_observations_per_s": round(cel_obs, 1),
        "cel_events_per_s": round(cel_events, 1),
        "plain_observations_per_s": round(plain_obs, 1),
        "plain_events_per_s": round(plain_events, 1),
        "cel_us_per_condition": round(_median(_condition_us, rounds), 1),
        "cel_us_per_conversion": round(_median(_conversion_us, rounds), 1),
        "analysis_frames_per_s": round(_median(_analysis_rate, rounds), 1),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
