"""One frame as every analyser of a camera sees it, computed once and shared.

>>> import numpy as np
>>> from sightwire.core import Detections
>>> d = Detections(np.array([[0, 0, 10, 10]]), [0.9], [0], tracker_id=[4])
>>> view = FrameView("belt-1", pts=1.0, captured_at=100.0, tick=0, detections=d)
>>> view.track_ids.tolist(), view.anchors("center").tolist()
([4], [[5.0, 5.0]])
>>> view.observation("enter", "zone zone=a", zone="a").pts
1.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from sightwire.analysis.geometry import Boxes, Points, anchor_points
from sightwire.analysis.observation import CLASS_NAME, Observation, ObservedObject, objects_of
from sightwire.config.rules import Anchor, ObservationKind
from sightwire.core.detections import Detections, IntArray


@dataclass(slots=True)
class FrameView:
    """A frame's detections with lazily computed, cached derived values.

    ``idle`` is true for a frame the motion gate skipped: the detections are then
    the last analysed frame's, and nothing moved. ``motion_boxes`` is None when no
    motion gate runs (stillness cannot be judged then).
    """

    camera: str
    pts: float
    captured_at: float
    tick: int
    detections: Detections
    idle: bool = False
    motion_boxes: Boxes | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    _objects: list[ObservedObject] | None = None
    _anchors: dict[str, Points] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.pts, self.captured_at = float(self.pts), float(self.captured_at)

    @property
    def objects(self) -> list[ObservedObject]:
        """Every detection as an :class:`ObservedObject` (built on first use)."""
        if self._objects is None:
            self._objects = objects_of(self.detections)
        return self._objects

    @property
    def track_ids(self) -> IntArray:
        """Each detection's track id; -1 where untracked."""
        ids = self.detections.tracker_id
        if ids is None:
            return np.full(len(self.detections), -1, np.int64)
        return ids

    @property
    def class_names(self) -> npt.NDArray[np.str_]:
        """Each detection's class name (the class id as text without a name column)."""
        names = self.detections.data.get(CLASS_NAME)
        if names is None:
            return self.detections.class_id.astype(str)
        return np.asarray(names, dtype=str)

    def anchors(self, anchor: Anchor) -> Points:
        """Each detection's ``anchor`` point (N, 2)."""
        if anchor not in self._anchors:
            self._anchors[anchor] = anchor_points(self.detections.xyxy, anchor)
        return self._anchors[anchor]

    def chosen(self, class_name: str | None, min_confidence: float, min_area: float) -> IntArray:
        """Indices of the detections of ``class_name`` (any if None) at or above the floors."""
        keep = (self.detections.confidence >= min_confidence) & (self.detections.area >= min_area)
        if class_name is not None:
            keep &= self.class_names == class_name
        indices: IntArray = np.flatnonzero(keep).astype(np.int64)
        return indices

    def observation(self, kind: ObservationKind, watch: str, **fields: Any) -> Observation:
        """An observation of this frame; ``fields`` fill the rest of it."""
        return Observation(
            kind=kind,
            camera=self.camera,
            watch=watch,
            captured_at=self.captured_at,
            pts=self.pts,
            tick=self.tick,
            **fields,
        )
