"""YOLOv8 / YOLO11 detection output: ``[1, 4 + C, N]``.

Per box (a column): centre-x, centre-y, width, height in model-input pixels, then C
class scores (already sigmoid; no objectness). Needs class-aware NMS.

>>> import numpy as np
>>> from sightwire.inference.letterbox import Letterbox
>>> out = np.zeros((6, 84), np.float32)            # 2 classes, 84 boxes (64 x 64 input)
>>> out[:, 0] = [32, 32, 20, 10, 0.1, 0.9]          # one box of class 1
>>> d = YoloV8Decoder(2).decode([out], Letterbox.fit((64, 64), (64, 64)), DecodeParams())
>>> d.xyxy.tolist(), d.class_id.tolist()
([[22.0, 27.0, 42.0, 37.0]], [1])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from sightwire.core.detections import Detections
from sightwire.inference.decoders.base import (
    DecodeParams,
    DecoderSpec,
    Fit,
    OutputLayout,
    best_class,
    center_to_corners,
    dims3,
    select,
)
from sightwire.inference.letterbox import Letterbox


class YoloV8Decoder:
    """Decoder of ``[4 + C, N]`` outputs with ``class_count`` = C."""

    def __init__(self, class_count: int) -> None:
        self.class_count = class_count

    def decode(
        self, outputs: Sequence[npt.NDArray[Any]], placement: Letterbox, params: DecodeParams
    ) -> Detections:
        """Detections in frame pixels of one image's ``[4 + C, N]`` output."""
        rows = outputs[0]
        scores, class_ids = best_class(rows[4:], axis=0)
        keep = np.flatnonzero(scores >= params.confidence)
        xyxy = center_to_corners(rows[:4, keep].T)
        detections, _ = select(xyxy, scores[keep], class_ids[keep], placement, params)
        return detections


def fit(layout: OutputLayout) -> Fit:
    """How well ``layout`` looks like a YOLOv8 detection output."""
    if len(layout.shapes) != 1 or (dims := dims3(layout.shapes[0])) is None:
        return Fit.NONE
    channels, boxes = dims
    if not isinstance(channels, int) or channels <= 4:
        return Fit.NONE
    if isinstance(boxes, int) and boxes in layout.anchor_counts():
        return Fit.ANCHORS
    if layout.class_count is not None and channels == 4 + layout.class_count:
        return Fit.CLASSES
    if not isinstance(boxes, int) or channels < boxes:
        return Fit.SHAPE
    return Fit.NONE


def make(layout: OutputLayout) -> YoloV8Decoder:
    """The decoder for ``layout`` (which :func:`fit` accepted)."""
    channels = layout.shapes[0][1]
    assert isinstance(channels, int)
    return YoloV8Decoder(channels - 4)


SPEC = DecoderSpec(name="yolov8", task="detect", fit=fit, make=make)
