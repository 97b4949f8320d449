"""The ``measure`` step: object sizes in millimetres from a calibrated scale.

With ``mm_per_pixel`` the scale at the working plane (a belt seen from above), a
box of w x h pixels is ``w * mm_per_pixel`` by ``h * mm_per_pixel`` millimetres.
The *length* is the longer side (``length: longer``, the default), or the side along
x or y (``length: x`` for a belt running left to right); the *width* is the other.

A box touching the frame's edge (within ``edge_px``) is cut off, so it is not
measured. Per track, the sizes of the frames the object was fully in view are kept
(the last ``samples``) and their median is the estimate, robust to a frame with a
bad box. Every object of the class gets data columns ``length_mm``, ``width_mm``
(NaN until measured) and ``size_samples`` (how many frames the estimate rests on).

>>> import numpy as np
>>> from sightwire.config.models import MeasureOptions
>>> from sightwire.core import Detections, Frame
>>> step = MeasureAnalyser(MeasureOptions(within="parcel", mm_per_pixel=1.5))
>>> frame = Frame("belt-1", 0, 0.0, 0.0, np.zeros((720, 1280, 3), np.uint8))
>>> parcel = Detections(np.array([[100, 200, 300, 300]]), [0.9], [0], tracker_id=[1],
...                     data={"class_name": np.array(["parcel"])})
>>> out = step.analyse(frame, parcel)
>>> out.data["length_mm"].tolist(), out.data["width_mm"].tolist()
([300.0], [150.0])
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sightwire.config.models import MeasureOptions
from sightwire.core.detections import Detections
from sightwire.core.frame import Frame

LENGTH, WIDTH, SAMPLES = "length_mm", "width_mm", "size_samples"
FloatArray = npt.NDArray[np.float64]


@dataclass(slots=True)
class _Sizes:
    """Sizes of one track, in millimetres, from frames where it was fully in view."""

    lengths: deque[float]
    widths: deque[float]
    last_seen: float


class MeasureAnalyser:
    """Adds ``length_mm``, ``width_mm`` and ``size_samples`` to objects of one class.

    ``forget_s`` is how long (stream time) an unseen track's sizes are kept.
    """

    def __init__(self, options: MeasureOptions, forget_s: float = 5.0) -> None:
        self.options = options
        self.forget_s = forget_s
        self._tracks: dict[tuple[str, int], _Sizes] = {}

    def sizes(self, xyxy: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Length and width (mm) of each box, by this step's scale and length rule.

        >>> m = MeasureAnalyser(MeasureOptions(within="p", mm_per_pixel=2, length="x"))
        >>> [a.tolist() for a in m.sizes([[0, 0, 10, 40]])]
        [[20.0], [80.0]]
        """
        boxes = np.asarray(xyxy, np.float64).reshape(-1, 4)
        w = (boxes[:, 2] - boxes[:, 0]) * self.options.mm_per_pixel
        h = (boxes[:, 3] - boxes[:, 1]) * self.options.mm_per_pixel
        if self.options.length == "x":
            return w, h
        if self.options.length == "y":
            return h, w
        return np.maximum(w, h), np.minimum(w, h)

    def in_view(self, xyxy: npt.ArrayLike, width: int, height: int) -> npt.NDArray[np.bool_]:
        """Whether each box is clear of the frame's edges (by ``edge_px``)."""
        boxes = np.asarray(xyxy, np.float64).reshape(-1, 4)
        edge = self.options.edge_px
        clear: npt.NDArray[np.bool_] = (
            (boxes[:, 0] > edge)
            & (boxes[:, 1] > edge)
            & (boxes[:, 2] < width - edge)
            & (boxes[:, 3] < height - edge)
        )
        return clear

    def analyse(self, frame: Frame, detections: Detections) -> Detections:
        """``detections`` with the size columns added (objects of other classes: NaN)."""
        n = len(detections)
        length, width = np.full(n, np.nan), np.full(n, np.nan)
        samples = np.zeros(n, np.int64)
        names = detections.data.get("class_name")
        if names is not None and n:
            chosen = np.flatnonzero(np.asarray(names, dtype=str) == self.options.within)
            clear = self.in_view(detections.xyxy[chosen], frame.width, frame.height)
            lengths, widths = self.sizes(detections.xyxy[chosen])
            tracks = detections.tracker_id
            for k, index in enumerate(chosen.tolist()):
                track = -1 if tracks is None else int(tracks[index])
                seen = (lengths[k], widths[k]) if clear[k] else None
                length[index], width[index], samples[index] = self._estimate(frame, track, seen)
        self._forget(frame)
        data = {**detections.data, LENGTH: length, WIDTH: width, SAMPLES: samples}
        return Detections(
            detections.xyxy,
            detections.confidence,
            detections.class_id,
            detections.tracker_id,
            detections.mask,
            data,
        )

    def _estimate(
        self, frame: Frame, track: int, seen: tuple[float, float] | None
    ) -> tuple[float, float, int]:
        """Median length, width and sample count of ``track`` after adding ``seen``."""
        if track < 0:  # untracked: this frame's size, if fully in view
            return (seen[0], seen[1], 1) if seen else (np.nan, np.nan, 0)
        key = (frame.camera, track)
        sizes = self._tracks.get(key)
        if sizes is None:
            keep = self.options.samples
            sizes = self._tracks[key] = _Sizes(deque(maxlen=keep), deque(maxlen=keep), frame.pts)
        sizes.last_seen = frame.pts
        if seen is not None:
            sizes.lengths.append(seen[0])
            sizes.widths.append(seen[1])
        if not sizes.lengths:
            return np.nan, np.nan, 0
        return (
            float(np.median(sizes.lengths)),
            float(np.median(sizes.widths)),
            len(sizes.lengths),
        )

    def _forget(self, frame: Frame) -> None:
        stale = [
            key
            for key, sizes in self._tracks.items()
            if key[0] == frame.camera
            and (frame.pts - sizes.last_seen > self.forget_s or frame.pts < sizes.last_seen)
        ]
        for key in stale:
            del self._tracks[key]
