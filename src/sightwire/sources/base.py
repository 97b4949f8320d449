"""What every source promises: sampled frames, a state, and clear errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sightwire.core import Frame


class SourceState(StrEnum):
    CONNECTING = "connecting"
    STREAMING = "streaming"
    RECONNECTING = "reconnecting"
    ENDED = "ended"
    FAILED = "failed"


class SourceError(Exception):
    """A source cannot deliver frames; the message says which camera and why."""


@dataclass(frozen=True, slots=True)
class StateChange:
    camera: str
    state: SourceState
    detail: str = ""


StateListener = Callable[[StateChange], None]


class Source(Protocol):
    """A camera's input. ``frames()`` yields sampled frames until the input ends.

    A live source (``live`` is true) may be opened again after it fails; a file is
    read once (or looped) and never drops a frame.
    """

    camera: str
    live: bool

    def frames(self) -> Iterator[Frame]:
        """Open the input and yield sampled frames; raise SourceError on failure."""
        ...

    def close(self) -> None:
        """Interrupt a blocking read from another thread and release the input."""
        ...
