"""The event store on SQLite and the real PostgreSQL: records, queries, pages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select, text

from sightwire.core import Event
from sightwire.events.metrics import EventMetrics
from sightwire.events.query import InvalidCursorError
from sightwire.events.store import EventExistsError, EventStore, NewEvent
from sightwire.events.tables import deliveries, events
from sightwire.storage.blobs import FileBlobStore
from sightwire.storage.database import open_database
from tests.events.factory import make_event
from tests.storage.databases import sqlite_url

T0 = 1_800_000_000.0


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Iterator[EventStore]:
    db = open_database(db_url, migrate=True)
    yield EventStore(db, FileBlobStore(tmp_path / "blobs"), EventMetrics(CollectorRegistry()))
    db.close()


def _count(store: EventStore, table: object) -> int:
    with store.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)  # type: ignore[arg-type]


def test_record_writes_the_event_and_a_delivery_per_destination(store: EventStore) -> None:
    event = make_event(severity="warning", at=T0, captured_at=T0 - 0.1)
    stored = store.record(event, ["erp", "slack", "erp"])
    assert store.get(event.id) == stored == event
    found = store.deliveries(event.id)
    assert [(d.destination, d.state, d.attempts, d.log) for d in found] == [
        ("erp", "pending", 0, ()),
        ("slack", "pending", 0, ()),
    ]
    with store.db.read() as conn:
        row = conn.execute(select(events).where(events.c.id == event.id)).one()
    assert (row.type, row.camera, row.severity, row.rule) == (
        "com.sightwire.parcel.seen",
        "belt-1",
        "warning",
        "parcel.seen",
    )
    assert (row.captured_at, row.emitted_at) == (T0 - 0.1, T0)
    assert Event.model_validate_json(row.cloudevent) == event


def test_the_event_and_its_deliveries_are_one_transaction(store: EventStore) -> None:
    event = make_event()
    fail = {
        "sqlite": "CREATE TRIGGER no_deliveries BEFORE INSERT ON deliveries "
        "BEGIN SELECT RAISE(ABORT, 'outbox unavailable'); END",
        "postgresql": "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN RAISE EXCEPTION 'outbox unavailable'; END$$; "
        "CREATE TRIGGER no_deliveries BEFORE INSERT ON deliveries "
        "FOR EACH ROW EXECUTE FUNCTION refuse()",
    }[store.db.dialect]
    with store.db.write() as conn:
        conn.exec_driver_sql(fail)
    with pytest.raises(Exception, match="outbox unavailable"):
        store.record(event, ["erp"])
    assert store.get(event.id) is None
    assert _count(store, events) == 0 and _count(store, deliveries) == 0


def test_recording_an_event_twice_is_refused(store: EventStore) -> None:
    event = make_event()
    store.record(event, ["erp"])
    with pytest.raises(EventExistsError, match=event.id):
        store.record(event, ["erp"])
    assert _count(store, deliveries) == 1


def test_the_snapshot_is_stored_and_its_key_recorded(store: EventStore) -> None:
    event = make_event(camera="dock/2", at=T0)
    stored = store.record(event, [], snapshot=b"\xff\xd8jpeg")
    key = stored.data.snapshot
    assert key == f"snapshots/dock_2/2027/01/15/{event.id}.jpg"
    assert store.blobs is not None and store.blobs.get(key) == b"\xff\xd8jpeg"
    assert store.get(event.id) == stored
    with store.db.read() as conn:
        assert conn.execute(select(events.c.snapshot)).scalar() == key


def test_a_failed_record_leaves_no_snapshot_behind(store: EventStore) -> None:
    assert isinstance(store.blobs, FileBlobStore)
    store.blobs.packs = False  # a file a snapshot: the unrecorded one's is deleted
    event = make_event()
    store.record(event, [])
    with pytest.raises(EventExistsError):
        store.record(event, [], snapshot=b"x")
    assert list((store.blobs.folder / "snapshots").rglob("*.jpg")) == []


def test_a_failed_record_leaves_only_garbage_in_the_pack(store: EventStore) -> None:
    assert isinstance(store.blobs, FileBlobStore)
    first = store.record(make_event(), [], snapshot=b"first")
    with pytest.raises(EventExistsError):
        store.record(first, [], snapshot=b"second")
    key = first.data.snapshot
    assert key is not None and ".pack:" in key
    assert store.blobs.get(key) == b"first"  # the recorded event's range is intact
    pack = store.blobs.folder / key.partition(":")[0]
    assert pack.read_bytes() == b"firstsecond"  # "second": named by no event
    assert list((store.blobs.folder / "snapshots").rglob("*.jpg")) == []


def test_recording_an_event_again_keeps_its_first_snapshot(store: EventStore) -> None:
    first = store.record(make_event(), [], snapshot=b"first")
    with pytest.raises(EventExistsError):
        store.record(first, [], snapshot=b"second")
    assert store.blobs is not None and first.data.snapshot is not None
    assert store.blobs.get(first.data.snapshot) == b"first"


def _seed(store: EventStore) -> list[Event]:
    made = []
    kinds = ["parcel.seen", "parcel.mismatch", "person.zone"]
    severities = ["info", "warning", "critical"]
    for i in range(30):
        event = make_event(
            kind=kinds[i % 3],
            camera=f"cam-{i % 2}",
            severity=severities[i % 3],  # type: ignore[arg-type]
            at=T0 + i,
        )
        store.record(event, [])
        made.append(event)
    return made


def _ids(page_events: list[Event]) -> list[str]:
    return [e.id for e in page_events]


def test_pages_walk_every_match_once_newest_first(store: EventStore) -> None:
    made = _seed(store)
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = store.query(limit=7, cursor=cursor)
        seen += _ids(page.events)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [e.id for e in reversed(made)]
    assert pages == 5
    first = store.query(limit=10, oldest_first=True)
    second = store.query(limit=10, oldest_first=True, cursor=first.next_cursor)
    assert _ids(first.events + second.events) == [e.id for e in made[:20]]
    exact = store.query(limit=30)
    assert len(exact.events) == 30 and exact.next_cursor is None


def test_filters_combine(store: EventStore) -> None:
    made = _seed(store)

    def expect(**filters: object) -> list[str]:
        page = store.query(limit=100, **filters)  # type: ignore[arg-type]
        return sorted(_ids(page.events))

    parcels = sorted(e.id for e in made if e.type.startswith("com.sightwire.parcel."))
    assert expect(type="com.sightwire.parcel.*") == parcels
    assert expect(type="com.sightwire.parcel.seen") == sorted(
        e.id for e in made if e.type == "com.sightwire.parcel.seen"
    )
    assert expect(type="*") == sorted(e.id for e in made)
    assert expect(camera="cam-1") == sorted(e.id for e in made if e.data.camera == "cam-1")
    assert expect(min_severity="warning") == sorted(
        e.id for e in made if e.data.severity in ("warning", "critical")
    )
    assert expect(since=T0 + 10, until=T0 + 20) == sorted(e.id for e in made[10:20])
    assert expect(since=datetime.fromtimestamp(T0 + 25, UTC)) == sorted(e.id for e in made[25:])
    combined = expect(type="com.sightwire.parcel.*", camera="cam-0", since=T0 + 6)
    assert combined == sorted(
        e.id
        for e in made[6:]
        if e.type.startswith("com.sightwire.parcel.") and e.data.camera == "cam-0"
    )
    # a filtered query pages too
    page = store.query(camera="cam-0", limit=4)
    rest = store.query(camera="cam-0", limit=100, cursor=page.next_cursor)
    assert _ids(page.events + rest.events) == [
        e.id for e in reversed(made) if e.data.camera == "cam-0"
    ]


def test_like_characters_in_a_type_prefix_match_literally(store: EventStore) -> None:
    store.record(make_event(kind="a_b.x"), [])
    store.record(make_event(kind="aXb.x"), [])
    assert len(store.query(type="com.sightwire.a_b.*").events) == 1


def test_bad_cursors_and_patterns_are_refused(store: EventStore) -> None:
    _seed(store)
    newest = store.query(limit=5)
    assert newest.next_cursor is not None
    with pytest.raises(InvalidCursorError):
        store.query(cursor="not-a-cursor")
    with pytest.raises(InvalidCursorError, match="other order"):
        store.query(cursor=newest.next_cursor, oldest_first=True)
    with pytest.raises(ValueError, match="only a trailing"):
        store.query(type="com.*.seen")
    with pytest.raises(ValueError, match="limit"):
        store.query(limit=0)


def test_queries_use_the_indexes(tmp_path: Path) -> None:
    db = open_database(sqlite_url(tmp_path), migrate=True)
    with db.read() as conn:
        plan = conn.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT cloudevent FROM events WHERE camera = 'c' "
                "AND id < 'Z' ORDER BY id DESC LIMIT 51"
            )
        ).all()
    db.close()
    assert "ix_events_camera_id" in " ".join(str(row[-1]) for row in plan)


def test_a_batch_is_recorded_whole_or_not_at_all(store: EventStore) -> None:
    assert isinstance(store.blobs, FileBlobStore)
    store.blobs.packs = False  # a file a snapshot: the unrecorded one's is deleted
    first, second, third = make_event(), make_event(), make_event()
    stored = store.record_many(
        [NewEvent(first, ["erp"]), NewEvent(second, ["erp", "wms"], b"jpeg")]
    )
    assert [e.id for e in stored] == [first.id, second.id]
    assert stored[1].data.snapshot is not None
    assert [len(store.deliveries(e.id)) for e in stored] == [1, 2]
    with pytest.raises(EventExistsError, match=f"{first.id} is recorded already"):
        store.record_many([NewEvent(third, ["erp"], b"x"), NewEvent(first, ["erp"])])
    assert store.get(third.id) is None
    assert len(list((store.blobs.folder / "snapshots").rglob("*.jpg"))) == 1
    with pytest.raises(EventExistsError, match="in the batch twice"):
        store.record_many([NewEvent(third, []), NewEvent(third, [])])
    assert store.get(third.id) is None and _count(store, events) == 2
