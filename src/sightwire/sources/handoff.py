"""The hand-off between a camera's reader thread and the pipeline.

Live sources use a latest-only slot: when the consumer falls behind, the waiting
frame is replaced by the newer one and counted as dropped (real time wins). Files
use a bounded queue whose ``put`` blocks until there is room: nothing is dropped.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from sightwire.core import Frame


class Handoff:
    """A thread-safe frame buffer: bounded FIFO, or latest-only when ``latest_only``.

    ``close()`` ends it: blocked ``put`` calls return False at once, and ``get``
    returns the frames still buffered, then None without waiting.
    """

    def __init__(self, capacity: int = 8, *, latest_only: bool = False) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        self.latest_only = latest_only
        self.capacity = 1 if latest_only else capacity
        self._items: deque[Frame] = deque()
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)
        self._closed = False
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def closed(self) -> bool:
        """Whether ``close()`` was called."""
        return self._closed

    def put(self, frame: Frame) -> bool:
        """Hand over ``frame``; False when closed (the frame is discarded)."""
        with self._lock:
            if self.latest_only:
                if self._items:
                    self._items.clear()
                    self.dropped += 1
            else:
                while len(self._items) >= self.capacity and not self._closed:
                    self._not_full.wait()
            if self._closed:
                return False
            self._items.append(frame)
            self._not_empty.notify()
            return True

    def get(self, timeout: float | None = None) -> Frame | None:
        """The next frame, or None after ``timeout`` s or once closed and empty."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while not self._items:
                if self._closed:
                    return None
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._not_empty.wait(remaining)
            frame = self._items.popleft()
            self._not_full.notify()
            return frame

    def close(self) -> None:
        """Refuse further frames and wake every waiting thread."""
        with self._lock:
            self._closed = True
            self._not_empty.notify_all()
            self._not_full.notify_all()
