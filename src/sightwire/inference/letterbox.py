"""Letterbox frames to a model's input size, make the input blob, and map boxes back.

A letterboxed image keeps the frame's aspect: it is resized by one scale so it fits
the model's input, centred, and the rest is padded with grey 114 (as Ultralytics
trains). Each frame is resized once, straight into its place in the batch canvas;
the canvas becomes the NCHW RGB blob in one pass.

>>> import numpy as np
>>> frames = [np.zeros((720, 1280, 3), np.uint8), np.zeros((480, 640, 3), np.uint8)]
>>> blob, boxes = make_blob(frames, (640, 640))
>>> blob.shape, blob.dtype
((2, 3, 640, 640), dtype('float32'))
>>> boxes[0].to_frame(np.array([[0, 140, 640, 500]], np.float32)).tolist()
[[0.0, 0.0, 1280.0, 720.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from sightwire.core.frame import Image

PAD_VALUE = 114
"""Grey level of the padding (what Ultralytics models were trained with)."""
Size = tuple[int, int]
"""(height, width) in pixels."""
FloatArray = npt.NDArray[np.float32]

_FP16_TABLE = (np.arange(256, dtype=np.float32) / 255).astype(np.float16)


@dataclass(frozen=True, slots=True)
class Letterbox:
    """Where a frame was placed in the model input: ``input = frame * scale + pad``.

    ``frame_size`` and ``input_size`` are (height, width).
    """

    scale: float
    pad_x: float
    pad_y: float
    frame_size: Size
    input_size: Size

    @classmethod
    def fit(cls, frame_size: Size, input_size: Size) -> Letterbox:
        """The placement of a frame of ``frame_size`` in a model input of ``input_size``.

        >>> Letterbox.fit((720, 1280), (640, 640)).pad_y
        140.0
        """
        fh, fw = frame_size
        ih, iw = input_size
        scale = min(ih / fh, iw / fw)
        new_w, new_h = _resized(frame_size, scale)
        return cls(
            scale, float((iw - new_w) // 2), float((ih - new_h) // 2), frame_size, input_size
        )

    @property
    def resized_size(self) -> Size:
        """(height, width) of the frame after scaling, before padding."""
        new_w, new_h = _resized(self.frame_size, self.scale)
        return (new_h, new_w)

    def to_frame(self, xyxy: npt.ArrayLike) -> FloatArray:
        """Boxes (N, 4) in model-input pixels as boxes in frame pixels, clipped to the frame."""
        boxes = np.asarray(xyxy, np.float32).reshape(-1, 4)
        pad = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y], np.float32)
        mapped = (boxes - pad) / np.float32(self.scale)
        fh, fw = self.frame_size
        np.clip(mapped[:, 0::2], 0, fw, out=mapped[:, 0::2])
        np.clip(mapped[:, 1::2], 0, fh, out=mapped[:, 1::2])
        return mapped

    def to_input(self, xyxy: npt.ArrayLike) -> FloatArray:
        """Boxes (N, 4) in frame pixels as boxes in model-input pixels (for tests and tools)."""
        boxes = np.asarray(xyxy, np.float32).reshape(-1, 4)
        pad = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y], np.float32)
        placed: FloatArray = boxes * np.float32(self.scale) + pad
        return placed


def _resized(frame_size: Size, scale: float) -> tuple[int, int]:
    """(width, height) of a frame scaled by ``scale``, at least one pixel each."""
    fh, fw = frame_size
    return max(1, round(fw * scale)), max(1, round(fh * scale))


def letterbox(image: Image, input_size: Size, out: Image | None = None) -> tuple[Image, Letterbox]:
    """``image`` letterboxed to ``input_size`` (height, width), and its placement.

    ``out`` is an optional (height, width, 3) uint8 canvas, already filled with
    ``PAD_VALUE``, to draw into (no allocation).

    >>> import numpy as np
    >>> boxed, placement = letterbox(np.zeros((100, 200, 3), np.uint8), (64, 64))
    >>> boxed.shape, placement.pad_y, int(boxed[0, 0, 0])
    ((64, 64, 3), 16.0, 114)
    """
    box = Letterbox.fit((int(image.shape[0]), int(image.shape[1])), input_size)
    ih, iw = input_size
    canvas = np.full((ih, iw, 3), PAD_VALUE, np.uint8) if out is None else out
    new_h, new_w = box.resized_size
    top, left = int(box.pad_y), int(box.pad_x)
    target = canvas[top : top + new_h, left : left + new_w]
    if (new_h, new_w) == image.shape[:2]:
        target[...] = image
    else:
        cv2.resize(image, (new_w, new_h), dst=target, interpolation=cv2.INTER_LINEAR)
    return canvas, box


def make_blob(
    images: Sequence[Image], input_size: Size, dtype: npt.DTypeLike = np.float32
) -> tuple[npt.NDArray[Any], list[Letterbox]]:
    """The NCHW RGB blob in [0, 1] of letterboxed BGR ``images``, and their placements.

    ``dtype`` is float32 or float16 (models exported with ``half=True``).
    """
    ih, iw = input_size
    canvas = np.full((len(images), ih, iw, 3), PAD_VALUE, np.uint8)
    boxes = [letterbox(image, input_size, out=canvas[i])[1] for i, image in enumerate(images)]
    return to_blob(canvas, dtype), boxes


def to_blob(canvas: npt.NDArray[np.uint8], dtype: npt.DTypeLike = np.float32) -> npt.NDArray[Any]:
    """A (B, H, W, 3) BGR uint8 batch as a (B, 3, H, W) RGB blob scaled to [0, 1]."""
    target = np.dtype(dtype)
    rgb_planes = canvas[..., ::-1].transpose(0, 3, 1, 2)
    blob = np.empty(rgb_planes.shape, target)
    if target == np.float16:
        # uint8 → float16 arithmetic is slow in numpy; a 256-entry table is 4x faster
        for i in range(len(canvas)):
            for channel in range(3):
                np.take(_FP16_TABLE, rgb_planes[i, channel], out=blob[i, channel])
    elif target == np.float32:
        np.multiply(rgb_planes, np.float32(1 / 255), out=blob)
    else:
        raise ValueError(f"model input type {target} is not supported (float32 or float16)")
    return blob
