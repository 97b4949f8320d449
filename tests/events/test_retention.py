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
    first, second = store.record_many(
        [
            NewEvent(make_event(at=NOW - 40 * DAY), [], jpeg),
            NewEvent(make_event(at=NOW - 20 * DAY), [], jpeg),
        ]
    )
    key = first.data.snapshot
    assert key is not None and second.data.snapshot == key  # one file for the frame
    assert store.prune(NOW - 30 * DAY).events == 1
    assert store.blobs.exists(key)  # the second event still shows it
    assert store.prune(NOW - 10 * DAY).blobs == 1
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
