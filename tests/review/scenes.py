"""Review test data made on the spot: events with boxes, and pictures of boxes."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from sightwire.core import Event, EventData
from sightwire.core.event import EventObject, ModelRef
from sightwire.review.labels import Box

Image = npt.NDArray[np.uint8]
WIDTH, HEIGHT = 320, 240


def event_with(
    boxes: Sequence[tuple[str, Box]],
    *,
    rule: str = "parcel.seen",
    camera: str = "belt-1",
    at: float = 1_795_000_000.0,
    snapshot: str | None = None,
) -> Event:
    """An event of ``rule`` about objects ``boxes`` (class, box), emitted ``at``."""
    objects = [
        EventObject(class_name=name, box=box, confidence=0.6 + i / 100, track_id=i + 1)
        for i, (name, box) in enumerate(boxes)
    ]
    data = EventData(
        rule=rule,
        camera=camera,
        captured_at=at - 0.05,
        objects=objects,
        snapshot=snapshot,
        model=ModelRef(name="parcels", version="3"),
    )
    return Event.create(site="test", camera=camera, kind=rule, data=data, now=at)


def picture(boxes: Sequence[Box], seed: int = 0) -> Image:
    """A textured background with a filled rectangle per box."""
    rng = np.random.default_rng(seed)
    image = rng.integers(60, 120, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        colour = (40 + 70 * (i % 3), 200 - 50 * (i % 4), 90 + 40 * (i % 2))
        cv2.rectangle(image, (int(x1), int(y1)), (int(x2) - 1, int(y2) - 1), colour, -1)
    return image


def jpeg(image: Image) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return bytes(data.tobytes())
