"""Scripted sources for reader tests: exact control of frames, failures and blocking."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import numpy as np

from sightwire.core import Frame
from sightwire.sources import SourceError


def tiny_frame(camera: str, seq: int) -> Frame:
    """A 2x2 frame numbered ``seq``."""
    return Frame(camera, seq, time.time(), seq / 25, np.zeros((2, 2, 3), np.uint8))


class ScriptedSource:
    """Each ``frames()`` call runs the next script step: a number of frames, then
    "block" (wait until closed), "interrupted" (wait until closed, then raise, as an
    interrupted read does), "end", or an error message to raise."""

    def __init__(self, camera: str, live: bool, steps: list[tuple[int, str]]) -> None:
        self.camera = camera
        self.live = live
        self.steps = steps
        self.calls = 0
        self.closed = threading.Event()
        self.on_frame: Callable[[int], None] = lambda seq: None

    def frames(self) -> Iterator[Frame]:
        count, then = self.steps[min(self.calls, len(self.steps) - 1)]
        self.calls += 1
        for seq in range(count):
            if self.closed.is_set():
                return
            self.on_frame(seq)
            yield tiny_frame(self.camera, seq)
        if then in ("block", "interrupted"):
            self.closed.wait()
        if then == "interrupted":
            raise SourceError(f"camera {self.camera!r}: read interrupted")
        if then not in ("block", "end"):
            raise SourceError(f"camera {self.camera!r}: {then}")

    def close(self) -> None:
        self.closed.set()
