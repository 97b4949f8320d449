"""Counting objects in a zone (or the whole frame), and noticing when a class is absent.

Neither needs tracking: each frame, the objects of the class whose anchor lies in
the zone are counted. A new count becomes *the* count once it has lasted
``frames`` frames in a row, so a flickering detection does not change it.

>>> import numpy as np
>>> from sightwire.analysis.triggers import Trigger
>>> from sightwire.analysis.view import FrameView
>>> from sightwire.core import Detections
>>> watch = CountWatch(Trigger("count_change", class_name="0"), None, kinds={"count_change"})
>>> one = Detections(np.array([[0, 0, 10, 10]]), [0.9], [0])
>>> watch.update(FrameView("cam", 0.0, 0.0, 0, Detections.empty()))
[]
>>> [o.measurements for o in watch.update(FrameView("cam", 0.1, 0.1, 1, one))]
[{'count': 1.0, 'previous': 0.0, 'change': 1.0}]
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import numpy.typing as npt

from sightwire.analysis.geometry import points_inside
from sightwire.analysis.observation import Observation, ObservedObject
from sightwire.analysis.triggers import Trigger
from sightwire.analysis.view import FrameView


def _present(
    view: FrameView, trigger: Trigger, polygon: npt.NDArray[np.float64] | None
) -> list[int]:
    """Indices of the detections a count or absence watch counts."""
    chosen = view.chosen(trigger.class_name, trigger.min_confidence, trigger.min_area)
    if polygon is not None and len(chosen):
        chosen = chosen[points_inside(polygon, view.anchors(trigger.anchor)[chosen])]
    indices: list[int] = chosen.tolist()
    return indices


def _polygon(polygon: npt.ArrayLike | None) -> npt.NDArray[np.float64] | None:
    return None if polygon is None else np.asarray(polygon, np.float64).reshape(-1, 2)


class CountWatch:
    """``count`` (every frame: the count now) and ``count_change`` (when it changes)."""

    def __init__(
        self,
        trigger: Trigger,
        polygon: npt.ArrayLike | None,
        kinds: Collection[str] = ("count", "count_change"),
    ) -> None:
        self.trigger = trigger
        self.watch = trigger.watch
        self.polygon = _polygon(polygon)
        self.kinds = set(kinds)
        self.reset()

    def reset(self) -> None:
        """Forget the count."""
        self.count: int | None = None
        self._pending, self._pending_frames = -1, 0
        self._objects: tuple[ObservedObject, ...] = ()

    def update(self, view: FrameView) -> list[Observation]:
        """The count of this frame (if wanted) and its change (if any)."""
        if not view.idle:
            present = _present(view, self.trigger, self.polygon)
            self._objects = tuple(view.objects[i] for i in present)
        raw = len(self._objects)
        if raw == self._pending:
            self._pending_frames += 1
        else:
            self._pending, self._pending_frames = raw, 1
        out: list[Observation] = []
        if self._pending_frames >= self.trigger.frames and self._pending != self.count:
            previous, self.count = self.count, self._pending
            if previous is not None and "count_change" in self.kinds:
                change = {"count": float(self.count), "previous": float(previous)}
                change["change"] = change["count"] - change["previous"]
                out.append(self._observe(view, "count_change", change))
        if self.count is not None and "count" in self.kinds:
            measurements = {"count": float(self.count), "raw": float(raw)}
            out.append(self._observe(view, "count", measurements))
        return out

    def _observe(self, view: FrameView, kind: str, measurements: dict[str, float]) -> Observation:
        return view.observation(
            "count" if kind == "count" else "count_change",
            self.watch,
            zone=self.trigger.zone,
            objects=self._objects,
            measurements=measurements,
        )


class AbsenceWatch:
    """``absent``: no object of the class in the zone for ``seconds`` (once per spell).

    Time counts from the last frame one was seen, or from the first frame watched.
    """

    def __init__(self, trigger: Trigger, polygon: npt.ArrayLike | None) -> None:
        if trigger.seconds is None:
            raise ValueError("an absence trigger needs seconds")
        self.trigger = trigger
        self.seconds = trigger.seconds
        self.watch = trigger.watch
        self.polygon = _polygon(polygon)
        self.reset()

    def reset(self) -> None:
        """Forget when the class was last seen."""
        self.last_seen: float | None = None
        self._present = False
        self._reported = False

    def update(self, view: FrameView) -> list[Observation]:
        """An absence observation when the spell reaches ``seconds``."""
        if not view.idle:
            self._present = bool(_present(view, self.trigger, self.polygon))
        if self._present or self.last_seen is None:
            self.last_seen = view.pts
            self._reported = False
            if self._present:
                return []
        absent_s = view.pts - self.last_seen
        if self._reported or absent_s < self.seconds:
            return []
        self._reported = True
        return [
            view.observation(
                "absent", self.watch, zone=self.trigger.zone, measurements={"absent_s": absent_s}
            )
        ]
