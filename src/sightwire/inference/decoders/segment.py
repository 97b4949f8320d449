"""YOLOv8 / YOLO11 segmentation outputs: ``[1, 4 + C + M, N]`` and protos ``[1, M, h, w]``.

The first output is a YOLOv8 detection output with M mask coefficients after the
class scores; an object's mask is its coefficients times the prototype masks, cut
to its box. Masks come back at frame size in ``Detections.mask`` (N, H, W) bool:
each object's box is sampled straight from the prototypes (one affine warp per
object), so no frame-sized float image is ever made.

>>> # d = SegmentDecoder(80, 32).decode([rows, protos], placement, DecodeParams())
>>> # d.mask.shape == (len(d), frame_height, frame_width)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from sightwire.core.detections import Detections
from sightwire.inference.decoders.base import (
    DecodeParams,
    DecoderSpec,
    Fit,
    OutputLayout,
    Shape,
    best_class,
    center_to_corners,
    dims3,
    select,
)
from sightwire.inference.letterbox import Letterbox

FloatArray = npt.NDArray[np.float32]


class SegmentDecoder:
    """Decoder of ``[4 + C + M, N]`` rows and ``[M, h, w]`` prototype masks."""

    def __init__(self, class_count: int, mask_count: int, protos_first: bool = False) -> None:
        self.class_count = class_count
        self.mask_count = mask_count
        self.protos_first = protos_first  # some exports list the prototypes first

    def decode(
        self, outputs: Sequence[npt.NDArray[Any]], placement: Letterbox, params: DecodeParams
    ) -> Detections:
        """Detections with masks, in frame pixels, of one image's two outputs."""
        rows, protos = (outputs[1], outputs[0]) if self.protos_first else outputs[:2]
        first_coef = 4 + self.class_count
        scores, class_ids = best_class(rows[4:first_coef], axis=0)
        keep = np.flatnonzero(scores >= params.confidence)
        xyxy = center_to_corners(rows[:4, keep].T)
        boxes, kept = select(xyxy, scores[keep], class_ids[keep], placement, params)
        coefficients = rows[first_coef:, keep[kept]].T.astype(np.float32)
        return Detections(
            xyxy=boxes.xyxy,
            confidence=boxes.confidence,
            class_id=boxes.class_id,
            mask=masks_in_frame(coefficients, protos, boxes.xyxy, placement),
        )


def masks_in_frame(
    coefficients: FloatArray, protos: npt.NDArray[Any], xyxy: FloatArray, placement: Letterbox
) -> npt.NDArray[np.bool_]:
    """(K, H, W) frame-sized masks of K objects: coefficients (K, M) × protos (M, h, w),
    sampled inside each object's frame box (xyxy), positive logits kept."""
    fh, fw = placement.frame_size
    masks = np.zeros((len(coefficients), fh, fw), bool)
    mask_count, ph, pw = protos.shape
    flat = protos.reshape(mask_count, -1).astype(np.float32)
    logits = (coefficients @ flat).reshape(-1, ph, pw)
    ih, iw = placement.input_size
    ratio_x, ratio_y = pw / iw, ph / ih
    for i, (x1, y1, x2, y2) in enumerate(xyxy.tolist()):
        left, top = max(0, math.floor(x1)), max(0, math.floor(y1))
        right, bottom = min(fw, math.ceil(x2)), min(fh, math.ceil(y2))
        if right <= left or bottom <= top:
            continue
        # frame pixel centre (u + 0.5) → input pixel → proto pixel (centre convention)
        sx, sy = placement.scale * ratio_x, placement.scale * ratio_y
        tx = ((left + 0.5) * placement.scale + placement.pad_x) * ratio_x - 0.5
        ty = ((top + 0.5) * placement.scale + placement.pad_y) * ratio_y - 0.5
        to_proto = np.array([[sx, 0, tx], [0, sy, ty]], np.float64)
        sampled = cv2.warpAffine(
            logits[i],
            to_proto,
            (right - left, bottom - top),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )
        masks[i, top:bottom, left:right] = sampled > 0  # sigmoid > 0.5
    return masks


def fit(layout: OutputLayout) -> Fit:
    """How well ``layout`` looks like a YOLOv8 segmentation output pair."""
    if len(layout.shapes) != 2:
        return Fit.NONE
    first, protos = _rows_and_protos(layout)
    dims = dims3(first)
    if dims is None or len(protos) != 4 or not isinstance(protos[1], int):
        return Fit.NONE
    channels, boxes = dims
    masks = protos[1]
    if not isinstance(channels, int) or channels <= 4 + masks:
        return Fit.NONE
    if isinstance(boxes, int) and boxes in layout.anchor_counts():
        return Fit.ANCHORS
    if layout.class_count is not None and channels == 4 + layout.class_count + masks:
        return Fit.CLASSES
    return Fit.SHAPE


def make(layout: OutputLayout) -> SegmentDecoder:
    """The decoder for ``layout`` (which :func:`fit` accepted)."""
    rows, protos = _rows_and_protos(layout)
    channels, masks = rows[1], protos[1]
    assert isinstance(channels, int) and isinstance(masks, int)
    return SegmentDecoder(channels - 4 - masks, masks, protos_first=len(layout.shapes[0]) == 4)


def _rows_and_protos(layout: OutputLayout) -> tuple[Shape, Shape]:
    """The detection rows' shape and the prototypes' shape, whichever comes first."""
    first, second = layout.shapes
    return (second, first) if len(first) == 4 else (first, second)


SPEC = DecoderSpec(name="yolov8-seg", task="segment", fit=fit, make=make)
