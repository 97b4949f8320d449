"""What a run saw, object by object: each tracked object's class, time span and readings.

>>> # log = ObjectLog(); runner = Runner(config, on_result=log.add)
>>> # for seen in log.objects(): print(seen.track_id, seen.class_name, seen.reading("barcode"))
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

from sightwire.runtime.pipeline import FrameResult

READINGS = ("barcode", "text")


@dataclass(slots=True)
class SeenObject:
    """One tracked object of one camera."""

    camera: str
    track_id: int
    class_name: str
    first_s: float
    last_s: float
    frames: int = 0
    readings: dict[str, Counter[str]] = field(default_factory=dict)

    def reading(self, kind: str) -> str:
        """The reading of ``kind`` (barcode, text) seen most often, or ""."""
        counts = self.readings.get(kind)
        return counts.most_common(1)[0][0] if counts else ""


class ObjectLog:
    """Collects tracked objects from frame results (thread-safe: cameras run in parallel)."""

    def __init__(self) -> None:
        self._objects: dict[tuple[str, int], SeenObject] = {}
        self._lock = threading.Lock()

    def add(self, result: FrameResult) -> None:
        """Record the tracked objects of one processed frame."""
        found = result.detections
        if found.tracker_id is None or not len(found):
            return
        names = found.data.get("class_name")
        pts, camera = result.frame.pts, result.frame.camera
        with self._lock:
            for row, track in enumerate(found.tracker_id.tolist()):
                if track < 0:
                    continue
                key = (camera, track)
                seen = self._objects.get(key)
                if seen is None:
                    name = str(names[row]) if names is not None else str(found.class_id[row])
                    seen = self._objects[key] = SeenObject(camera, track, name, pts, pts)
                seen.last_s, seen.frames = pts, seen.frames + 1
                for kind in READINGS:
                    column = found.data.get(kind)
                    if column is not None and column[row]:
                        seen.readings.setdefault(kind, Counter())[str(column[row])] += 1

    def objects(self) -> list[SeenObject]:
        """Every object seen, in order of first appearance."""
        with self._lock:
            return sorted(self._objects.values(), key=lambda o: (o.first_s, o.camera, o.track_id))
