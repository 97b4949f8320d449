"""The ``measure`` step: object sizes in millimetres from a calibrated scale.

With ``mm_per_pixel`` the scale at the working plane (a belt seen from above), a
box of w x h pixels is ``w * mm_per_pixel`` by ``h * mm_per_pixel`` millimetres.
The *length* is the longer side (``length: longer``, the default), or the side along
x or y (``length: x`` for a belt running left to right); the *width* is the other.

A detector's box is only roughly where the object's edges are (a few per cent of its
size), too rough to tell a parcel 5 % off its manifest. So each box is first
*refined* from the picture: within a margin around it, the object is told from the
background by brightness (a level between the background's and the object's own,
both estimated from the crop), and its edges are where at least half of the rows
(columns) across its middle are object. A crop without that contrast keeps the
detector's box. See :func:`refine_box`.

A box touching the frame's edge (within ``edge_px``) is cut off, so it is not
measured. Per track, the sizes of the frames the object was fully in view are kept
(the last ``samples``) and their median is the estimate, robust to a frame with a
bad box. Every object of the class gets data columns ``length_mm``, ``width_mm``
(NaN until measured) and ``size_samples`` (how many frames the estimate rests on).

With a depth stream (the camera's ``depth:``), each frame is paired with its depth
picture by time and the object's height above the belt is read inside its box (see
:mod:`sightwire.analysis.height`); the columns ``height_mm`` (median over the
frames), ``height_samples`` and ``dim_weight_kg`` (L x W x H / 5000, cm and kg) are
added (NaN until known). Without one, those columns are absent.

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

import cv2
import numpy as np
import numpy.typing as npt

from sightwire.analysis.height import DIM_DIVISOR, BeltModel, height_in_box
from sightwire.config.models import DepthConfig, MeasureOptions
from sightwire.core.detections import Detections
from sightwire.core.frame import Frame
from sightwire.sources.depth import DepthImage, DepthStream, open_depth
from sightwire.tracking.memory import TrackMemory

LENGTH, WIDTH, SAMPLES = "length_mm", "width_mm", "size_samples"
HEIGHT, HEIGHT_SAMPLES, DIM_WEIGHT = "height_mm", "height_samples", "dim_weight_kg"
FloatArray = npt.NDArray[np.float64]

MARGIN_SHARE = 0.15
"""Grow a box by this share of its size (at most ``MARGIN_MAX_PX``) to look for edges."""
MARGIN_MAX_PX = 50
SMOOTH_PX = 5
"""Length of the smoothing along each edge, pixels."""
OUTER_BAND = 0.5
"""The outer share of the margin taken as background."""
MIN_CONTRAST = 24.0
"""Least grey-level difference between object and background for refining a box."""
LEVEL = 0.3
"""Where between the background's and the object's grey level the threshold lies (a
little towards the background, so a darker rim still counts as the object)."""
MAX_CHANGE = 0.25
"""A refined side more than this share off the detector's is distrusted."""


