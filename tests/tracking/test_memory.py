"""TrackMemory: per-track records forgotten by stream time."""

from __future__ import annotations

from dataclasses import dataclass

from sightwire.tracking.memory import TrackMemory


@dataclass
class Record:
    last_seen: float


def test_only_the_cameras_stale_records_are_forgotten() -> None:
    memory: TrackMemory[Record] = TrackMemory(forget_s=5.0)
    memory["belt-1", 1] = Record(last_seen=0.0)  # unseen for 10 s at t=10: stale
    memory["belt-1", 2] = Record(last_seen=7.0)  # seen 3 s ago: kept
    memory["dock-2", 1] = Record(last_seen=0.0)  # another camera's clock: untouched
    memory.forget("belt-1", now=10.0)
    assert set(memory) == {("belt-1", 2), ("dock-2", 1)}


def test_a_stream_that_goes_back_forgets_what_came_after() -> None:
    memory: TrackMemory[Record] = TrackMemory(forget_s=5.0)
    memory["belt-1", 3] = Record(last_seen=40.0)
    memory.forget("belt-1", now=0.2)  # a looped file restarted: track ids are reused
    assert ("belt-1", 3) not in memory
