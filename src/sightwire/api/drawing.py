"""Boxes, track ids, zones and lines drawn onto pictures the API hands out.

>>> import numpy as np
>>> from sightwire.core.event import EventObject
>>> image = np.zeros((40, 60, 3), np.uint8)
>>> drawn = draw_objects(image, [EventObject(class_name="parcel", box=(5, 5, 30, 30),
...                                          confidence=0.9, track_id=7)])
>>> bool(drawn.any()), bool(image.any())   # a copy is drawn on; the original is untouched
(True, False)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from sightwire.config.base import Point
from sightwire.core import Detections
from sightwire.core.event import EventObject
from sightwire.core.frame import Image

BOX = (0, 200, 255)  # BGR orange: objects
ZONE = (255, 160, 0)  # blue: zones
LINE = (80, 220, 80)  # green: lines
JPEG_QUALITY = 85


class UnreadableImageError(ValueError):
    """Bytes that are not a picture OpenCV can read."""


def decode_jpeg(data: bytes) -> Image:
    """A BGR image from encoded bytes; UnreadableImageError when they are not one."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise UnreadableImageError(f"not a readable image ({len(data)} bytes)")
    return np.asarray(image, np.uint8)


def encode_jpeg(image: Image) -> bytes:
    """``image`` as JPEG bytes."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(encoded.tobytes())


def _label(image: Image, text: str, x: float, y: float, colour: tuple[int, int, int]) -> None:
    origin = (int(x), max(int(y) - 4, 10))
    cv2.putText(image, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)


def _box(image: Image, box: Sequence[float], text: str) -> None:
    x1, y1, x2, y2 = (round(v) for v in box)
    cv2.rectangle(image, (x1, y1), (x2, y2), BOX, 2)
    _label(image, text, x1, y1, BOX)


def draw_objects(image: Image, objects: Sequence[EventObject]) -> Image:
    """A copy of ``image`` with an event's objects boxed: class, track id, confidence."""
    out = image.copy()
    for obj in objects:
        track = f" #{obj.track_id}" if obj.track_id is not None else ""
        _box(out, obj.box, f"{obj.class_name}{track} {obj.confidence:.2f}")
    return out


def draw_overlays(
    image: Image,
    detections: Detections,
    zones: Mapping[str, Sequence[Point]] | None = None,
    lines: Mapping[str, Sequence[Point]] | None = None,
) -> Image:
    """A copy of ``image`` with a camera's zones and lines and a frame's detections."""
    out = image.copy()
    for name, polygon in (zones or {}).items():
        points = np.array(polygon, np.int32).reshape(-1, 1, 2)
        cv2.polylines(out, [points], True, ZONE, 2)
        _label(out, name, polygon[0][0], polygon[0][1], ZONE)
    for name, (start, end) in (lines or {}).items():
        a, b = (int(start[0]), int(start[1])), (int(end[0]), int(end[1]))
        cv2.line(out, a, b, LINE, 2)
        _label(out, name, start[0], start[1], LINE)
    names = detections.data.get("class_name")
    for row in range(len(detections)):
        name = str(names[row]) if names is not None else str(int(detections.class_id[row]))
        track = ""
        if detections.tracker_id is not None and detections.tracker_id[row] >= 0:
            track = f" #{int(detections.tracker_id[row])}"
        _box(out, detections.xyxy[row].tolist(), f"{name}{track}")
    return out
