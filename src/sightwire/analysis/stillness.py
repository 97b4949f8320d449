"""Stillness: no motion in a zone for a while, where motion was going on (a jammed
conveyor, a stopped line).

Uses the motion gate's boxes (``frame.metadata["motion_boxes"]``): the zone moves
on a frame when a motion box overlaps it. Once motion has been seen in the zone,
``still`` is observed when none has been seen for ``seconds`` of stream time, once
until motion comes back. A zone that never moved is not "still": nothing was
expected of it. Without a motion gate nothing is observed.

>>> import numpy as np
>>> from sightwire.analysis.triggers import Trigger
>>> from sightwire.analysis.view import FrameView
>>> from sightwire.core import Detections
>>> watch = StillWatch(Trigger("still", seconds=2), None)
>>> def frame(t, boxes):
...     return FrameView("cam", t, t, int(t), Detections.empty(),
...                      motion_boxes=np.array(boxes, np.float32).reshape(-1, 4))
>>> watch.update(frame(0, [[0, 0, 5, 5]])), watch.update(frame(1, []))
([], [])
>>> [o.measurements for o in watch.update(frame(2, []))]
[{'still_s': 2.0}]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sightwire.analysis.geometry import boxes_touch_polygon
from sightwire.analysis.observation import Observation
from sightwire.analysis.triggers import Trigger
from sightwire.analysis.view import FrameView


class StillWatch:
    """``still`` observations of one zone (or the whole frame when ``polygon`` is None)."""

    def __init__(self, trigger: Trigger, polygon: npt.ArrayLike | None) -> None:
        if trigger.seconds is None:
            raise ValueError("a stillness trigger needs seconds")
        self.trigger = trigger
        self.seconds = trigger.seconds
        self.watch = trigger.watch
        self.polygon = None if polygon is None else np.asarray(polygon, np.float64).reshape(-1, 2)
        self.reset()

    def reset(self) -> None:
        """Forget the last motion."""
        self.last_motion: float | None = None
        self._reported = False

    def update(self, view: FrameView) -> list[Observation]:
        """A stillness observation when the quiet reaches ``seconds``."""
        boxes = view.motion_boxes
        if view.idle:
            boxes = np.zeros((0, 4), np.float32)
        if boxes is None:
            return []
        if self._moves(boxes):
            self.last_motion, self._reported = view.pts, False
            return []
        if self.last_motion is None or self._reported:
            return []
        still_s = view.pts - self.last_motion
        if still_s < self.seconds:
            return []
        self._reported = True
        return [
            view.observation(
                "still", self.watch, zone=self.trigger.zone, measurements={"still_s": still_s}
            )
        ]

    def _moves(self, boxes: npt.NDArray[np.float32]) -> bool:
        if not len(boxes):
            return False
        if self.polygon is None:
            return True
        return bool(boxes_touch_polygon(boxes, self.polygon).any())
