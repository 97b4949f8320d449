"""How a pre-processed frame maps back to the camera's picture.

Stages that move pixels (crop, resize) record, in ``frame.metadata["to_source"]``,
the transform ``(sx, sy, dx, dy)`` with ``source = processed * (sx, sy) + (dx, dy)``,
composed over every stage, so boxes found later can be mapped back.

>>> import numpy as np
>>> from sightwire.core.frame import Frame
>>> f = Frame("cam", 0, 0.0, 0.0, np.zeros((10, 10, 3), np.uint8),
...           {TO_SOURCE: (2.0, 2.0, 100.0, 50.0)})
>>> boxes_to_source(np.array([[1, 1, 5, 5]], np.float32), f).tolist()
[[102.0, 52.0, 110.0, 60.0]]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sightwire.core.frame import Frame, Image

TO_SOURCE = "to_source"
Transform = tuple[float, float, float, float]
IDENTITY: Transform = (1.0, 1.0, 0.0, 0.0)


def source_transform(frame: Frame) -> Transform:
    """The frame's ``(sx, sy, dx, dy)`` back to the camera's picture (identity if none)."""
    value = frame.metadata.get(TO_SOURCE, IDENTITY)
    sx, sy, dx, dy = (float(v) for v in value)
    return (sx, sy, dx, dy)


def moved(
    frame: Frame,
    image: Image,
    *,
    scale: tuple[float, float] = (1.0, 1.0),
    offset: tuple[float, float] = (0.0, 0.0),
) -> Frame:
    """``frame`` carrying ``image``, whose pixel ``p`` was pixel ``p * scale + offset``
    of ``frame.image``; the transform to the source is composed accordingly."""
    sx, sy, dx, dy = source_transform(frame)
    composed = (sx * scale[0], sy * scale[1], dx + sx * offset[0], dy + sy * offset[1])
    return frame.with_image(image, **{TO_SOURCE: composed})


def boxes_to_source(xyxy: npt.ArrayLike, frame: Frame) -> npt.NDArray[np.float32]:
    """Boxes (N, 4) in ``frame``'s pixels as boxes in the camera's picture."""
    sx, sy, dx, dy = source_transform(frame)
    boxes = np.asarray(xyxy, np.float32).reshape(-1, 4)
    return boxes * np.array([sx, sy, sx, sy], np.float32) + np.array([dx, dy, dx, dy], np.float32)
