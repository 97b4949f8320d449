"""Heights from a top-down depth picture, and dimensional weight.

A camera looking straight down sees the belt at a distance ``belt`` and a parcel's
top at ``belt - height``. :func:`height_in_box` takes the depth inside a parcel's box,
shrunk so that its edges (mixed pixels, the belt beside it) do not count, and returns
``belt - median depth`` over the pixels with a reading; :class:`BeltModel` knows the
belt's distance, configured or learned per pixel from the belt seen around parcels.

>>> depth = np.full((90, 160), 2000, np.uint16)
>>> depth[20:60, 30:110] = 1700                       # a parcel 300 mm tall
>>> belt = BeltModel(belt_mm=2000)
>>> height_in_box(depth, belt, (120, 80, 440, 240), (640, 360))   # colour 640 x 360
300.0
>>> dim_weight_kg(400, 300, 250)                      # 40 x 30 x 25 cm / 5000
6.0
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sightwire.sources.depth import DepthImage

FloatArray = npt.NDArray[np.float64]
DIM_DIVISOR = 5000.0
"""Carriers' divisor: cm³ per kg of dimensional weight."""
MIN_VALID_SHARE = 0.3
"""Least share of the shrunk box with a depth reading for a height to be trusted."""


def dim_weight_kg(length_mm: float, width_mm: float, height_mm: float) -> float:
    """Dimensional weight, kg: L x W x H in centimetres over 5000."""
    return (length_mm / 10) * (width_mm / 10) * (height_mm / 10) / DIM_DIVISOR


def depth_box(
    box: npt.ArrayLike, colour_size: tuple[int, int], depth_shape: tuple[int, ...], shrink: float
) -> tuple[int, int, int, int] | None:
    """``box`` (colour pixels, x1 y1 x2 y2) in depth pixels, shrunk by ``shrink`` of its
    size on each side; None when nothing is left."""
    x1, y1, x2, y2 = (float(v) for v in np.asarray(box, np.float64).reshape(4))
    sx, sy = depth_shape[1] / colour_size[0], depth_shape[0] / colour_size[1]
    dx, dy = (x2 - x1) * shrink, (y2 - y1) * shrink
    left, right = int(np.ceil((x1 + dx) * sx)), int(np.floor((x2 - dx) * sx))
    top, bottom = int(np.ceil((y1 + dy) * sy)), int(np.floor((y2 - dy) * sy))
    left, top = max(left, 0), max(top, 0)
    right, bottom = min(right, depth_shape[1]), min(bottom, depth_shape[0])
    if right <= left or bottom <= top:
        return None
    return left, top, right, bottom


def height_in_box(
    depth: DepthImage,
    belt: BeltModel,
    box: npt.ArrayLike,
    colour_size: tuple[int, int],
    *,
    shrink: float = 0.2,
    unit_mm: float = 1.0,
) -> float | None:
    """Height (mm) of the object in ``box`` above the belt, or None (belt unknown there,
    too few readings). The median ignores a label's glare, holes and a few mixed pixels."""
    region = depth_box(box, colour_size, depth.shape, shrink)
    if region is None:
        return None
    x1, y1, x2, y2 = region
    patch = depth[y1:y2, x1:x2].astype(np.float64) * unit_mm
    below = belt.distance(region, depth.shape)
    valid = (patch > 0) & np.isfinite(below)
    if valid.sum() < MIN_VALID_SHARE * patch.size:
        return None
    return float(np.median(below[valid] - patch[valid]))


class BeltModel:
    """The belt's distance from the camera, mm: ``belt_mm`` when configured, else
    learned per depth pixel as the median of the first ``learn_frames`` readings
    taken where no object was (see :meth:`learn`).

    >>> model = BeltModel(learn_frames=3)
    >>> for _ in range(3):
    ...     model.learn(np.full((4, 4), 1500, np.uint16), [], (8, 8))
    >>> float(model.distance((0, 0, 2, 2), (4, 4))[0, 0])
    1500.0
    """

    def __init__(
        self,
        belt_mm: float | None = None,
        *,
        learn_frames: int = 15,
        unit_mm: float = 1.0,
        margin: float = 0.1,
    ) -> None:
        self.belt_mm = belt_mm
        self.learn_frames = learn_frames
        self.unit_mm = unit_mm
        self.margin = margin
        self._samples: npt.NDArray[np.uint16] | None = None
        self._counts: npt.NDArray[np.int64] | None = None
        self._learned: FloatArray | None = None

    @property
    def learning(self) -> bool:
        """Whether the belt is still being learned (not configured)."""
        return self.belt_mm is None

    def distance(self, region: tuple[int, int, int, int], shape: tuple[int, ...]) -> FloatArray:
        """The belt's distance (mm) under ``region`` of a depth picture of ``shape``;
        NaN where it is not known yet."""
        x1, y1, x2, y2 = region
        if self.belt_mm is not None:
            return np.full((y2 - y1, x2 - x1), float(self.belt_mm))
        if self._learned is None or self._learned.shape != shape[:2]:
            return np.full((y2 - y1, x2 - x1), np.nan)
        return self._learned[y1:y2, x1:x2]

    def learn(self, depth: DepthImage, boxes: npt.ArrayLike, colour_size: tuple[int, int]) -> None:
        """Learn from ``depth`` wherever it shows no object: outside every box (colour
        pixels, grown by ``margin``) and with a reading. A pixel's belt distance is the
        median of its first ``learn_frames`` such readings, robust to a parcel the
        detector had not found yet."""
        if self.belt_mm is not None:
            return
        shape = depth.shape[:2]
        if self._samples is None or self._samples.shape[1:] != shape:
            self._samples = np.zeros((self.learn_frames, *shape), np.uint16)
            self._counts = np.zeros(shape, np.int64)
        assert self._counts is not None
        free = depth > 0
        for box in np.asarray(boxes, np.float64).reshape(-1, 4):
            grown = depth_box(box, colour_size, shape, -self.margin)
            if grown is not None:
                x1, y1, x2, y2 = grown
                free[y1:y2, x1:x2] = False
        free &= self._counts < self.learn_frames
        rows, cols = np.nonzero(free)
        if not len(rows):
            return
        self._samples[self._counts[rows, cols], rows, cols] = depth[rows, cols]
        self._counts[rows, cols] += 1
        self._update(rows, cols)

    def _update(self, rows: npt.NDArray[np.intp], cols: npt.NDArray[np.intp]) -> None:
        """Recompute the belt distance of the pixels just learned: the median of their
        readings so far, once they have at least half of ``learn_frames``."""
        assert self._samples is not None and self._counts is not None
        if self._learned is None or self._learned.shape != self._counts.shape:
            self._learned = np.full(self._counts.shape, np.nan)
        counts = self._counts[rows, cols]
        enough = counts >= max(1, (self.learn_frames + 1) // 2)
        rows, cols, counts = rows[enough], cols[enough], counts[enough]
        if not len(rows):
            return
        samples = self._samples[:, rows, cols].astype(np.float64)
        samples[np.arange(self.learn_frames)[:, None] >= counts[None]] = np.nan
        self._learned[rows, cols] = np.nanmedian(samples, axis=0) * self.unit_mm
