"""One camera's analysis: every zone, line, count, absence, stillness and anomaly
watch its rules need, fed frame by frame.

>>> from sightwire.config.models import CameraConfig
>>> from sightwire.config.rules import Anchor, RuleConfig
>>> camera = CameraConfig(source="belt.mp4", lines={"exit": [[1180, 0], [1180, 720]]})
>>> rule = RuleConfig.model_validate({"name": "out", "on": {"line": "exit"}})
>>> scene = SceneAnalysis("belt-1", camera, [rule])
>>> [type(w).__name__ for w in scene.watches]
['LineWatch']
>>> # observations = scene.observe(frame, tracked_detections)   # each analysed frame
>>> # observations = scene.observe(frame, None)                 # each frame the gate skipped
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import numpy as np

from sightwire.analysis.anomaly import AnomalyWatch
from sightwire.analysis.counts import AbsenceWatch, CountWatch
from sightwire.analysis.lines import LineWatch
from sightwire.analysis.observation import Observation
from sightwire.analysis.stillness import StillWatch
from sightwire.analysis.triggers import Trigger
from sightwire.analysis.view import FrameView
from sightwire.analysis.zones import ZoneWatch
from sightwire.config.models import CameraConfig, TrackStep
from sightwire.config.rules import Anchor, RuleConfig
from sightwire.core.detections import Detections
from sightwire.core.frame import MOTION_BOXES, Frame


class Watch(Protocol):
    """An analyser of one camera's frames that reports observations."""

    def update(self, view: FrameView) -> list[Observation]: ...

    def reset(self) -> None: ...


def track_forget_s(config: CameraConfig, default: float = 1.0) -> float:
    """How long an unseen track lives: the camera's ``track`` step's ``max_age_s``."""
    for step in config.analyse:
        if isinstance(step, TrackStep):
            return step.track.max_age_s
    return default


class SceneAnalysis:
    """Observations of one camera for the triggers of ``rules`` (or triggers).

    Triggers for another camera, or for a zone or line this camera lacks, are left
    out. Call :meth:`observe` with every frame in order: analysed frames with their
    (tracked) detections, and frames the motion gate skipped with ``None`` (time
    passes for dwell, absence and stillness; nothing moved).
    """

    def __init__(
        self,
        camera: str,
        config: CameraConfig,
        rules: Iterable[RuleConfig | Trigger],
        *,
        forget_s: float | None = None,
    ) -> None:
        self.camera = camera
        self.config = config
        self.forget_s = track_forget_s(config) if forget_s is None else forget_s
        triggers = [r if isinstance(r, Trigger) else Trigger.of(r) for r in rules]
        self.triggers = [t for t in triggers if t.applies_to(camera, config)]
        self.watches: list[Watch] = self._build(self.triggers)
        self._tick = 0
        self._last_pts: float | None = None
        self._last = Detections.empty()

    def observe(self, frame: Frame, detections: Detections | None) -> list[Observation]:
        """Everything observed on ``frame``; ``detections`` None for a skipped frame.

        A ``pts`` earlier than the last frame's (a looped file, a restarted stream)
        starts every watch afresh.
        """
        if self._last_pts is not None and frame.pts < self._last_pts:
            self.reset()
        self._last_pts = frame.pts
        idle = detections is None
        if detections is not None:
            self._last = detections
        boxes = frame.metadata.get(MOTION_BOXES)
        view = FrameView(
            camera=self.camera,
            pts=frame.pts,
            captured_at=frame.captured_at,
            tick=self._tick,
            detections=self._last,
            idle=idle,
            motion_boxes=None if boxes is None else np.asarray(boxes, np.float32).reshape(-1, 4),
            metadata=frame.metadata,
        )
        self._tick += 1
        out: list[Observation] = []
        for watch in self.watches:
            out.extend(watch.update(view))
        return out

    def reset(self) -> None:
        """Forget every track, count and timer (the tick keeps counting)."""
        for watch in self.watches:
            watch.reset()
        self._last = Detections.empty()
        self._last_pts = None

    def _build(self, triggers: list[Trigger]) -> list[Watch]:
        """One watch per distinct analysis: rules with equal settings share it."""
        zones: dict[tuple[str, Anchor, float], tuple[set[str], dict[float, str]]] = {}
        lines: dict[tuple[str, Anchor, float], Trigger] = {}
        counts: dict[str, tuple[Trigger, set[str]]] = {}
        others: dict[str, Watch] = {}
        for t in triggers:
            if t.kind in ("enter", "exit", "inside", "dwell"):
                kinds, dwell = zones.setdefault((t.zone or "", t.anchor, t.margin_px), (set(), {}))
                kinds.add(t.kind)
                if t.seconds is not None:
                    dwell[t.seconds] = t.watch
            elif t.kind == "cross":
                lines.setdefault((t.line or "", t.anchor, t.margin_px), t)
            elif t.kind in ("count", "count_change"):
                counts.setdefault(t.watch, (t, set()))[1].add(t.kind)
            elif t.watch not in others:
                others[t.watch] = self._other(t)
        watches: list[Watch] = [
            ZoneWatch(
                zone,
                self.config.zones[zone],
                anchor=anchor,
                margin_px=margin,
                kinds=kinds,
                dwell=dwell,
                forget_s=self.forget_s,
            )
            for (zone, anchor, margin), (kinds, dwell) in zones.items()
        ]
        watches += [
            LineWatch(
                line,
                self.config.lines[line],
                anchor=anchor,
                margin_px=margin,
                forget_s=self.forget_s,
            )
            for (line, anchor, margin) in lines
        ]
        watches += [CountWatch(t, self._polygon(t), kinds) for t, kinds in counts.values()]
        return watches + list(others.values())

    def _other(self, t: Trigger) -> Watch:
        if t.kind == "absent":
            return AbsenceWatch(t, self._polygon(t))
        if t.kind == "still":
            return StillWatch(t, self._polygon(t))
        return AnomalyWatch(t, self._polygon(t), self.forget_s)

    def _polygon(self, t: Trigger) -> list[tuple[float, float]] | None:
        return None if t.zone is None else self.config.zones[t.zone]