def refine_box(image: npt.NDArray[np.uint8], box: npt.ArrayLike) -> FloatArray:
    """``box`` (x1, y1, x2, y2) snapped to the edges of the bright object in it, seen
    against a darker background (parcels on a belt); ``box`` itself when the crop has
    too little contrast or the edges found are implausible.

    >>> picture = np.full((100, 200, 3), 50, np.uint8)
    >>> picture[30:70, 40:150] = 160                      # the object: 110 x 40 pixels
    >>> refine_box(picture, [45, 27, 143, 72]).tolist()   # the detector's rough box
    [40.0, 30.0, 150.0, 70.0]
    """
    x1, y1, x2, y2 = (float(v) for v in np.asarray(box, np.float64).reshape(4))
    height, width = image.shape[:2]
    w, h = x2 - x1, y2 - y1
    if w < 8 or h < 8:
        return np.array([x1, y1, x2, y2])
    mx = min(MARGIN_SHARE * w, MARGIN_MAX_PX)
    my = min(MARGIN_SHARE * h, MARGIN_MAX_PX)
    cx1, cy1 = max(int(x1 - mx), 0), max(int(y1 - my), 0)
    cx2, cy2 = min(int(np.ceil(x2 + mx)), width), min(int(np.ceil(y2 + my)), height)
    crop = image[cy1:cy2, cx1:cx2]
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    gray = np.asarray(grey, np.float32)
    # The object's level: most of the inner box is object (a label or tape is brighter,
    # a barcode or a rim darker). The background's: the outer part of the margin, where
    # the object is not even when the detector's box is several per cent too small.
    ix1, iy1 = int(x1 - cx1 + 0.2 * w), int(y1 - cy1 + 0.2 * h)
    ix2, iy2 = int(x2 - cx1 - 0.2 * w), int(y2 - cy1 - 0.2 * h)
    inner = gray[iy1:iy2, ix1:ix2]
    ring = np.ones(gray.shape, bool)
    bx, by = int(OUTER_BAND * mx), int(OUTER_BAND * my)
    ring[by : gray.shape[0] - by, bx : gray.shape[1] - bx] = False
    if inner.size == 0 or not ring.any():
        return np.array([x1, y1, x2, y2])
    fore = float(np.percentile(inner, 30))
    back = float(np.percentile(gray[ring], 30))
    if fore - back < MIN_CONTRAST:
        return np.array([x1, y1, x2, y2])
    # Smoothing along an edge (not across it) quiets noise and texture without moving
    # the edge: vertically for the left and right edges, horizontally for the others.
    level = back + LEVEL * (fore - back)
    along_y = cv2.blur(gray, (1, SMOOTH_PX)) > level
    along_x = cv2.blur(gray, (SMOOTH_PX, 1)) > level
    # Columns judged on the rows across the object's middle, rows on its middle columns,
    # so a neighbour's corner in the margin does not count.
    columns = along_y[iy1:iy2].mean(axis=0)
    rows = along_x[:, ix1:ix2].mean(axis=1)
    lo_x, hi_x = _run(columns, (ix1 + ix2) // 2)
    lo_y, hi_y = _run(rows, (iy1 + iy2) // 2)
    refined = np.array([cx1 + lo_x, cy1 + lo_y, cx1 + hi_x, cy1 + hi_y], np.float64)
    rw, rh = refined[2] - refined[0], refined[3] - refined[1]
    if abs(rw - w) > MAX_CHANGE * w or abs(rh - h) > MAX_CHANGE * h:
        return np.array([x1, y1, x2, y2])
    return refined


def _run(share: FloatArray, centre: int) -> tuple[float, float]:
    """The run of ``share`` > 0.5 around ``centre``, as (start, end) with sub-pixel ends
    (where ``share`` crosses 0.5 between two samples)."""
    inside = share > 0.5
    if not inside[centre]:
        hits = np.flatnonzero(inside)
        if not len(hits):
            return 0.0, float(len(share))
        centre = int(hits[np.argmin(np.abs(hits - centre))])
    start = centre
    while start > 0 and inside[start - 1]:
        start -= 1
    end = centre + 1
    while end < len(share) and inside[end]:
        end += 1
    return _edge(share, start - 1, start), _edge(share, end, end - 1)


def _edge(share: FloatArray, out: int, into: int) -> float:
    """Where between pixel ``out`` (outside) and pixel ``into`` share crosses 0.5, as a
    boundary position: ``into``'s near edge when ``out`` is off the array."""
    near = float(min(out, into) + 1) if out < into else float(into + 1)
    if out < 0 or out >= len(share):
        return near
    a, b = float(share[out]), float(share[into])
    t = (0.5 - a) / (b - a) if b != a else 0.5  # 0 at the outside pixel, 1 inside
    # Pixel centres are at i + 0.5; the boundary lies where the share is 0.5.
    return (out + 0.5) + t * (into - out)


@dataclass(slots=True)
class _Sizes:
    """Sizes of one track, in millimetres, from frames where it was fully in view."""

    lengths: deque[float]
    widths: deque[float]
    heights: deque[float]
    last_seen: float


class Heights:
    """A camera's depth stream and belt model: heights of boxes on a colour frame.

    >>> # heights = Heights.open(camera_config.depth)
    >>> # heights.read(frame, boxes)   # mm per box, NaN where unknown
    """

    def __init__(self, stream: DepthStream, belt: BeltModel, *, shrink: float = 0.2) -> None:
        self.stream, self.belt, self.shrink = stream, belt, shrink

    @classmethod
    def open(cls, config: DepthConfig) -> Heights:
        """The depth stream and belt model a camera's ``depth:`` describes."""
        reader = open_depth(config.source, fps=config.fps)
        stream = DepthStream(reader, max_skew_s=config.max_skew_s)
        belt = BeltModel(config.belt_mm, learn_frames=config.learn_frames, unit_mm=config.unit_mm)
        return cls(stream, belt, shrink=config.shrink)

    def read(self, frame: Frame, boxes: FloatArray, objects: FloatArray) -> FloatArray:
        """Height (mm) of each of ``boxes`` on ``frame``, NaN where unknown; the belt
        model learns from the depth picture outside ``objects`` (every object's box)."""
        heights = np.full(len(boxes), np.nan)
        depth: DepthImage | None = self.stream.at(frame.pts)
        if depth is None:
            return heights
        size = (frame.width, frame.height)
        self.belt.learn(depth, objects, size)
        for k, box in enumerate(boxes):
            h = height_in_box(
                depth, self.belt, box, size, shrink=self.shrink, unit_mm=self.belt.unit_mm
            )
            heights[k] = np.nan if h is None else h
        return heights


class MeasureAnalyser:
    """Adds ``length_mm``, ``width_mm`` and ``size_samples`` to objects of one class,
    and with ``heights`` (a depth stream) ``height_mm``, ``height_samples`` and
    ``dim_weight_kg``.

    ``forget_s`` is how long (stream time) an unseen track's sizes are kept.
    """

    def __init__(
        self,
        options: MeasureOptions,
        forget_s: float = 5.0,
        *,
        refine: bool = True,
        heights: Heights | None = None,
    ) -> None:
        self.options = options
        self.forget_s = forget_s
        self.refine = refine
        self.heights = heights
        self._tracks: TrackMemory[_Sizes] = TrackMemory(forget_s)

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
        out = _Columns(n)
        names = detections.data.get("class_name")
        chosen = np.zeros(0, np.int64)
        if names is not None and n:
            chosen = np.flatnonzero(np.asarray(names, dtype=str) == self.options.within)
        boxes = np.array(detections.xyxy[chosen], np.float64).reshape(-1, 4)
        clear = self.in_view(boxes, frame.width, frame.height)
        if self.refine and clear.any():
            for k in np.flatnonzero(clear).tolist():
                boxes[k] = refine_box(frame.image, boxes[k])
            clear &= self.in_view(boxes, frame.width, frame.height)
        # Heights need the depth picture of every analysed frame (the belt is learned
        # around the objects), even one without an object of the class.
        heights = np.full(len(boxes), np.nan)
        if self.heights is not None:
            every = np.asarray(detections.xyxy, np.float64).reshape(-1, 4)
            heights = self.heights.read(frame, boxes, every)
        lengths, widths = self.sizes(boxes)
        tracks = detections.tracker_id
        for k, index in enumerate(chosen.tolist()):
            track = -1 if tracks is None else int(tracks[index])
            seen = (lengths[k], widths[k]) if clear[k] else None
            out.put(index, self._estimate(frame, track, seen, heights[k]))
        self._tracks.forget(frame.camera, frame.pts)
        data = {**detections.data, **out.columns(with_height=self.heights is not None)}
        return Detections(
            detections.xyxy,
            detections.confidence,
            detections.class_id,
            detections.tracker_id,
            detections.mask,
            data,
        )

    def _estimate(
        self, frame: Frame, track: int, seen: tuple[float, float] | None, height: float
    ) -> _Estimate:
        """Medians of ``track``'s sizes after adding this frame's (``seen`` when fully
        in view, ``height`` when not NaN)."""
        keep = self.options.samples
        if track < 0:  # untracked: this frame's sizes only
            sizes = _Sizes(deque(maxlen=1), deque(maxlen=1), deque(maxlen=1), frame.pts)
        else:
            key = (frame.camera, track)
            found = self._tracks.get(key)
            if found is None:
                found = _Sizes(deque(maxlen=keep), deque(maxlen=keep), deque(maxlen=keep), 0.0)
                self._tracks[key] = found
            sizes = found
        sizes.last_seen = frame.pts
        if seen is not None:
            sizes.lengths.append(seen[0])
            sizes.widths.append(seen[1])
        if seen is not None and np.isfinite(height):
            # Only whole views: a box cut by the frame's edge misplaces the shrunk box.
            sizes.heights.append(height)
        return _Estimate(
            _median(sizes.lengths),
            _median(sizes.widths),
            len(sizes.lengths),
            _median(sizes.heights),
            len(sizes.heights),
        )


def _median(values: deque[float]) -> float:
    return float(np.median(values)) if values else float("nan")


@dataclass(frozen=True, slots=True)
class _Estimate:
    length: float
    width: float
    samples: int
    height: float
    height_samples: int


class _Columns:
    """The data columns the measure step adds, filled object by object."""

    def __init__(self, n: int) -> None:
        self.length, self.width, self.height = (np.full(n, np.nan) for _ in range(3))
        self.samples, self.height_samples = np.zeros(n, np.int64), np.zeros(n, np.int64)

    def put(self, index: int, e: _Estimate) -> None:
        self.length[index], self.width[index] = e.length, e.width
        self.samples[index], self.height[index] = e.samples, e.height
        self.height_samples[index] = e.height_samples

    def columns(self, *, with_height: bool) -> dict[str, npt.NDArray[np.float64 | np.int64]]:
        out: dict[str, npt.NDArray[np.float64 | np.int64]] = {
            LENGTH: self.length,
            WIDTH: self.width,
            SAMPLES: self.samples,
        }
        if with_height:
            # NaN propagates: no dimensional weight without all three sizes.
            dim = self.length * self.width * self.height / (1000 * DIM_DIVISOR)
            out |= {HEIGHT: self.height, HEIGHT_SAMPLES: self.height_samples, DIM_WEIGHT: dim}
        return out
