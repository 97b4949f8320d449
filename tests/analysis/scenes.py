"""Synthetic tracked scenes: boxes moving along known paths, with known track ids."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sightwire.analysis import Observation, SceneAnalysis
from sightwire.core import Detections, Frame

WIDTH, HEIGHT = 1280, 720
IMAGE = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
EPOCH = 1_700_000_000.0
"""Wall time of pts 0: frames are captured at EPOCH + pts."""


@dataclass(frozen=True, slots=True)
class Mover:
    """A tracked box of ``size`` (w, h) whose centre is at ``start`` at t=0 and moves
    at ``velocity`` pixels per second; ``data`` are its data columns."""

    track_id: int
    start: tuple[float, float]
    velocity: tuple[float, float] = (0.0, 0.0)
    size: tuple[float, float] = (80.0, 60.0)
    class_name: str = "parcel"
    confidence: float = 0.9
    data: dict[str, Any] = field(default_factory=dict)

    def centre(self, t: float) -> tuple[float, float]:
        return self.start[0] + self.velocity[0] * t, self.start[1] + self.velocity[1] * t

    def box(self, t: float) -> list[float]:
        cx, cy = self.centre(t)
        w, h = self.size
        return [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]


def tracked(movers: Sequence[Mover], t: float) -> Detections:
    """What detector and tracker report of ``movers`` at time ``t``."""
    if not movers:
        empty = Detections.empty()
        empty.tracker_id = np.zeros(0, np.int64)
        empty.data["class_name"] = np.zeros(0, dtype="<U1")
        return empty
    names = sorted({k for m in movers for k in m.data})
    return Detections(
        xyxy=np.array([m.box(t) for m in movers], np.float32),
        confidence=np.array([m.confidence for m in movers], np.float32),
        class_id=np.zeros(len(movers), np.int64),
        tracker_id=np.array([m.track_id for m in movers]),
        data={
            "class_name": np.array([m.class_name for m in movers]),
            **{k: np.array([m.data.get(k, np.nan) for m in movers]) for k in names},
        },
    )


def frame(
    t: float, seq: int = 0, metadata: Mapping[str, Any] | None = None, camera: str = "belt-1"
) -> Frame:
    """A frame of ``camera`` at pts ``t`` (captured at EPOCH + t)."""
    return Frame(camera, seq, EPOCH + t, t, IMAGE, dict(metadata or {}))


def times(seconds: float, fps: float = 10.0, start: float = 0.0) -> list[float]:
    """Frame times from ``start`` for ``seconds`` at ``fps``."""
    return [start + i / fps for i in range(round(seconds * fps))]


def play(
    scene: SceneAnalysis,
    movers: Sequence[Mover],
    at: Iterable[float],
    hidden: dict[int, set[int]] | None = None,
) -> list[Observation]:
    """Observe ``movers`` at each time; ``hidden`` maps a frame index to track ids
    the detector misses on it."""
    out: list[Observation] = []
    for i, t in enumerate(at):
        shown = [m for m in movers if m.track_id not in (hidden or {}).get(i, set())]
        out.extend(scene.observe(frame(t, i), tracked(shown, t)))
    return out


def kinds(observations: Iterable[Observation]) -> list[tuple[str, int | None]]:
    """(kind, track id) of each observation."""
    return [(o.kind, o.object.track_id if o.object else None) for o in observations]
