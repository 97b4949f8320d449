"""End-to-end detection output (YOLOv10, YOLO26, models exported with NMS): ``[1, K, 6]``.

Per box (a row): x1, y1, x2, y2 in model-input pixels, score, class id. The model
already removed duplicates, so no NMS runs; rows below the confidence are dropped.

>>> import numpy as np
>>> from sightwire.inference.letterbox import Letterbox
>>> out = np.zeros((300, 6), np.float32)
>>> out[0] = [10, 20, 30, 40, 0.9, 3]
>>> d = EndToEndDecoder().decode([out], Letterbox.fit((64, 64), (64, 64)), DecodeParams())
>>> d.xyxy.tolist(), d.class_id.tolist()
([[10.0, 20.0, 30.0, 40.0]], [3])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from sightwire.core.detections import Detections
from sightwire.inference.decoders.base import DecodeParams, DecoderSpec, Fit, OutputLayout, dims3
from sightwire.inference.letterbox import Letterbox

ROW = 6
MOST_BOXES = 1000
"""End-to-end heads keep at most a few hundred boxes (300 by default)."""


class EndToEndDecoder:
    """Decoder of ``[K, 6]`` outputs: boxes, score, class; no NMS."""

    def decode(
        self, outputs: Sequence[npt.NDArray[Any]], placement: Letterbox, params: DecodeParams
    ) -> Detections:
        """Detections in frame pixels of one image's ``[K, 6]`` output."""
        rows = outputs[0]
        kept = rows[rows[:, 4] >= params.confidence]
        kept = kept[np.argsort(-kept[:, 4], kind="stable")][: params.max_detections]
        return Detections(
            xyxy=placement.to_frame(kept[:, :4]),
            confidence=kept[:, 4],
            class_id=np.rint(kept[:, 5]).astype(np.int64),
        )


def fit(layout: OutputLayout) -> Fit:
    """How well ``layout`` looks like an end-to-end detection output."""
    if len(layout.shapes) != 1 or (dims := dims3(layout.shapes[0])) is None:
        return Fit.NONE
    boxes, channels = dims
    if channels != ROW:
        return Fit.NONE
    if layout.end_to_end:
        return Fit.DECLARED
    if not isinstance(boxes, int):
        return Fit.SHAPE
    anchors = {3 * n for n in layout.anchor_counts()}  # a one-class YOLOv5 head
    if boxes in anchors or boxes > MOST_BOXES:
        return Fit.NONE
    return Fit.CLASSES


def make(layout: OutputLayout) -> EndToEndDecoder:
    """The decoder for ``layout`` (which :func:`fit` accepted)."""
    return EndToEndDecoder()


SPEC = DecoderSpec(name="end2end", task="detect", fit=fit, make=make)
