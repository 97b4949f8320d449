"""Box arithmetic of the tracker: pairwise IoU and xyxy ↔ centre/size conversions.

>>> import numpy as np
>>> a = np.array([[0, 0, 10, 10]], np.float32)
>>> b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], np.float32)
>>> box_iou(a, b).round(3).tolist()
[[1.0, 0.333, 0.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Boxes = npt.NDArray[np.floating[Any]]
Matrix = npt.NDArray[np.float64]


def box_iou(a: Boxes, b: Boxes) -> Matrix:
    """Intersection over union of every box of ``a`` (N, 4) with every box of ``b``
    (M, 4), both xyxy: an (N, M) matrix. Degenerate boxes have IoU 0 with everything."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    ax1, ay1, ax2, ay2 = (a[:, i, None] for i in range(4))  # columns (N, 1)
    bx1, by1, bx2, by2 = b.T  # rows (M,)
    width = np.minimum(ax2, bx2) - np.maximum(ax1, bx1)
    height = np.minimum(ay2, by2) - np.maximum(ay1, by1)
    inter = np.maximum(width, 0.0, out=width) * np.maximum(height, 0.0, out=height)
    union = _area(a)[:, None] + _area(b)[None, :] - inter
    iou: Matrix = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return iou


def _area(boxes: Matrix) -> Matrix:
    width = np.maximum(boxes[:, 2] - boxes[:, 0], 0.0)
    height = np.maximum(boxes[:, 3] - boxes[:, 1], 0.0)
    area: Matrix = width * height
    return area


def xyxy_to_cxcywh(boxes: Boxes) -> Matrix:
    """Corners (N, 4) to centre x, centre y, width, height (N, 4)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    wh = boxes[:, 2:] - boxes[:, :2]
    out: Matrix = np.concatenate([boxes[:, :2] + wh / 2, wh], axis=1)
    return out


def cxcywh_to_xyxy(boxes: Boxes) -> Matrix:
    """Centre x, centre y, width, height (N, 4) to corners (N, 4); negative sizes
    (a shrinking track extrapolated too far) become zero."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    half = np.maximum(boxes[:, 2:], 0.0) / 2
    out: Matrix = np.concatenate([boxes[:, :2] - half, boxes[:, :2] + half], axis=1)
    return out


def widen(boxes: Boxes, share: float) -> Matrix:
    """xyxy boxes (N, 4) grown by ``share`` of their width and height on each side."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    if share == 0:
        return boxes
    margin = (boxes[:, 2:] - boxes[:, :2]) * share
    out: Matrix = np.concatenate([boxes[:, :2] - margin, boxes[:, 2:] + margin], axis=1)
    return out
