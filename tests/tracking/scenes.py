"""Hand-made scenes for the tracker tests: boxes moving at constant velocity."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from sightwire.core import Detections
from sightwire.tracking import ByteTracker


@dataclass(frozen=True, slots=True)
class Mover:
    """A box of ``size`` (w, h) whose centre is at ``start`` at t=0 and moves at
    ``velocity`` pixels per second."""

    start: tuple[float, float]
    velocity: tuple[float, float]
    size: tuple[float, float] = (40.0, 40.0)
    class_id: int = 0

    def box(self, t: float) -> list[float]:
        cx = self.start[0] + self.velocity[0] * t
        cy = self.start[1] + self.velocity[1] * t
        w, h = self.size
        return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def detections(
    movers: Sequence[Mover], t: float, confidence: float | Sequence[float] = 0.9
) -> Detections:
    """What a perfect detector sees of ``movers`` at time ``t``."""
    n = len(movers)
    if not n:
        return Detections.empty()
    return Detections(
        xyxy=np.array([m.box(t) for m in movers], np.float32),
        confidence=np.broadcast_to(np.asarray(confidence, np.float32), (n,)),
        class_id=np.array([m.class_id for m in movers]),
    )


def run(
    tracker: ByteTracker,
    movers: Sequence[Mover],
    times: Iterable[float],
    hidden: dict[int, set[int]] | None = None,
) -> list[dict[int, int]]:
    """Track ``movers`` at ``times``; per frame, mover index → tracker id of the
    movers that came out tracked. ``hidden`` maps a frame index to the movers the
    detector misses in it."""
    hidden = hidden or {}
    out = []
    for index, t in enumerate(times):
        shown = [i for i in range(len(movers)) if i not in hidden.get(index, set())]
        frame = detections([movers[i] for i in shown], t)
        frame.data["mover"] = np.array(shown)
        tracked = tracker.update(frame, t)
        assert tracked.tracker_id is not None
        out.append(
            dict(zip(tracked.data["mover"].tolist(), tracked.tracker_id.tolist(), strict=True))
        )
    return out


def ids_of(frames: list[dict[int, int]], mover: int) -> list[int]:
    """The ids ``mover`` had, in order of frames where it was tracked."""
    return [f[mover] for f in frames if mover in f]


def frame_times(fps: float, seconds: float, start: float = 0.0) -> list[float]:
    """Times of the frames of ``seconds`` of video at ``fps``."""
    return [start + i / fps for i in range(round(seconds * fps))]
