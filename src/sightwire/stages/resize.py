"""Resize frames to a width and/or height (aspect kept when only one is given).

>>> import numpy as np
>>> target_size((1280, 720), width=640)
(640, 360)
>>> resize(np.zeros((720, 1280, 3), np.uint8), height=180).shape
(180, 320, 3)
"""

from __future__ import annotations

import cv2
import numpy as np

from sightwire.core.frame import Frame, Image
from sightwire.stages.geometry import moved


def target_size(
    size: tuple[int, int], *, width: int | None = None, height: int | None = None
) -> tuple[int, int]:
    """The (width, height) a picture of ``size`` (width, height) is resized to: with
    both ``width`` and ``height`` exactly that, with one the other keeps the aspect,
    with none the size does not change."""
    old_w, old_h = size
    if width is not None and height is not None:
        return width, height
    if width is not None:
        return width, max(1, round(old_h * width / old_w))
    if height is not None:
        return max(1, round(old_w * height / old_h)), height
    return old_w, old_h


def resize(image: Image, *, width: int | None = None, height: int | None = None) -> Image:
    """``image`` resized (INTER_AREA when shrinking, INTER_LINEAR when enlarging);
    the same array when the size does not change."""
    old_h, old_w = image.shape[:2]
    new_w, new_h = target_size((old_w, old_h), width=width, height=height)
    if (new_w, new_h) == (old_w, old_h):
        return image
    shrinking = new_w * new_h < old_w * old_h
    method = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(image, (new_w, new_h), interpolation=method), np.uint8)


class Resize:
    """Stage: resize every frame; the scale goes into the frame's transform.

    >>> stage = Resize(width=640)
    >>> frame = stage(frame)  # doctest: +SKIP
    """

    def __init__(self, *, width: int | None = None, height: int | None = None) -> None:
        if width is None and height is None:
            raise ValueError("resize needs a width, a height or both")
        self.width, self.height = width, height

    def __call__(self, frame: Frame) -> Frame:
        image = resize(frame.image, width=self.width, height=self.height)
        if image is frame.image:
            return frame
        scale = (frame.width / image.shape[1], frame.height / image.shape[0])
        return moved(frame, image, scale=scale)
