"""Per-camera counters and the activity periods the motion gate saw."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from sightwire.runtime.pipeline import FrameResult
from sightwire.sources import SourceState

IDLE_GAP_S = 1.0  # an activity period ends after this long without motion


@dataclass(slots=True)
class ActivityPeriod:
    """Stream time (seconds) from the first to the last frame with motion."""

    start: float
    end: float
    frames: int = 1


@dataclass
class CameraStats:
    """Counters a camera's processing thread updates and the display reads."""

    camera: str
    state: SourceState = SourceState.CONNECTING
    detail: str = ""
    processed: int = 0
    with_motion: int = 0
    skipped_idle: int = 0
    objects: int = 0
    events: int = 0
    last_pts: float = 0.0
    duration_s: float | None = None  # a file's length, for the progress bar
    activity: list[ActivityPeriod] = field(default_factory=list)
    _recent: deque[float] = field(default_factory=lambda: deque(maxlen=64))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, result: FrameResult) -> None:
        """Count one processed frame."""
        pts = result.frame.pts
        with self._lock:
            self.processed += 1
            self.last_pts = pts
            self.skipped_idle += result.skipped
            self.objects += len(result.detections)
            self.events += len(result.events)
            self._recent.append(time.monotonic())
            if result.motion is not None and result.motion.has_motion:
                self.with_motion += 1
                self._extend_activity(pts)

    def _extend_activity(self, pts: float) -> None:
        last = self.activity[-1] if self.activity else None
        if last is not None and pts - last.end <= IDLE_GAP_S:
            last.end = pts
            last.frames += 1
        else:
            self.activity.append(ActivityPeriod(pts, pts))

    def rate(self) -> float:
        """Frames processed per second over the last few dozen frames."""
        with self._lock:
            if len(self._recent) < 2:
                return 0.0
            span = self._recent[-1] - self._recent[0]
            return (len(self._recent) - 1) / span if span > 0 else 0.0

    def summary(self, reader: dict[str, int]) -> dict[str, Any]:
        """A plain-data view for ``--json`` and the closing table."""
        with self._lock:
            return {
                "camera": self.camera,
                "state": self.state.value,
                "detail": self.detail,
                **reader,
                "processed": self.processed,
                "with_motion": self.with_motion,
                "skipped_idle": self.skipped_idle,
                "objects": self.objects,
                "events": self.events,
                "activity": [
                    {"start_s": round(a.start, 2), "end_s": round(a.end, 2), "frames": a.frames}
                    for a in self.activity
                ],
            }
