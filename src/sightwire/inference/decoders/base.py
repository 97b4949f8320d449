"""What every output decoder shares: the layout it is chosen from, its protocol, helpers.

A decoder turns one image's raw model outputs into :class:`Detections` in frame
pixels. Decoders are chosen from the shapes of the model's outputs
(:class:`OutputLayout`): each registered :class:`DecoderSpec` says how well the shapes
fit its layout (:class:`Fit`), and the best fit wins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from sightwire.core.detections import Detections
from sightwire.inference.letterbox import Letterbox, Size
from sightwire.inference.nms import class_aware_nms

Dim = int | str | None
"""One dimension of a tensor shape: a number, or a name/None when it is dynamic."""
Shape = tuple[Dim, ...]
FloatArray = npt.NDArray[np.float32]
STRIDE_SETS: tuple[tuple[int, ...], ...] = ((8, 16, 32), (8, 16, 32, 64), (4, 8, 16, 32))
"""Detection-head strides of the YOLO families (P3-P5, P6 models, P2 models)."""


class Fit(IntEnum):
    """How well output shapes match a decoder's layout (the higher, the surer)."""

    NONE = 0
    SHAPE = 1  # the tensor ranks and orientation are right
    CLASSES = 2  # the class count agrees with the model's class names
    ANCHORS = 3  # the box count is exactly what the input size gives
    DECLARED = 4  # the model's metadata says so


@dataclass(frozen=True, slots=True)
class OutputLayout:
    """What a model's signature says: output shapes (batch axis included), its input
    size (height, width), how many class names it has (None: unknown), and whether
    its metadata declares it end-to-end (no NMS needed)."""

    shapes: tuple[Shape, ...]
    input_size: Size | None = None
    class_count: int | None = None
    end_to_end: bool = False

    def anchor_counts(self) -> set[int]:
        """The box counts a YOLO head can have at this input size (one per cell)."""
        if self.input_size is None:
            return set()
        h, w = self.input_size
        return {sum(-(-h // s) * -(-w // s) for s in strides) for strides in STRIDE_SETS}

    def describe(self) -> str:
        """The shapes as a user reads them, e.g. ``[1, 84, 8400]``."""
        return ", ".join("[" + ", ".join(str(d) for d in shape) + "]" for shape in self.shapes)


@dataclass(frozen=True, slots=True)
class DecodeParams:
    """Thresholds of one decode: minimum ``confidence``, NMS ``iou``, the most objects
    kept (``max_detections``), and ``top_k`` classes of a classifier."""

    confidence: float = 0.25
    iou: float = 0.45
    max_detections: int = 300
    top_k: int = 5


class Decoder(Protocol):
    """Turns one image's outputs (batch axis removed) into frame-pixel detections."""

    def decode(
        self, outputs: Sequence[npt.NDArray[Any]], placement: Letterbox, params: DecodeParams
    ) -> Detections: ...


@dataclass(frozen=True, slots=True)
class DecoderSpec:
    """A registry entry: the layout's ``name``, the ``task`` it serves, how well a
    model's layout fits it, and how to make the decoder for that layout."""

    name: str
    task: str
    fit: Callable[[OutputLayout], Fit]
    make: Callable[[OutputLayout], Decoder]


def dims3(shape: Shape) -> tuple[Dim, Dim] | None:
    """The two non-batch dimensions of a (batch, a, b) shape; None for other ranks."""
    return (shape[1], shape[2]) if len(shape) == 3 else None


def select(
    xyxy: FloatArray,
    scores: FloatArray,
    class_ids: npt.NDArray[np.int64],
    placement: Letterbox,
    params: DecodeParams,
) -> tuple[Detections, npt.NDArray[np.int64]]:
    """Class-aware NMS of candidate boxes in model-input pixels (already above the
    confidence threshold), the best ``max_detections`` of them mapped to the frame;
    also returns the indices of the rows kept."""
    kept = class_aware_nms(xyxy, scores, class_ids, params.iou)[: params.max_detections]
    detections = Detections(
        xyxy=placement.to_frame(xyxy[kept]), confidence=scores[kept], class_id=class_ids[kept]
    )
    return detections, kept


def center_to_corners(cxcywh: npt.NDArray[Any]) -> FloatArray:
    """(N, 4) centre-x, centre-y, width, height → x1, y1, x2, y2."""
    boxes = np.asarray(cxcywh, np.float32)
    half = boxes[:, 2:4] / 2
    corners: FloatArray = np.concatenate([boxes[:, :2] - half, boxes[:, :2] + half], axis=1)
    return corners


def best_class(
    class_scores: npt.NDArray[Any], axis: int = 1
) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """The best score and its class id of each box, classes along ``axis`` of a
    2-D score matrix ((N, C) with axis 1, (C, N) with axis 0)."""
    ids = np.argmax(class_scores, axis=axis)
    scores = np.take_along_axis(class_scores, np.expand_dims(ids, axis), axis=axis)
    return scores.reshape(-1).astype(np.float32), ids.astype(np.int64)
