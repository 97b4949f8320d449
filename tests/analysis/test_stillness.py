"""Stillness: a zone that moved goes quiet for a while (a jammed conveyor)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sightwire.analysis import Observation, SceneAnalysis
from sightwire.config.models import CameraConfig, MotionConfig
from sightwire.config.rules import RuleConfig
from sightwire.core import Detections
from sightwire.core.frame import MOTION_BOXES
from tests.analysis.scenes import frame, times, tracked

BELT = [[0, 120], [1280, 120], [1280, 600], [0, 600]]
ON_BELT = [[500, 300, 600, 400]]
ABOVE_BELT = [[500, 0, 600, 80]]


def scene(seconds: float = 2.0) -> SceneAnalysis:
    camera = CameraConfig(source="belt.mp4", zones={"belt": BELT}, motion=MotionConfig())
    rule = RuleConfig.model_validate(
        {"name": "jam", "on": {"zone": "belt", "event": "still", "seconds": seconds}}
    )
    return SceneAnalysis("belt-1", camera, [rule])


def feed(
    s: SceneAnalysis, boxes: Sequence[Sequence[float]] | None, at: list[float]
) -> list[Observation]:
    """Frames whose motion gate found ``boxes`` (None: the gate skipped them as idle)."""
    out = []
    for i, t in enumerate(at):
        if boxes is None:
            out += s.observe(frame(t, i), None)
        else:
            motion = np.array(boxes, np.float32).reshape(-1, 4)
            out += s.observe(frame(t, i, {MOTION_BOXES: motion}), _nothing())
    return out


def _nothing() -> Detections:
    return tracked([], 0.0)


def test_a_belt_that_stops_is_still_after_seconds_once() -> None:
    s = scene()
    seen = feed(s, ON_BELT, times(3))
    seen += feed(s, [], times(5, start=3))
    assert [o.kind for o in seen] == ["still"]
    assert 4.85 <= seen[0].pts <= 4.95  # 2 s after the last motion at 2.9
    assert seen[0].zone == "belt" and seen[0].measurements["still_s"] >= 2.0
    again = feed(s, ON_BELT, times(1, start=8)) + feed(s, [], times(3, start=9))
    assert [round(o.pts, 1) for o in again] == [10.9]


def test_motion_elsewhere_does_not_keep_the_belt_alive() -> None:
    s = scene()
    seen = feed(s, ON_BELT, times(1)) + feed(s, ABOVE_BELT, times(3, start=1))
    assert [round(o.pts, 1) for o in seen] == [2.9]


def test_idle_frames_the_gate_skipped_are_stillness() -> None:
    s = scene()
    seen = feed(s, ON_BELT, times(1)) + feed(s, None, times(3, start=1))
    assert [round(o.pts, 1) for o in seen] == [2.9]


def test_a_belt_never_seen_moving_is_not_reported() -> None:
    s = scene()
    assert feed(s, [], times(10)) == []


def test_without_a_motion_gate_nothing_is_judged() -> None:
    s = scene()
    quiet = [o for i, t in enumerate(times(5)) for o in s.observe(frame(t, i), _nothing())]
    assert quiet == []
