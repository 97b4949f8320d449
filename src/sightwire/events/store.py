"""The event store: events, their outbox deliveries and the delivery log.

:meth:`EventStore.record` writes an event and one delivery per destination in one
transaction, so an event that was recorded is never without its deliveries and a
dispatcher (in this process or another) delivers them even after a crash.

>>> import tempfile
>>> from sightwire.core import Event, EventData
>>> from sightwire.storage.database import open_database
>>> store = EventStore(open_database(f"sqlite:///{tempfile.mkdtemp()}/s.db", migrate=True))
>>> event = Event.create(site="dc", camera="belt-1", kind="parcel.seen",
...                      data=EventData(rule="parcel.seen", camera="belt-1", captured_at=1.0))
>>> _ = store.record(event, ["erp"])
>>> [d.destination for d in store.deliveries(event.id)]
['erp']
>>> store.query(type="com.sightwire.parcel.*").events[0].id == event.id
True
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import bindparam, insert, select

from sightwire.config.models import StoreConfig
from sightwire.core.event import Event, Severity
from sightwire.core.ids import new_id
from sightwire.events import outbox
from sightwire.events.metrics import EventMetrics, default_metrics
from sightwire.events.query import EventPage, Window, page_query, read_page
from sightwire.events.records import Attempt, Delivery, load_deliveries
from sightwire.events.tables import PENDING, SEVERITY_RANK, deliveries, events
from sightwire.storage.blobs import BlobStore, check_key, open_blob_store
from sightwire.storage.database import Database, open_database

Listener = Callable[[], None]
__all__ = ["Attempt", "Delivery", "EventExistsError", "EventStore", "NewEvent", "snapshot_key"]


class NewEvent(NamedTuple):
    """An event to record, the destinations it goes to, and its snapshot (JPEG)."""

    event: Event
    destinations: Sequence[str]
    snapshot: bytes | None = None


class EventExistsError(ValueError):
    """An event with that id was recorded already."""


class EventStore:
    """Records events with their deliveries; answers queries about both."""

    def __init__(
        self,
        database: Database,
        blobs: BlobStore | None = None,
        metrics: EventMetrics | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = database
        self.blobs = blobs
        self.metrics = metrics if metrics is not None else default_metrics()
        self.clock = clock
        self._listeners: list[Listener] = []
        self._insert_event = database.prepare(_INSERT_EVENT).sql
        self._insert_delivery = database.prepare(_INSERT_DELIVERY).sql

    @classmethod
    def open(cls, store: StoreConfig, *, migrate: bool = True) -> EventStore:
        """The store a config names, its schema brought up to date.

        >>> # store = EventStore.open(load_config("site.yaml").store)
        """
        return cls(open_database(store.database, migrate=migrate), open_blob_store(store.blobs))

    def on_record(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener()`` after each recorded event (a dispatcher wakes up on it).

        Returns the function that stops the calls.
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def record(
        self, event: Event, destinations: Sequence[str], snapshot: bytes | None = None
    ) -> Event:
        """Store ``event`` and queue it for each destination; returns the stored event.

        ``snapshot`` (JPEG bytes) goes to the blob store first; its key is written
        into ``event.data.snapshot``. The event and its deliveries are one transaction.

        >>> # store.record(event, ["erp", "slack"], snapshot=jpeg_bytes)
        """
        return self.record_many([NewEvent(event, destinations, snapshot)])[0]

    def record_many(self, batch: Sequence[NewEvent]) -> list[Event]:
        """Record several events in one transaction (all or none); cheaper per event.

        >>> # store.record_many([NewEvent(e, ["erp"]) for e in events_of_this_frame])
        """
        keys: list[str] = []
        stored: list[Event] = []
        event_rows: list[dict[str, object]] = []
        delivery_rows: list[dict[str, object]] = []
        now = self.clock()
        try:
            for item in batch:
                event = item.event
                if item.snapshot is not None:
                    event, written = self._store_snapshot(event, item.snapshot)
                    keys += [written] if written else []
                stored.append(event)
                event_rows.append(_event_row(event, now))
                for name in dict.fromkeys(item.destinations):
                    delivery_rows.append(_delivery_row(event.id, name, now))
            with self.db.cursor() as cursor:  # the DBAPI directly: this is the hot path
                cursor.executemany(self._insert_event, event_rows)
                if delivery_rows:
                    cursor.executemany(self._insert_delivery, delivery_rows)
        except BaseException as error:
            if self.blobs is not None:
                for key in keys:
                    self.blobs.delete(key)
            if isinstance(error, self.db.integrity_errors):
                self._raise_if_recorded([e.id for e in stored])
            raise
        for event in stored:
            captured_to_emitted = _emitted_at(event) - event.data.captured_at
            self.metrics.emitted(event.type, event.data.camera, captured_to_emitted)
        for listener in self._listeners:
            listener()
        return stored

    def _raise_if_recorded(self, ids: list[str]) -> None:
        with self.db.read() as conn:
            found = conn.execute(select(events.c.id).where(events.c.id.in_(ids))).scalars()
            recorded = sorted(found)
        if recorded:
            raise EventExistsError(f"event {', '.join(recorded)} is recorded already")
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise EventExistsError(f"event {', '.join(twice)} is in the batch twice")

    def get(self, event_id: str) -> Event | None:
        """The event with that id, or None."""
        with self.db.read() as conn:
            text = conn.execute(select(events.c.cloudevent).where(events.c.id == event_id)).scalar()
        return None if text is None else Event.model_validate_json(text)

    def query(
        self,
        *,
        type: str | None = None,
        camera: str | None = None,
        min_severity: Severity | None = None,
        since: float | datetime | None = None,
        until: float | datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
        oldest_first: bool = False,
    ) -> EventPage:
        """A page of events, newest first; pass ``page.next_cursor`` for the next one.

        ``type`` is a CloudEvent type or a prefix ending in ``*``
        (``com.sightwire.parcel.*``); ``since``/``until`` bound the emit time
        (``since`` inclusive); ``min_severity`` keeps that severity and above.
        """
        window = Window(
            type=type,
            camera=camera,
            min_rank=SEVERITY_RANK[min_severity] if min_severity else None,
            since=_epoch(since),
            until=_epoch(until),
        )
        statement = page_query(window, limit, cursor, oldest_first)
        with self.db.read() as conn:
            return read_page(conn, statement, limit, oldest_first)

    def deliveries(self, event_id: str) -> list[Delivery]:
        """The event's deliveries, each with its attempt log."""
        with self.db.read() as conn:
            return load_deliveries(conn, event_id)

    def replay(
        self,
        event_ids: Sequence[str] = (),
        *,
        dead: bool = False,
        since: float | datetime | None = None,
        until: float | datetime | None = None,
        destination: str | None = None,
    ) -> int:
        """Queue finished deliveries again; returns how many (see :func:`outbox.replay`).

        >>> # store.replay(dead=True)                # every dead letter
        >>> # store.replay(["01J..."])               # one event, delivered or dead
        """
        count = outbox.replay(
            self.db,
            self.clock(),
            event_ids=event_ids,
            dead=dead,
            since=_epoch(since),
            until=_epoch(until),
            destination=destination,
        )
        for listener in self._listeners:
            listener()
        return count

    def pending(self, destinations: Sequence[str] | None = None) -> int:
        """How many deliveries are still to be made."""
        return outbox.pending_count(self.db, destinations)

    def pending_by_destination(self) -> dict[str, int]:
        """Deliveries still to be made, per destination."""
        return outbox.pending_by_destination(self.db)

    def _store_snapshot(self, event: Event, snapshot: bytes) -> tuple[Event, str | None]:
        """The event with its snapshot's key, and the key if this call wrote the blob."""
        if self.blobs is None:
            raise ValueError("this event store has no blob store for snapshots")
        key = snapshot_key(event)
        written = None
        if not self.blobs.exists(key):  # a retried event keeps its first snapshot
            self.blobs.put(key, snapshot)
            written = key
        data = event.data.model_copy(update={"snapshot": key})
        return event.model_copy(update={"data": data}), written


