"""Anomaly scores: a score above a threshold on N of the last M frames.

The score is an object's data column (``score:``, per tracked object, e.g. a defect
model's output per parcel) or a frame metadata value (``frame_score:``, e.g. an
anomaly model's score for the whole picture). ``anomaly`` is observed when N of the
last M scores are above the threshold, once per spell: it is observed again only
after the window has held no score above it.

>>> from sightwire.analysis.triggers import Trigger
>>> from sightwire.analysis.view import FrameView
>>> from sightwire.core import Detections
>>> watch = AnomalyWatch(Trigger("anomaly", frame_score="s", above=0.5, frames=2, window=3), None)
>>> def frame(t, s): return FrameView("cam", t, t, t, Detections.empty(), metadata={"s": s})
>>> [len(watch.update(frame(t, s))) for t, s in enumerate([0.9, 0.1, 0.8, 0.9])]
[0, 0, 1, 0]
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from sightwire.analysis.geometry import points_inside
from sightwire.analysis.observation import Observation, ObservedObject
from sightwire.analysis.triggers import Trigger
from sightwire.analysis.view import FrameView


@dataclass(slots=True)
class _Window:
    """The last M verdicts of one object (or of the frame)."""

    hits: deque[bool]
    last_seen: float = 0.0
    reported: bool = False
    scores: deque[float] = field(default_factory=deque)

    def add(self, score: float | None, above: float) -> None:
        """Record one frame's ``score`` (None: none was given)."""
        self.hits.append(score is not None and score > above)
        self.scores.append(math.nan if score is None else score)


def _score(value: Any) -> float | None:
    try:
        score = float(value)
    except (TypeError, ValueError):
        return None
    return score if math.isfinite(score) else None


class AnomalyWatch:
    """``anomaly`` observations of one trigger (objects' scores or the frame's)."""

    def __init__(
        self, trigger: Trigger, polygon: npt.ArrayLike | None, forget_s: float = 1.0
    ) -> None:
        if trigger.above is None:
            raise ValueError("an anomaly trigger needs above")
        self.trigger = trigger
        self.above = trigger.above
        self.watch = trigger.watch
        self.polygon = None if polygon is None else np.asarray(polygon, np.float64).reshape(-1, 2)
        self.forget_s = forget_s
        self._windows: dict[int, _Window] = {}

    def reset(self) -> None:
        """Forget every window."""
        self._windows.clear()

    def update(self, view: FrameView) -> list[Observation]:
        """Anomalies completed on this frame (idle frames add no scores)."""
        if view.idle:
            return []
        if self.trigger.frame_score is not None:
            score = _score(view.metadata.get(self.trigger.frame_score))
            if score is None:
                return []
            return self._judge(view, -1, score, None)
        out: list[Observation] = []
        for index in self._scored(view):
            score = _score(view.detections.data[self.trigger.score or ""][index])
            track = int(view.track_ids[index])
            out.extend(self._judge(view, track, score, view.objects[index]))
        self._windows = {  # objects gone for forget_s leave
            k: w for k, w in self._windows.items() if view.pts - w.last_seen <= self.forget_s
        }
        return out

    def _scored(self, view: FrameView) -> list[int]:
        """Tracked objects of the trigger's class in its zone that carry the score."""
        if self.trigger.score not in view.detections.data:
            return []
        trigger = self.trigger
        chosen = view.chosen(trigger.class_name, trigger.min_confidence, trigger.min_area)
        chosen = chosen[view.track_ids[chosen] >= 0]
        if self.polygon is not None and len(chosen):
            chosen = chosen[points_inside(self.polygon, view.anchors(trigger.anchor)[chosen])]
        indices: list[int] = chosen.tolist()
        return indices

    def _judge(
        self, view: FrameView, key: int, score: float | None, obj: ObservedObject | None
    ) -> list[Observation]:
        window = self._windows.get(key)
        if window is None:
            size = self.trigger.window
            window = self._windows[key] = _Window(deque(maxlen=size), scores=deque(maxlen=size))
        window.last_seen = view.pts
        window.add(score, self.above)
        hits = sum(window.hits)
        if hits == 0:
            window.reported = False
        if window.reported or hits < self.trigger.frames:
            return []
        window.reported = True  # a hit completed the spell, so ``score`` is a number
        measurements = {
            "score": score if score is not None else self.above,
            "max_score": float(np.nanmax(np.asarray(window.scores))),
            "hits": float(hits),
            "window": float(len(window.hits)),
        }
        return [
            view.observation(
                "anomaly", self.watch, zone=self.trigger.zone, object=obj, measurements=measurements
            )
        ]
