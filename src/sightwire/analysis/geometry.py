"""Plane geometry for zones and lines, vectorised over points with numpy.

Image coordinates: x to the right, y down. Seen on screen, walking a line from its
first point to its second, the *right-hand side* is where :func:`line_sides` is +1.

>>> square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], np.float32)
>>> signed_distances(square, np.array([[5, 5], [12, 5]], np.float32)).tolist()
[5.0, -2.0]
>>> line = np.array([[0, 0], [10, 0]], np.float32)   # pointing right: right hand is down
>>> line_sides(line, np.array([[5, 3], [5, -3], [5, 0.5]], np.float32), margin=1).tolist()
[1, -1, 0]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sightwire.config.rules import Anchor

Points = npt.NDArray[np.float64]
Boxes = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_ANCHORS: dict[str, tuple[float, float]] = {
    "center": (0.5, 0.5),
    "bottom_center": (0.5, 1.0),
    "top_center": (0.5, 0.0),
    "left_center": (0.0, 0.5),
    "right_center": (1.0, 0.5),
    "top_left": (0.0, 0.0),
    "top_right": (1.0, 0.0),
    "bottom_left": (0.0, 1.0),
    "bottom_right": (1.0, 1.0),
}


def anchor_points(xyxy: Boxes, anchor: Anchor) -> Points:
    """One point per box (N, 2): e.g. ``bottom_center`` (where a person stands).

    >>> anchor_points(np.array([[0, 0, 10, 20]], np.float32), "bottom_center").tolist()
    [[5.0, 20.0]]
    """
    fx, fy = _ANCHORS[anchor]
    boxes = np.asarray(xyxy, np.float64).reshape(-1, 4)
    x = boxes[:, 0] + fx * (boxes[:, 2] - boxes[:, 0])
    y = boxes[:, 1] + fy * (boxes[:, 3] - boxes[:, 1])
    return np.stack([x, y], axis=1)


def _edges(polygon: npt.ArrayLike) -> tuple[Points, Points]:
    start = np.asarray(polygon, np.float64).reshape(-1, 2)
    return start, np.roll(start, -1, axis=0)


def points_inside(polygon: npt.ArrayLike, points: npt.ArrayLike) -> BoolArray:
    """Whether each point lies inside ``polygon`` (even-odd rule; edges count as in)."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    a, b = _edges(polygon)
    px, py = pts[:, :1], pts[:, 1:]
    straddles = (a[:, 1] > py) != (b[:, 1] > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_cross = a[:, 0] + (py - a[:, 1]) * (b[:, 0] - a[:, 0]) / (b[:, 1] - a[:, 1])
    odd: BoolArray = (np.count_nonzero(straddles & (px < x_cross), axis=1) % 2) == 1
    inside: BoolArray = odd | (_edge_distances(a, b, pts) == 0)
    return inside


def _edge_distances(a: Points, b: Points, pts: Points) -> npt.NDArray[np.float64]:
    """Distance of each point to the nearest edge a[i]→b[i]."""
    ab = b - a
    length2 = np.maximum((ab**2).sum(axis=1), 1e-12)
    ap = pts[:, None, :] - a[None, :, :]
    t = np.clip((ap * ab[None]).sum(axis=2) / length2, 0.0, 1.0)
    nearest = a[None] + t[..., None] * ab[None]
    distances: npt.NDArray[np.float64] = np.sqrt(((pts[:, None] - nearest) ** 2).sum(axis=2))
    return distances.min(axis=1) if len(a) else np.full(len(pts), np.inf)


def signed_distances(polygon: npt.ArrayLike, points: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Distance of each point to the polygon's outline: positive inside, negative out."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    a, b = _edges(polygon)
    distance = _edge_distances(a, b, pts)
    signed: npt.NDArray[np.float64] = np.where(points_inside(polygon, pts), distance, -distance)
    return signed


def line_offsets(line: npt.ArrayLike, points: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Signed distance of each point to the (infinite) line; positive on its right."""
    (ax, ay), (bx, by) = np.asarray(line, np.float64).reshape(2, 2)
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    length = max(float(np.hypot(bx - ax, by - ay)), 1e-12)
    offsets: npt.NDArray[np.float64] = (
        (bx - ax) * (pts[:, 1] - ay) - (by - ay) * (pts[:, 0] - ax)
    ) / length
    return offsets


def line_sides(line: npt.ArrayLike, points: npt.ArrayLike, margin: float = 0.0) -> IntArray:
    """+1 right of the line, -1 left, 0 within ``margin`` pixels of it."""
    offsets = line_offsets(line, points)
    sides: IntArray = np.where(offsets > margin, 1, np.where(offsets < -margin, -1, 0))
    return sides.astype(np.int64)


def crosses_segment(line: npt.ArrayLike, start: npt.ArrayLike, end: npt.ArrayLike) -> bool:
    """Whether the path ``start``→``end`` (on opposite sides of the line) passes
    through the segment between the line's two points, not beside it."""
    (ax, ay), (bx, by) = np.asarray(line, np.float64).reshape(2, 2)
    px, py = np.asarray(start, np.float64)
    qx, qy = np.asarray(end, np.float64)
    rx, ry, sx, sy = bx - ax, by - ay, qx - px, qy - py
    denominator = rx * sy - ry * sx
    if abs(denominator) < 1e-12:
        return False
    t = float(((px - ax) * sy - (py - ay) * sx) / denominator)  # position along the line
    return 0.0 <= t <= 1.0


def crossing_sense(line: npt.ArrayLike, inward: bool) -> str:
    """The screen direction of a crossing: ``left_to_right``, ``right_to_left``,
    ``top_to_bottom`` or ``bottom_to_top``; ``inward`` means to the right-hand side.

    >>> crossing_sense([[0, 0], [0, 10]], inward=False)   # a line drawn downwards
    'left_to_right'
    """
    (ax, ay), (bx, by) = np.asarray(line, np.float64).reshape(2, 2)
    nx, ny = -(by - ay), bx - ax  # the normal pointing to the right-hand side
    if not inward:
        nx, ny = -nx, -ny
    if abs(nx) >= abs(ny):
        return "left_to_right" if nx > 0 else "right_to_left"
    return "top_to_bottom" if ny > 0 else "bottom_to_top"


def boxes_touch_polygon(boxes: npt.ArrayLike, polygon: npt.ArrayLike) -> BoolArray:
    """Whether each xyxy box overlaps the polygon (corner in, vertex in, or edges cross)."""
    xyxy = np.asarray(boxes, np.float64).reshape(-1, 4)
    poly = np.asarray(polygon, np.float64).reshape(-1, 2)
    if not len(xyxy):
        return np.zeros(0, bool)
    x1, y1, x2, y2 = (xyxy[:, i : i + 1] for i in range(4))
    corners = np.stack([xyxy[:, [0, 1]], xyxy[:, [2, 1]], xyxy[:, [2, 3]], xyxy[:, [0, 3]]], axis=1)
    corner_in = points_inside(poly, corners.reshape(-1, 2)).reshape(-1, 4).any(axis=1)
    px, py = poly[:, 0], poly[:, 1]
    vertex_in = ((px >= x1) & (px <= x2) & (py >= y1) & (py <= y2)).any(axis=1)
    box_a, box_b = corners, np.roll(corners, -1, axis=1)
    edge_a, edge_b = _edges(poly)
    crossing = _segments_cross(box_a[:, :, None], box_b[:, :, None], edge_a, edge_b)
    touching: BoolArray = np.asarray(corner_in | vertex_in | crossing.any(axis=(1, 2)), bool)
    return touching


def _segments_cross(p: Points, q: Points, a: Points, b: Points) -> BoolArray:
    """Whether segments p→q and a→b intersect (broadcasting over leading axes)."""

    def orient(o: Points, u: Points, v: Points) -> npt.NDArray[np.float64]:
        result: npt.NDArray[np.float64] = (u[..., 0] - o[..., 0]) * (v[..., 1] - o[..., 1]) - (
            u[..., 1] - o[..., 1]
        ) * (v[..., 0] - o[..., 0])
        return result

    d1, d2 = orient(a, b, p), orient(a, b, q)
    d3, d4 = orient(p, q, a), orient(p, q, b)
    overlap = np.ones(np.broadcast_shapes(p.shape, a.shape)[:-1], bool)
    for axis in (0, 1):  # collinear segments must also share a stretch
        overlap &= np.minimum(p[..., axis], q[..., axis]) <= np.maximum(a[..., axis], b[..., axis])
        overlap &= np.minimum(a[..., axis], b[..., axis]) <= np.maximum(p[..., axis], q[..., axis])
    crossing: BoolArray = (d1 * d2 <= 0) & (d3 * d4 <= 0) & overlap
    return crossing