def snapshot_key(event: Event) -> str:
    """``snapshots/CAMERA/YYYY/MM/DD/ID.jpg`` (by emit date)."""
    day = datetime.fromtimestamp(_emitted_at(event), UTC)
    camera = "".join(c if c.isalnum() or c in "-_." else "_" for c in event.data.camera)
    key = f"snapshots/{camera.strip('.') or '_'}/{day:%Y/%m/%d}/{event.id}.jpg"
    check_key(key)
    return key


def _emitted_at(event: Event) -> float:
    return datetime.fromisoformat(event.time).timestamp()


def _epoch(value: float | datetime | None) -> float | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return value


def _event_row(event: Event, now: float) -> dict[str, object]:
    data = event.data
    return {
        "id": event.id,
        "type": event.type,
        "source": event.source,
        "subject": event.subject,
        "camera": data.camera,
        "rule": data.rule,
        "severity": data.severity,
        "severity_rank": SEVERITY_RANK[data.severity],
        "captured_at": data.captured_at,
        "emitted_at": _emitted_at(event),
        "recorded_at": now,
        "snapshot": data.snapshot,
        "cloudevent": event.model_dump_json(exclude_none=True),
    }


_INSERT_EVENT = insert(events).values({c.name: bindparam(c.name) for c in events.c})
_DELIVERY_COLUMNS = (
    "id",
    "event_id",
    "destination",
    "state",
    "attempts",
    "replays",
    "next_attempt_at",
    "created_at",
)
_INSERT_DELIVERY = insert(deliveries).values({c: bindparam(c) for c in _DELIVERY_COLUMNS})


def _delivery_row(event_id: str, destination: str, now: float) -> dict[str, object]:
    return {
        "id": new_id(now),
        "event_id": event_id,
        "destination": destination,
        "state": PENDING,
        "attempts": 0,
        "replays": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
