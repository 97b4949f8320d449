"""Uploads: pictures pushed in (by the API, from drones and phones) instead of read.

``UploadSource`` is a bounded queue: ``put()`` takes an image (BGR array or encoded
bytes) and ``frames()`` yields them in order until ``close()``. Nothing is dropped:
``put`` waits for room, and raises ``SourceError`` if none comes in ``timeout``.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from sightwire.config.models import CameraConfig
from sightwire.core import Frame
from sightwire.core.frame import Image
from sightwire.sources.base import SourceError
from sightwire.sources.image_source import decode_bytes

UPLOAD = "upload"
_POLL_S = 0.1


def is_upload(uri: str) -> bool:
    """Whether a camera's source is ``upload``."""
    return uri.strip().lower() == UPLOAD


class UploadSource:
    """A camera fed by ``put()``; ``frames()`` yields each upload once, in order."""

    live = False

    def __init__(self, camera: str, config: CameraConfig | None = None, capacity: int = 64):
        self.camera = camera
        self.config = config
        self._queue: queue.Queue[Frame] = queue.Queue(capacity)
        self._closed = False
        self._seq = 0
        self._lock = threading.Lock()

    def put(
        self,
        image: Image | bytes,
        *,
        captured_at: float | None = None,
        metadata: dict[str, Any] | None = None,
        timeout: float | None = 10.0,
    ) -> Frame:
        """Queue one picture; return its frame. SourceError when unreadable, full or closed."""
        if self._closed:
            raise SourceError(f"camera {self.camera!r}: uploads are closed")
        array = self._as_image(image)
        stamp = time.time() if captured_at is None else captured_at
        with self._lock:  # keeps seq in queue order when several threads upload
            frame = Frame(self.camera, self._seq, stamp, stamp, array, dict(metadata or {}))
            try:
                self._queue.put(frame, timeout=timeout)
            except queue.Full:
                raise SourceError(
                    f"camera {self.camera!r}: upload queue full ({self._queue.maxsize} waiting)"
                ) from None
            self._seq += 1
        return frame

    def _as_image(self, image: Image | bytes) -> Image:
        """A BGR uint8 array from an array or encoded bytes; SourceError otherwise."""
        if isinstance(image, bytes | bytearray | memoryview):
            decoded = decode_bytes(bytes(image))
            if decoded is None:
                raise SourceError(
                    f"camera {self.camera!r}: upload is not a readable image ({len(image)} bytes)"
                )
            return decoded
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise SourceError(
                f"camera {self.camera!r}: upload must be HxWx3 uint8 BGR, "
                f"not {image.shape} {image.dtype}"
            )
        return image

    def frames(self) -> Iterator[Frame]:
        """Yield uploads as they arrive until ``close()`` (then the ones still queued)."""
        while True:
            try:
                yield self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                if self._closed:
                    return

    def close(self) -> None:
        """Accept no more uploads; ``frames()`` ends once the queue is empty."""
        self._closed = True
