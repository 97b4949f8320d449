"""YOLOv5 / YOLOv7 detection output: ``[1, N, 5 + C]``.

Per box (a row): centre-x, centre-y, width, height in model-input pixels, an
objectness score, then C class scores; a box's confidence is objectness × class
score. Needs class-aware NMS.

>>> import numpy as np
>>> from sightwire.inference.letterbox import Letterbox
>>> out = np.zeros((252, 7), np.float32)             # 2 classes, 252 boxes (64 x 64)
>>> out[0] = [32, 32, 20, 10, 0.8, 0.5, 1.0]          # objectness 0.8, class 1
>>> d = YoloV5Decoder(2).decode([out], Letterbox.fit((64, 64), (64, 64)), DecodeParams())
>>> d.xyxy.tolist(), d.class_id.tolist(), [round(float(c), 2) for c in d.confidence]
([[22.0, 27.0, 42.0, 37.0]], [1], [0.8])
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

ANCHORS_PER_CELL = 3


class YoloV5Decoder:
    """Decoder of ``[N, 5 + C]`` outputs with ``class_count`` = C."""

    def __init__(self, class_count: int) -> None:
        self.class_count = class_count

    def decode(
        self, outputs: Sequence[npt.NDArray[Any]], placement: Letterbox, params: DecodeParams
    ) -> Detections:
        """Detections in frame pixels of one image's ``[N, 5 + C]`` output."""
        rows = outputs[0]
        likely = rows[rows[:, 4] >= params.confidence]  # objectness bounds the confidence
        scores, class_ids = best_class(likely[:, 5:] * likely[:, 4:5])
        keep = np.flatnonzero(scores >= params.confidence)
        xyxy = center_to_corners(likely[keep, :4])
        detections, _ = select(xyxy, scores[keep], class_ids[keep], placement, params)
        return detections


def fit(layout: OutputLayout) -> Fit:
    """How well ``layout`` looks like a YOLOv5 detection output."""
    if len(layout.shapes) != 1 or (dims := dims3(layout.shapes[0])) is None:
        return Fit.NONE
    boxes, channels = dims
    if not isinstance(channels, int) or channels <= 5:
        return Fit.NONE
    anchors = {ANCHORS_PER_CELL * n for n in layout.anchor_counts()}
    if isinstance(boxes, int) and boxes in anchors:
        return Fit.ANCHORS
    if anchors and isinstance(boxes, int):
        return Fit.SHAPE if boxes > channels else Fit.NONE  # not a standard head
    if layout.class_count is not None and channels == 5 + layout.class_count:
        return Fit.CLASSES
    if not isinstance(boxes, int) or boxes > channels:
        return Fit.SHAPE
    return Fit.NONE


def make(layout: OutputLayout) -> YoloV5Decoder:
    """The decoder for ``layout`` (which :func:`fit` accepted)."""
    channels = layout.shapes[0][2]
    assert isinstance(channels, int)
    return YoloV5Decoder(channels - 5)


SPEC = DecoderSpec(name="yolov5", task="detect", fit=fit, make=make)
