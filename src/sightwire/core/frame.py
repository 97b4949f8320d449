"""A decoded picture from one camera, with the times needed to measure latency."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]

MOTION_BOXES = "motion_boxes"
"""``Frame.metadata`` key: the motion gate's boxes (N, 4) xyxy in frame pixels."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One sampled picture from a camera.

    ``captured_at`` is wall-clock time (seconds since the epoch) when the frame
    entered Sightwire; it travels with the frame to every event, so each event knows
    its capture-to-action latency. ``pts`` is the presentation time in seconds
    within the stream (the position in a file, or the camera's clock).

    >>> import numpy as np
    >>> f = Frame(camera="belt-1", seq=0, captured_at=0.0, pts=0.0,
    ...           image=np.zeros((720, 1280, 3), np.uint8))
    >>> f.height, f.width
    (720, 1280)
    """

    camera: str
    seq: int
    captured_at: float
    pts: float
    image: Image
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    def with_image(self, image: Image, **metadata: Any) -> Frame:
        """A copy of this frame carrying ``image`` (e.g. after a crop or resize)."""
        merged = {**self.metadata, **metadata} if metadata else self.metadata
        return replace(self, image=image, metadata=merged)
