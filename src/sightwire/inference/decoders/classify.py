"""Classification output: ``[1, C]`` class scores of the whole image.

Decision: a classifier's answer is whole-frame :class:`Detections`, one row per
class among the ``top_k`` best at or above the confidence, best first, each with the
frame's full box ``[0, 0, width, height]``. So the rest of the pipeline (class
filters, rules on ``class``, events' ``objects``) handles "the picture shows a
jammed belt" the same way as "there is a parcel", with no second result type.
Scores are used as they are when they are probabilities (all in [0, 1]); raw logits
(any score outside [0, 1]) are turned into probabilities with a softmax.

>>> import numpy as np
>>> from sightwire.inference.letterbox import Letterbox
>>> d = ClassifyDecoder().decode([np.array([0.1, 0.7, 0.2], np.float32)],
...                              Letterbox.fit((480, 640), (224, 224)), DecodeParams())
>>> d.class_id.tolist(), d.xyxy.tolist()
([1], [[0.0, 0.0, 640.0, 480.0]])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from sightwire.core.detections import Detections
from sightwire.inference.decoders.base import DecodeParams, DecoderSpec, Fit, OutputLayout
from sightwire.inference.letterbox import Letterbox


class ClassifyDecoder:
    """Decoder of ``[C]`` class scores into whole-frame detections."""

    def decode(
        self, outputs: Sequence[npt.NDArray[Any]], placement: Letterbox, params: DecodeParams
    ) -> Detections:
        """The top-k classes of one image as whole-frame detections, best first."""
        scores = probabilities(np.asarray(outputs[0], np.float32).reshape(-1))
        best = np.argsort(-scores, kind="stable")[: params.top_k]
        best = best[scores[best] >= params.confidence]
        fh, fw = placement.frame_size
        return Detections(
            xyxy=np.tile(np.array([0, 0, fw, fh], np.float32), (len(best), 1)),
            confidence=scores[best],
            class_id=best.astype(np.int64),
        )


def probabilities(scores: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """``scores`` if they are all in [0, 1], else their softmax."""
    if len(scores) and (scores.min() < 0 or scores.max() > 1):
        shifted = np.exp(scores - scores.max())
        softmax: npt.NDArray[np.float32] = (shifted / shifted.sum()).astype(np.float32)
        return softmax
    return scores


def fit(layout: OutputLayout) -> Fit:
    """How well ``layout`` looks like a classifier's output."""
    if len(layout.shapes) != 1 or len(shape := layout.shapes[0]) != 2:
        return Fit.NONE
    if layout.class_count is not None and shape[1] == layout.class_count:
        return Fit.CLASSES
    return Fit.SHAPE


def make(layout: OutputLayout) -> ClassifyDecoder:
    """The decoder for ``layout`` (which :func:`fit` accepted)."""
    return ClassifyDecoder()


SPEC = DecoderSpec(name="classify", task="classify", fit=fit, make=make)
