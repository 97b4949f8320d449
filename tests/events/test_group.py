"""Group commit: batches from many threads share a transaction; nothing is lost."""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select, text

from sightwire.core import Event
from sightwire.events.group import GroupWriter, _Batch
from sightwire.events.metrics import EventMetrics
from sightwire.events.store import EventExistsError, EventStore, NewEvent
from sightwire.events.tables import deliveries
from sightwire.storage.blobs import FileBlobStore
from sightwire.storage.database import open_database
from tests.events.factory import make_event

CAMERAS = 4
FRAMES = 5


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Iterator[EventStore]:
    db = open_database(db_url, migrate=True)
    yield EventStore(db, FileBlobStore(tmp_path / "blobs"), EventMetrics(CollectorRegistry()))
    db.close()


def _frame(camera: str, events: int = 3) -> list[NewEvent]:
    return [NewEvent(make_event(camera=camera), ["erp", "wms"]) for _ in range(events)]


def _held_first_commit(store: EventStore) -> tuple[GroupWriter, threading.Event]:
    """A writer whose first commit, once made, waits for ``release``: batches queue
    behind it meanwhile and must share the next transaction."""
    writer = GroupWriter(store)
    release = threading.Event()
    first = [True]

    def hold() -> None:
        if first[0]:
            first[0] = False
            release.wait(10)

    store.on_record(hold)
    return writer, release


def _wait_until(condition: Callable[[], bool]) -> None:
    for _ in range(2000):
        if condition():
            return
        threading.Event().wait(0.005)
    raise AssertionError("waited 10 s in vain")


def _recorded_order(store: EventStore) -> list[str]:
    """Event ids in the order they were written: SQLite's rowid; elsewhere by the
    transaction's time (events of one transaction share it; ids break the tie)."""
    order = "rowid" if store.db.dialect == "sqlite" else "recorded_at, id"
    with store.db.read() as conn:
        return list(conn.execute(text(f"SELECT id FROM events ORDER BY {order}")).scalars())


def _in_frame_order(order: list[str], frames: list[list[NewEvent]], exact: bool) -> bool:
    position = {event_id: i for i, event_id in enumerate(order)}
    spans = [[position[item.event.id] for item in frame] for frame in frames]
    if exact:
        return [p for span in spans for p in span] == sorted(p for span in spans for p in span)
    return all(max(a) < min(b) for a, b in itertools.pairwise(spans))


def test_batches_waiting_behind_a_write_share_the_next_transaction(store: EventStore) -> None:
    writer, release = _held_first_commit(store)
    results: dict[str, list[list[Event | Exception]]] = {}
    frames = {f"cam-{i}": [_frame(f"cam-{i}") for _ in range(FRAMES)] for i in range(CAMERAS)}

    def camera(name: str) -> None:
        results[name] = [writer.record(frame) for frame in frames[name]]

    blocker = threading.Thread(target=writer.record, args=(_frame("first", 1),))
    blocker.start()
    _wait_until(lambda: writer._writing)  # it writes; its commit then waits for release
    threads = [threading.Thread(target=camera, args=(name,)) for name in frames]
    for thread in threads:
        thread.start()
    _wait_until(lambda: len(writer._queue) >= CAMERAS)  # each camera's first frame waits
    release.set()
    for thread in [blocker, *threads]:
        thread.join(10)

    total = CAMERAS * FRAMES
    assert writer.groups < 1 + total  # some frames shared a transaction
    for name, frame_results in results.items():
        for frame, got in zip(frames[name], frame_results, strict=True):
            assert got == [item.event for item in frame]  # each caller: its own events
    order = _recorded_order(store)
    exact = store.db.dialect == "sqlite"  # within one transaction, only SQLite knows
    for name in frames:  # each camera's frames in order
        assert _in_frame_order(order, frames[name], exact)
    with store.db.read() as conn:
        count = conn.execute(select(func.count()).select_from(deliveries)).scalar()
    assert count == 2 * len(order) == 2 * (1 + 3 * total)  # each event with both deliveries


def test_a_refused_event_costs_only_itself(store: EventStore) -> None:
    recorded = store.record(make_event(), ["erp"])
    writer = GroupWriter(store)
    good = _Batch(_frame("cam-0", 2))
    writer._queue.append(good)  # queued: the next write takes it with the batch below
    bad = [NewEvent(make_event(camera="cam-1"), ["erp"]), NewEvent(recorded, ["erp"])]
    got = writer.record(bad)
    assert got[0] == bad[0].event and isinstance(got[1], EventExistsError)
    assert good.done and good.results == [item.event for item in good.items]
    for item in [*good.items, bad[0]]:
        assert store.get(item.event.id) is not None
        assert len(store.deliveries(item.event.id)) == len(item.destinations)
    assert len(store.deliveries(recorded.id)) == 1  # the first recording is untouched


def test_a_database_error_is_reported_to_every_caller_and_writes_nothing(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = GroupWriter(store)

    def away(_items: object) -> list[Event]:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "record_staged", away)
    frame = _frame("cam-0", 2)
    got = writer.record(frame)
    assert [type(r) for r in got] == [sqlite3.OperationalError] * 2
    monkeypatch.undo()
    assert store.get(frame[0].event.id) is None
    assert writer.record(frame) == [item.event for item in frame]  # the next write works


def test_an_interrupted_writer_leaves_no_caller_waiting(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = GroupWriter(store)
    waiting = _Batch(_frame("cam-1", 1))
    writer._queue.append(waiting)

    def interrupted(_items: object) -> list[Event]:
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "record_staged", interrupted)
    with pytest.raises(KeyboardInterrupt):
        writer.record(_frame("cam-0", 1))
    assert waiting.done and isinstance(waiting.results[0], RuntimeError)
    assert not writer._writing


def test_a_writer_lingers_for_the_other_cameras_batches(store: EventStore) -> None:
    writer = GroupWriter(store, linger_s=10.0)  # a bound only: the last batch ends it
    cameras = [f"cam-{i}" for i in range(3)]
    warmed, start = threading.Barrier(len(cameras)), threading.Barrier(len(cameras))
    groups: list[int] = []
    results: dict[str, list[object]] = {}

    def camera_thread(camera: str) -> None:
        # As if each camera had recorded a moment ago: three cameras are active.
        writer._seen[threading.get_ident()] = time.monotonic()
        if warmed.wait() == 0:
            groups.append(writer.groups)
        start.wait()
        results[camera] = list(writer.record(_frame(camera, 2)))

    threads = [threading.Thread(target=camera_thread, args=(c,)) for c in cameras]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert all(not isinstance(r, Exception) for rs in results.values() for r in rs)
    assert len(results) == len(cameras)
    assert writer.groups == groups[0] + 1  # the first writer waited for the other two


def test_a_lone_camera_does_not_linger(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = GroupWriter(store, linger_s=10.0)
    waits: list[object] = []
    monkeypatch.setattr(writer._changed, "wait_for", lambda *a, **k: waits.append(a))
    for _ in range(3):
        assert not any(isinstance(r, Exception) for r in writer.record(_frame("cam-0", 2)))
    assert waits == []  # nobody else records: each frame commits at once
