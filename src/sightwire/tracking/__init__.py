"""Multi-object tracking: ids that follow each object from frame to frame.

:class:`ByteTracker` tracks one camera's detections (Kalman prediction, two-stage
IoU matching after ByteTrack, class-consistent, time-based ageing by ``pts``);
:class:`TrackAnalyser` is the pipeline's ``track:`` step, one tracker per camera.
:mod:`sightwire.tracking.synthetic` makes scenes with known ids to measure them.

>>> import numpy as np
>>> from sightwire.core import Detections
>>> tracker = ByteTracker()
>>> for i in range(3):
...     seen = Detections(np.array([[10 + 3 * i, 10, 30 + 3 * i, 30]]), [0.9], [0])
...     tracked = tracker.update(seen, pts=i * 0.04)
>>> tracked.tracker_id.tolist()
[1]
"""

from sightwire.tracking.analyser import TrackAnalyser
from sightwire.tracking.assignment import greedy, match
from sightwire.tracking.geometry import box_iou
from sightwire.tracking.kalman import MotionNoise
from sightwire.tracking.tracker import ByteTracker
from sightwire.tracking.tracks import TrackTable

__all__ = [
    "ByteTracker",
    "MotionNoise",
    "TrackAnalyser",
    "TrackTable",
    "box_iou",
    "greedy",
    "match",
]
