"""Retention: old events that owe nothing go, with their rows and blobs; nothing else."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from sightwire.cli import app
from sightwire.events.metrics import EventMetrics
from sightwire.events.retention import Pruned
from sightwire.events.store import EventStore, NewEvent
from sightwire.events.tables import DELIVERED, deliveries, delivery_attempts
from sightwire.storage.blobs import FileBlobStore
from sightwire.storage.database import open_database
from tests.events.factory import make_event

DAY = 86400.0
NOW = time.time()


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Iterator[EventStore]:
    db = open_database(db_url, migrate=True)
    yield EventStore(db, FileBlobStore(tmp_path / "blobs"), EventMetrics(CollectorRegistry()))
    db.close()


def _delivered(store: EventStore, event_id: str) -> None:
    with store.db.write() as conn:
        conn.execute(
            update(deliveries).where(deliveries.c.event_id == event_id).values(state=DELIVERED)
        )


def _count(store: EventStore, table: object) -> int:
    with store.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)  # type: ignore[arg-type]


def test_old_delivered_events_go_with_their_rows_and_blobs(store: EventStore) -> None:
    assert store.blobs is not None
    old = store.record(make_event(at=NOW - 40 * DAY), ["erp"], snapshot=b"old")
    _delivered(store, old.id)
    owed = store.record(make_event(at=NOW - 40 * DAY), ["erp"], snapshot=b"owed")  # pending
    recent = store.record(make_event(at=NOW - DAY), ["erp"], snapshot=b"recent")
    _delivered(store, recent.id)
    pruned = store.prune(NOW - 30 * DAY)
    assert (pruned.events, pruned.blobs) == (1, 1)
    assert store.get(old.id) is None and store.deliveries(old.id) == []
    assert store.get(owed.id) is not None and store.get(recent.id) is not None
    assert old.data.snapshot is not None and not store.blobs.exists(old.data.snapshot)
    assert owed.data.snapshot is not None and store.blobs.exists(owed.data.snapshot)
    assert _count(store, deliveries) == 2 and _count(store, delivery_attempts) == 0


def test_a_shared_snapshot_stays_while_an_event_names_it(store: EventStore) -> None:
    assert store.blobs is not None
    jpeg = b"one frame"
    first, second, apart = store.record_many(
        [
            NewEvent(make_event(at=NOW - 40 * DAY), [], jpeg),
            NewEvent(make_event(at=NOW - 40 * DAY + 1), [], jpeg),
            NewEvent(make_event(at=NOW - 20 * DAY), [], jpeg),  # shared within an hour only
        ]
    )
    key = first.data.snapshot
    assert key is not None and second.data.snapshot == key  # one file for the frame
    assert apart.data.snapshot not in (None, key)
    assert store.prune(NOW - 40 * DAY + 0.5).events == 1
    assert store.blobs.exists(key)  # the second event still shows it
    assert store.prune(NOW - 30 * DAY).blobs == 1
    assert not store.blobs.exists(key)


def test_the_command_prunes_by_age(tmp_path: Path) -> None:
    config = tmp_path / "site.yaml"
    config.write_text(
        f"version: 1\nstore: {{database: 'sqlite:///{tmp_path}/e.db', "
        f"blobs: 'file://{tmp_path}/blobs'}}\n"
    )
    store = EventStore(open_database(f"sqlite:///{tmp_path}/e.db", migrate=True))
    store.record(make_event(at=NOW - 40 * DAY), [])
    store.record(make_event(at=NOW - 2 * DAY), [])
    store.db.close()
    runner = CliRunner()
    done = runner.invoke(
        app, ["events", "prune", "--older-than", "30d", "-c", str(config), "--json"]
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == {"events": 1, "blobs": 0}
    bad = runner.invoke(app, ["events", "prune", "--older-than", "yesterday", "-c", str(config)])
    assert bad.exit_code != 0 and "30d" in bad.output


def _packed_store(db_url: str, tmp_path: Path, clock: float) -> EventStore:
    """A store whose blob store packs snapshots of events emitted around ``clock``."""
    blobs = FileBlobStore(tmp_path / "packed", clock=lambda: clock)
    return EventStore(open_database(db_url, migrate=True), blobs, EventMetrics(CollectorRegistry()))


def test_a_pack_goes_when_no_event_names_a_range_in_it(db_url: str, tmp_path: Path) -> None:
    hour = (NOW - 40 * DAY) // 3600 * 3600
    store = _packed_store(db_url, tmp_path, hour + 600)
    assert store.blobs is not None
    first = store.record(make_event(at=hour + 60), ["erp"], snapshot=b"first")
    owed = store.record(make_event(at=hour + 120), ["erp"], snapshot=b"owed")
    _delivered(store, first.id)
    assert first.data.snapshot is not None and owed.data.snapshot is not None
    pack = first.data.snapshot.partition(":")[0]
    assert pack.endswith(".pack")
    assert owed.data.snapshot.startswith(pack + ":")  # one pack for the hour
    assert store.prune(NOW - 30 * DAY) == Pruned(1, 0)  # the owed event names the pack
    assert store.blobs.get(owed.data.snapshot) == b"owed"
    _delivered(store, owed.id)
    assert store.prune(NOW - 30 * DAY) == Pruned(1, 1)
    assert not store.blobs.exists(pack)
    store.db.close()


def test_a_pack_of_a_recent_hour_stays(db_url: str, tmp_path: Path) -> None:
    store = _packed_store(db_url, tmp_path, NOW)
    assert store.blobs is not None
    event = store.record(make_event(at=NOW - 60), [], snapshot=b"recent")
    assert event.data.snapshot is not None and ".pack:" in event.data.snapshot
    assert store.prune(NOW) == Pruned(1, 0)  # its hour may still be appended to
    assert store.blobs.exists(event.data.snapshot)
    store.db.close()


def test_only_a_pack_no_event_names_goes(db_url: str, tmp_path: Path) -> None:
    hour = (NOW - 40 * DAY) // 3600 * 3600
    store = _packed_store(db_url, tmp_path, hour + 60)
    assert isinstance(store.blobs, FileBlobStore)
    gone = store.record(make_event(camera="belt_1", at=hour + 60), [], snapshot=b"a")
    # 'belt_1' as an unescaped LIKE pattern would match this one's pack too
    owed = store.record(make_event(camera="belt-1", at=hour + 60), ["erp"], snapshot=b"b")
    store.blobs.clock = lambda: hour + 3660
    later = store.record(make_event(camera="belt_1", at=hour + 3660), [], snapshot=b"c")
    keys = [e.data.snapshot or "" for e in (gone, owed, later)]
    assert len({key.partition(":")[0] for key in keys}) == 3  # three packs
    assert store.prune(hour + 61) == Pruned(1, 1)
    assert not store.blobs.exists(keys[0])
    assert store.blobs.get(keys[1]) == b"b" and store.blobs.get(keys[2]) == b"c"
    store.db.close()


def test_a_pack_kept_within_its_grace_goes_at_a_later_prune(db_url: str, tmp_path: Path) -> None:
    hour = (NOW - 40 * DAY) // 3600 * 3600
    store = _packed_store(db_url, tmp_path, hour + 60)
    assert store.blobs is not None
    event = store.record(make_event(at=hour + 60), [], snapshot=b"short-lived")
    assert event.data.snapshot is not None
    pack = event.data.snapshot.partition(":")[0]
    store.clock = lambda: hour + 1800  # a short retention: the hour is not over yet
    assert store.prune(hour + 1200) == Pruned(1, 0)
    assert store.blobs.exists(pack)  # it may still be appended to
    store.clock = lambda: hour + 3 * 3600
    assert store.prune(hour + 2 * 3600) == Pruned(0, 1)  # no event left to lead to it
    assert not store.blobs.exists(pack)
    store.db.close()
