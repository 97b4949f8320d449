"""The runtime's zone hook: a camera's zone and line watches follow an edit at once."""

from __future__ import annotations

import time

import numpy as np

from sightwire.config.models import SightwireConfig
from sightwire.core import Detections, Frame
from sightwire.runtime.event_loop import EventLoopThread
from sightwire.runtime.events import CameraEvents
from sightwire.runtime.pipeline import FrameResult


def config() -> SightwireConfig:
    return SightwireConfig.model_validate(
        {
            "cameras": {
                "cam": {
                    "source": "upload",
                    "zones": {"dock": [[0, 0], [10, 0], [10, 10]]},
                    "analyse": [{"track": {}}],
                }
            },
            "rules": [{"name": "docked", "on": {"zone": "dock", "event": "enter"}}],
        }
    )


def result(seq: int) -> FrameResult:
    """A frame with one tracked object at (100..140, 100..140)."""
    frame = Frame("cam", seq, time.time(), seq / 5, np.zeros((240, 320, 3), np.uint8))
    found = Detections(
        np.array([[100, 100, 140, 140]], np.float32),
        np.array([0.9], np.float32),
        np.array([0]),
        tracker_id=np.array([1]),
    )
    return FrameResult(frame, None, found, skipped=False)


def test_a_redrawn_zone_is_watched_from_the_next_frame() -> None:
    loop = EventLoopThread().start()
    events = CameraEvents(config(), loop)
    try:
        assert events.process("cam", result(0)) == []  # the object is outside the old zone
        bigger = (
            config()
            .cameras["cam"]
            .model_copy(
                update={"zones": {"dock": [(0.0, 0.0), (320.0, 0.0), (320.0, 240.0), (0.0, 240.0)]}}
            )
        )
        events.replace_camera("cam", bigger)
        outcomes = events.process("cam", result(1))
        assert [outcome.event.data.rule for outcome in outcomes] == ["docked"]
    finally:
        events.close()
        loop.stop()
