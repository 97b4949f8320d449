"""Lines: each tracked object crossing a line, with its direction, once per track.

A crossing is a change of side of the object's anchor point that passes through
the segment between the line's two points. Points within ``margin_px`` of the line
keep the side they had, so an object jittering on the line does not cross back and
forth; and each track crosses a line at most once (a parcel that wobbles back over
the exit line is still one parcel out).

Direction: ``in`` is a crossing to the right-hand side of the line as seen on
screen walking from its first point to its second, ``out`` the other way; ``sense``
says the same in screen terms (``left_to_right``, ``top_to_bottom``, ...).

>>> import numpy as np
>>> from sightwire.analysis.view import FrameView
>>> from sightwire.core import Detections
>>> watch = LineWatch("exit", [[100, 0], [100, 200]])
>>> def at(x): return Detections(np.array([[x - 5, 90, x + 5, 110]]), [0.9], [0], tracker_id=[3])
>>> _ = watch.update(FrameView("cam", 0.0, 0.0, 0, at(80)))
>>> [(o.kind, o.direction, o.sense) for o in watch.update(FrameView("cam", 0.2, 0.2, 1, at(120)))]
[('cross', 'out', 'left_to_right')]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sightwire.analysis.geometry import crosses_segment, crossing_sense, line_sides
from sightwire.analysis.observation import Observation
from sightwire.analysis.triggers import Trigger
from sightwire.analysis.view import FrameView
from sightwire.config.rules import Anchor


@dataclass(slots=True)
class _Track:
    """What a line knows of one track: its last side (+1/-1, 0 unknown) and where."""

    side: int
    point: tuple[float, float]
    last_seen: float
    crossed: bool = False


class LineWatch:
    """Crossings of one line."""

    def __init__(
        self,
        line: str,
        points: npt.ArrayLike,
        *,
        anchor: Anchor = "center",
        margin_px: float = 5.0,
        forget_s: float = 1.0,
    ) -> None:
        self.line = line
        self.points = np.asarray(points, np.float64).reshape(2, 2)
        self.anchor: Anchor = anchor
        self.margin_px = margin_px
        self.forget_s = forget_s
        self.watch = Trigger("cross", line=line, anchor=anchor, margin_px=margin_px).watch
        self._tracks: dict[int, _Track] = {}

    def reset(self) -> None:
        """Forget every track."""
        self._tracks.clear()

    def update(self, view: FrameView) -> list[Observation]:
        """Crossings completed on this frame."""
        if view.idle:
            for track in self._tracks.values():
                track.last_seen = view.pts
            return []
        out: list[Observation] = []
        ids = view.track_ids
        tracked = np.flatnonzero(ids >= 0)
        points = view.anchors(self.anchor)[tracked]
        sides = line_sides(self.points, points, self.margin_px)
        for index, point, side in zip(
            tracked.tolist(), points.tolist(), sides.tolist(), strict=True
        ):
            self._step(view, index, int(ids[index]), (point[0], point[1]), side, out)
        self._tracks = {
            t: s for t, s in self._tracks.items() if view.pts - s.last_seen <= self.forget_s
        }
        return out

    def _step(
        self,
        view: FrameView,
        index: int,
        track_id: int,
        point: tuple[float, float],
        side: int,
        out: list[Observation],
    ) -> None:
        track = self._tracks.get(track_id)
        if track is None:
            self._tracks[track_id] = _Track(side, point, view.pts)
            return
        track.last_seen = view.pts
        if side == 0:  # on the line: keep the side it had
            return
        crossed = track.side == -side and crosses_segment(self.points, track.point, point)
        if crossed and not track.crossed:
            track.crossed = True
            inward = side > 0
            out.append(
                view.observation(
                    "cross",
                    self.watch,
                    line=self.line,
                    object=view.objects[index],
                    direction="in" if inward else "out",
                    sense=crossing_sense(self.points, inward),
                )
            )
        track.side, track.point = side, point
