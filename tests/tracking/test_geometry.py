"""Box IoU and conversions, checked against a one-pair-at-a-time reference."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sightwire.tracking.geometry import box_iou, cxcywh_to_xyxy, xyxy_to_cxcywh


def _reference(a: list[float], b: list[float]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h

    def area(r: list[float]) -> float:
        return max(0.0, r[2] - r[0]) * max(0.0, r[3] - r[1])

    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


_boxes = arrays(np.float64, st.tuples(st.integers(0, 6), st.just(4)), elements=st.floats(0, 100))


@given(_boxes, _boxes)
def test_iou_matches_reference(a: np.ndarray, b: np.ndarray) -> None:
    iou = box_iou(a, b)
    assert iou.shape == (len(a), len(b))
    expected = np.array(
        [[_reference(list(map(float, x)), list(map(float, y))) for y in b] for x in a]
    )
    np.testing.assert_allclose(iou, expected.reshape(len(a), len(b)), atol=1e-9)


def test_iou_known_values() -> None:
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [10, 10, 20, 20], [3, 3, 3, 8]])
    np.testing.assert_allclose(box_iou(a, b), [[1.0, 1 / 3, 0.0, 0.0]])


def test_conversions_round_trip() -> None:
    boxes = np.array([[10, 20, 50, 100], [0, 0, 1, 1]], np.float32)
    centred = xyxy_to_cxcywh(boxes)
    np.testing.assert_allclose(centred, np.array([[30, 60, 40, 80], [0.5, 0.5, 1, 1]]))
    np.testing.assert_allclose(cxcywh_to_xyxy(centred), boxes)


def test_negative_size_becomes_empty_box() -> None:
    np.testing.assert_allclose(cxcywh_to_xyxy(np.array([[5.0, 5, -2, 4]])), [[5, 3, 5, 7]])
