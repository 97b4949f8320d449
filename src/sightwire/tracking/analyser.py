"""The ``track:`` step of a camera's ``analyse`` list.

>>> import numpy as np
>>> from sightwire.config.models import TrackOptions
>>> from sightwire.core import Detections, Frame
>>> step = TrackAnalyser(TrackOptions(min_hits=1))
>>> frame = Frame(camera="belt-1", seq=0, captured_at=0.0, pts=0.0,
...               image=np.zeros((720, 1280, 3), np.uint8))
>>> parcel = Detections(np.array([[100, 200, 260, 330]]), [0.9], [0])
>>> step.analyse(frame, parcel).tracker_id.tolist()
[1]
"""

from __future__ import annotations

from sightwire.config.models import TrackOptions
from sightwire.core.detections import Detections
from sightwire.core.frame import Frame
from sightwire.tracking.tracker import ByteTracker


class TrackAnalyser:
    """Gives detections ids that persist over time, one :class:`ByteTracker` per
    camera, with each frame's ``pts`` as the clock (so skipped frames are gaps in
    time, not lost frames). Returns only the detections on confirmed tracks."""

    def __init__(self, options: TrackOptions | None = None) -> None:
        self.options = options or TrackOptions()
        self._trackers: dict[str, ByteTracker] = {}

    def analyse(self, frame: Frame, detections: Detections) -> Detections:
        """Track ``detections`` of ``frame``; see :meth:`ByteTracker.update`."""
        tracker = self._trackers.get(frame.camera)
        if tracker is None:
            tracker = self._trackers.setdefault(frame.camera, ByteTracker(self.options))
        return tracker.update(detections, frame.pts)

    def reset(self, camera: str | None = None) -> None:
        """Forget the tracks of ``camera``, or of every camera."""
        trackers = self._trackers.values() if camera is None else [self._trackers.get(camera)]
        for tracker in trackers:
            if tracker is not None:
                tracker.reset()
