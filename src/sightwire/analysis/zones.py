"""Zones: which tracked objects are inside a polygon, when they enter and exit, and
how long they stay.

An object is inside when its anchor point is; a point within ``margin_px`` of the
outline keeps the side it had (a dead band), so a box jittering on the edge does
not enter and exit over and over. A track seen for the first time inside the zone
*enters* (with measurement ``appeared`` = 1). A track that vanishes inside exits
once it has been unseen for ``forget_s`` of stream time (``lost`` = 1). Exits carry
``dwell_s``, the time spent inside; ``dwell`` observations fire once per visit when
that time reaches each threshold (a visit outlives a few missed detections).
``inside`` is observed on every frame an object is seen inside (and on frames the
motion gate skipped), so a rule's debounce counts frames it was really seen.

>>> import numpy as np
>>> from sightwire.analysis.view import FrameView
>>> from sightwire.core import Detections
>>> watch = ZoneWatch("dock", [[0, 0], [100, 0], [100, 100], [0, 100]], kinds={"enter"})
>>> box = Detections(np.array([[40, 40, 60, 60]]), [0.9], [0], tracker_id=[1])
>>> [o.kind for o in watch.update(FrameView("cam", 0.0, 0.0, 0, box))]
['enter']
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from sightwire.analysis.geometry import signed_distances
from sightwire.analysis.observation import Observation, ObservedObject
from sightwire.analysis.triggers import Trigger
from sightwire.analysis.view import FrameView
from sightwire.config.rules import Anchor, ObservationKind


@dataclass(slots=True)
class _Visit:
    """What a zone knows of one track."""

    inside: bool
    last_seen: float
    object: ObservedObject
    entered: float = 0.0
    dwelt: set[float] = field(default_factory=set)


class ZoneWatch:
    """Enter, exit, inside (every frame) and dwell observations of one zone.

    ``kinds`` are the kinds to report; ``dwell`` maps each dwell threshold
    (seconds) to the watch name its observations carry.
    """

    def __init__(
        self,
        zone: str,
        polygon: npt.ArrayLike,
        *,
        anchor: Anchor = "center",
        margin_px: float = 5.0,
        kinds: Collection[str] = ("enter", "exit"),
        dwell: Mapping[float, str] | None = None,
        forget_s: float = 1.0,
    ) -> None:
        self.zone = zone
        self.polygon = np.asarray(polygon, np.float64).reshape(-1, 2)
        self.anchor: Anchor = anchor
        self.margin_px = margin_px
        self.kinds = set(kinds)
        self.dwell = dict(dwell or {})
        self.forget_s = forget_s
        self.watch = Trigger("enter", zone=zone, anchor=anchor, margin_px=margin_px).watch
        self._visits: dict[int, _Visit] = {}

    def reset(self) -> None:
        """Forget every track."""
        self._visits.clear()

    @property
    def inside(self) -> list[int]:
        """Track ids inside the zone now."""
        return [track for track, visit in self._visits.items() if visit.inside]

    def update(self, view: FrameView) -> list[Observation]:
        """Observations of this frame."""
        out: list[Observation] = []
        if view.idle:
            for visit in self._visits.values():
                visit.last_seen = view.pts
        else:
            self._move(view, out)
            self._forget(view, out)
        for visit in self._visits.values():
            if visit.inside:
                self._stay(view, visit, out)
        return out

    def _move(self, view: FrameView, out: list[Observation]) -> None:
        ids = view.track_ids
        tracked = np.flatnonzero(ids >= 0)
        if not len(tracked):
            return
        distances = signed_distances(self.polygon, view.anchors(self.anchor)[tracked])
        for index, distance in zip(tracked.tolist(), distances.tolist(), strict=True):
            track, obj = int(ids[index]), view.objects[index]
            visit = self._visits.get(track)
            new = visit is None
            was_inside = distance >= 0 if visit is None else visit.inside
            inside = distance >= self.margin_px or (was_inside and distance > -self.margin_px)
            if visit is None:
                visit = self._visits[track] = _Visit(False, view.pts, obj)
            visit.last_seen, visit.object = view.pts, obj
            if inside and not visit.inside:
                visit.inside, visit.entered, visit.dwelt = True, view.pts, set()
                self._report(view, "enter", obj, {"appeared": float(new)}, out)
            elif visit.inside and not inside:
                visit.inside = False
                self._report(view, "exit", obj, {"dwell_s": view.pts - visit.entered}, out)

    def _forget(self, view: FrameView, out: list[Observation]) -> None:
        gone = [t for t, v in self._visits.items() if view.pts - v.last_seen > self.forget_s]
        for track in gone:
            visit = self._visits.pop(track)
            if visit.inside:
                dwell_s = visit.last_seen - visit.entered
                self._report(view, "exit", visit.object, {"dwell_s": dwell_s, "lost": 1.0}, out)

    def _stay(self, view: FrameView, visit: _Visit, out: list[Observation]) -> None:
        dwell_s = view.pts - visit.entered
        if "inside" in self.kinds and visit.last_seen == view.pts:  # seen on this frame
            self._report(view, "inside", visit.object, {"dwell_s": dwell_s}, out)
        for seconds, watch in self.dwell.items():
            if dwell_s >= seconds and seconds not in visit.dwelt:
                visit.dwelt.add(seconds)
                out.append(
                    view.observation(
                        "dwell",
                        watch,
                        zone=self.zone,
                        object=visit.object,
                        measurements={"dwell_s": dwell_s},
                    )
                )

    def _report(
        self,
        view: FrameView,
        kind: ObservationKind,
        obj: ObservedObject,
        measurements: dict[str, float],
        out: list[Observation],
    ) -> None:
        if kind in self.kinds:
            out.append(
                view.observation(
                    kind,
                    self.watch,
                    zone=self.zone,
                    object=obj,
                    measurements=measurements,
                )
            )
