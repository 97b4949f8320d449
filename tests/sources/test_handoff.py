"""Handoff: bounded FIFO and latest-only slot, under several threads."""

from __future__ import annotations

import threading
import time

from sightwire.sources import Handoff

from .fakes import tiny_frame


def test_many_consumers_get_every_frame_once_from_a_small_queue() -> None:
    handoff = Handoff(2)
    taken: list[int] = []
    lock = threading.Lock()

    def consume() -> None:
        while (frame := handoff.get(timeout=5)) is not None:
            with lock:
                taken.append(frame.seq)

    consumers = [threading.Thread(target=consume) for _ in range(3)]
    for thread in consumers:
        thread.start()
    for seq in range(500):
        assert handoff.put(tiny_frame("cam", seq))
    handoff.close()
    for thread in consumers:
        thread.join(5)
    assert sorted(taken) == list(range(500)) and handoff.dropped == 0


def test_close_releases_a_blocked_put_and_get_times_out() -> None:
    handoff = Handoff(1)
    assert handoff.put(tiny_frame("cam", 0))
    result: list[bool] = []
    producer = threading.Thread(target=lambda: result.append(handoff.put(tiny_frame("cam", 1))))
    producer.start()
    producer.join(0.1)
    assert producer.is_alive()  # blocked: the queue is full
    handoff.close()
    producer.join(2)
    assert result == [False]
    frame = handoff.get(timeout=0)
    assert frame is not None and frame.seq == 0
    started = time.monotonic()
    assert handoff.get(timeout=5) is None and time.monotonic() - started < 0.5


def test_latest_only_replaces_and_counts() -> None:
    handoff = Handoff(8, latest_only=True)
    for seq in range(5):
        handoff.put(tiny_frame("cam", seq))
    assert len(handoff) == 1 and handoff.dropped == 4
    started = time.monotonic()
    frame = handoff.get(timeout=1)
    assert frame is not None and frame.seq == 4
    assert handoff.get(timeout=0.05) is None and time.monotonic() - started < 0.5
