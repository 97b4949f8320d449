"""What an analyser remembers of each tracked object, forgotten when the track is gone.

Analysers that build up a reading over a track's frames (sizes, a tracking number, a
weighing) keep one record per ``(camera, track id)``. A record is dropped once its
track has been unseen for ``forget_s`` of stream time, or when the stream jumps back
(a looped file restarts its timestamps and reuses track ids).

>>> from dataclasses import dataclass
>>> @dataclass
... class Seen:
...     last_seen: float
>>> memory: TrackMemory[Seen] = TrackMemory(forget_s=5.0)
>>> memory["belt-1", 7] = Seen(last_seen=10.0)
>>> memory.forget("belt-1", now=12.0); ("belt-1", 7) in memory
True
>>> memory.forget("belt-1", now=16.0); ("belt-1", 7) in memory
False
"""

from __future__ import annotations

from typing import Protocol, TypeVar


class Seen(Protocol):
    """A record that knows when (stream time) its track was last seen."""

    last_seen: float


RecordT = TypeVar("RecordT", bound=Seen)


class TrackMemory(dict[tuple[str, int], RecordT]):
    """Records keyed by ``(camera, track id)``; :meth:`forget` drops the stale ones."""

    def __init__(self, forget_s: float) -> None:
        super().__init__()
        self.forget_s = forget_s

    def forget(self, camera: str, now: float) -> None:
        """Drop ``camera``'s records unseen for more than ``forget_s`` before ``now``,
        and those seen after ``now`` (the stream went back)."""
        stale = [
            key
            for key, record in self.items()
            if key[0] == camera
            and (now - record.last_seen > self.forget_s or now < record.last_seen)
        ]
        for key in stale:
            del self[key]
