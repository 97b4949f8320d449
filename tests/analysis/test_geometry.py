"""Zone and line geometry against OpenCV and hand-worked cases."""

from __future__ import annotations

import cv2
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sightwire.analysis.geometry import (
    anchor_points,
    boxes_touch_polygon,
    crosses_segment,
    crossing_sense,
    line_sides,
    points_inside,
    signed_distances,
)

# A concave "U": the notch (40..60, 0..60) is outside.
U_SHAPE = np.array(
    [[0, 0], [40, 0], [40, 60], [60, 60], [60, 0], [100, 0], [100, 100], [0, 100]], np.float32
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-20, 120), st.floats(-20, 120)), min_size=1, max_size=30))
def test_signed_distance_matches_opencv_on_a_concave_zone(
    points: list[tuple[float, float]],
) -> None:
    contour = U_SHAPE.reshape(-1, 1, 2)
    expected = [cv2.pointPolygonTest(contour, (x, y), True) for x, y in points]
    got = signed_distances(U_SHAPE, np.array(points))
    np.testing.assert_allclose(got, expected, atol=1e-3)


def test_points_in_the_notch_are_outside() -> None:
    inside = points_inside(U_SHAPE, np.array([[50, 30], [20, 30], [50, 80], [40, 30]]))
    assert inside.tolist() == [False, True, True, True]  # an edge point counts as inside


def test_anchors() -> None:
    box = np.array([[10, 20, 50, 80]], np.float32)
    assert anchor_points(box, "center").tolist() == [[30, 50]]
    assert anchor_points(box, "bottom_center").tolist() == [[30, 80]]
    assert anchor_points(box, "top_right").tolist() == [[50, 20]]


def test_line_sides_with_a_dead_band() -> None:
    down = np.array([[100, 0], [100, 200]])  # drawn top to bottom: its right is screen left
    sides = line_sides(down, np.array([[90, 50], [110, 50], [102, 50]]), margin=5)
    assert sides.tolist() == [1, -1, 0]


def test_crossing_must_pass_through_the_segment() -> None:
    line = np.array([[100, 0], [100, 200]])
    assert crosses_segment(line, (90, 100), (110, 100))
    assert not crosses_segment(line, (90, 300), (110, 300))  # beside it, below its end


def test_crossing_sense_follows_the_screen() -> None:
    down = [[100, 0], [100, 200]]
    assert crossing_sense(down, inward=True) == "right_to_left"
    assert crossing_sense(down, inward=False) == "left_to_right"
    rightwards = [[0, 100], [200, 100]]  # its right-hand side is below
    assert crossing_sense(rightwards, inward=True) == "top_to_bottom"


def test_boxes_touching_a_zone() -> None:
    zone = np.array([[0, 120], [1280, 120], [1280, 600], [0, 600]])
    boxes = np.array(
        [
            [100, 200, 150, 250],  # inside
            [100, 0, 150, 100],  # above
            [-50, 100, 1400, 700],  # around the whole zone: no corner in, vertices in
            [100, 100, 150, 130],  # overlapping the top edge
            [1300, 120, 1400, 120],  # flat, on the top edge's line but beyond its end
        ]
    )
    assert boxes_touch_polygon(boxes, zone).tolist() == [True, False, True, True, False]
