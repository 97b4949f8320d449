"""Region of interest: black out everything outside a polygon, or cut out a rectangle.

>>> import numpy as np
>>> image = np.full((100, 200, 3), 255, np.uint8)
>>> part, offset = crop(image, (50, 10, 150, 60))
>>> part.shape, offset
((50, 100, 3), (50, 10))
>>> masked = PolygonMask([(0, 0), (100, 0), (100, 100), (0, 100)]).apply(image)
>>> int(masked[50, 50, 0]), int(masked[50, 150, 0])
(255, 0)
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from sightwire.core.frame import Frame, Image
from sightwire.stages.geometry import moved

Point = tuple[float, float]
Rect = tuple[int, int, int, int]


def crop(image: Image, box: Rect) -> tuple[Image, tuple[int, int]]:
    """The part of ``image`` inside ``box`` (x1, y1, x2, y2; clipped to the picture) as a
    view, without copying, and its offset: add it to map boxes back."""
    height, width = image.shape[:2]
    x1, y1 = min(max(box[0], 0), width), min(max(box[1], 0), height)
    x2, y2 = min(max(box[2], x1), width), min(max(box[3], y1), height)
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f"crop {box} leaves nothing of a {width}x{height} picture")
    return image[y1:y2, x1:x2], (x1, y1)


class Crop:
    """Stage: cut ``box`` out of every frame; the offset goes into the frame's transform.

    >>> stage = Crop((0, 120, 1280, 600))
    >>> frame = stage(frame)  # doctest: +SKIP
    """

    def __init__(self, box: Rect) -> None:
        self.box = box

    def __call__(self, frame: Frame) -> Frame:
        part, (dx, dy) = crop(frame.image, self.box)
        return moved(frame, part, offset=(dx, dy))


class PolygonMask:
    """Stage: set pixels outside ``polygon`` (frame pixels) to zero.

    The mask is drawn once per frame size and reused.

    >>> stage = PolygonMask([(0, 120), (1280, 120), (1280, 600), (0, 600)])
    >>> frame = stage(frame)  # doctest: +SKIP
    """

    def __init__(self, polygon: Sequence[Point]) -> None:
        if len(polygon) < 3:
            raise ValueError("a polygon needs at least 3 points")
        self.polygon = np.rint(np.asarray(polygon, np.float64)).astype(np.int32)
        self._masks: dict[tuple[int, int], npt.NDArray[np.uint8]] = {}

    def mask(self, height: int, width: int) -> npt.NDArray[np.uint8]:
        """The 0/255 mask of the polygon for a ``width`` x ``height`` picture."""
        key = (height, width)
        if key not in self._masks:
            mask = np.zeros(key, np.uint8)
            cv2.fillPoly(mask, [self.polygon], 255)
            self._masks[key] = mask
        return self._masks[key]

    def apply(self, image: Image) -> Image:
        """A copy of ``image`` with everything outside the polygon zero."""
        mask = self.mask(image.shape[0], image.shape[1])
        return np.asarray(cv2.bitwise_and(image, image, mask=mask), np.uint8)

    def __call__(self, frame: Frame) -> Frame:
        return frame.with_image(self.apply(frame.image))
