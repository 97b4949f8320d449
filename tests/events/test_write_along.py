"""Rows written along with recorded events (the review queue's), in their transaction."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import text

from sightwire.core import Event
from sightwire.events.group import GroupWriter
from sightwire.events.metrics import EventMetrics
from sightwire.events.store import EventStore, NewEvent
from sightwire.storage.database import open_database
from tests.events.factory import make_event


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Iterator[EventStore]:
    db = open_database(db_url, migrate=True)
    with db.cursor() as cursor:
        cursor.execute("CREATE TABLE along (event_id VARCHAR(32) PRIMARY KEY, at FLOAT)")
    yield EventStore(db, None, EventMetrics(CollectorRegistry()))
    with db.cursor() as cursor:
        cursor.execute("DROP TABLE along")
    db.close()


def _along(store: EventStore) -> list[str]:
    with store.db.read() as conn:
        return sorted(conn.execute(text("SELECT event_id FROM along")).scalars())


def _insert(cursor: Any, events: Sequence[Event], now: float) -> None:
    cursor.executemany(
        "INSERT INTO along (event_id, at) VALUES (%s, %s)"
        if cursor.__class__.__module__.startswith("psycopg")
        else "INSERT INTO along (event_id, at) VALUES (?, ?)",
        [(e.id, now) for e in events],
    )


def test_companion_rows_share_the_events_transaction(store: EventStore) -> None:
    calls: list[int] = []

    def companion(cursor: Any, events: Sequence[Event], now: float) -> None:
        calls.append(len(events))
        _insert(cursor, events, now)

    store.write_along("test", companion)
    frame = [NewEvent(make_event(), []) for _ in range(3)]
    recorded = GroupWriter(store).record(frame)
    assert _along(store) == sorted(e.id for e in recorded if isinstance(e, Event))
    assert calls == [3]  # once for the batch


def test_a_failing_companion_costs_its_rows_not_the_events(
    store: EventStore, caplog: pytest.LogCaptureFixture
) -> None:
    def half_then_fail(cursor: Any, events: Sequence[Event], now: float) -> None:
        _insert(cursor, events[:1], now)
        raise RuntimeError("review table is away")

    store.write_along("review", half_then_fail)
    event = store.record(make_event(), ["erp"])
    assert store.get(event.id) is not None and store.pending() == 1  # recorded, queued
    assert _along(store) == []  # its half-written rows were undone
    assert "review: rows not written with 1 events" in caplog.text
