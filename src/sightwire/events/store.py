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

import functools
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, select

from sightwire.config.models import StoreConfig
from sightwire.core.event import Event, Severity
from sightwire.core.ids import new_id
from sightwire.events import outbox, retention
from sightwire.events.handoff import Handoff, Reservation
from sightwire.events.metrics import EventMetrics, default_metrics
from sightwire.events.outbox import Claimed
from sightwire.events.query import EventPage, Window, page_query, read_page
from sightwire.events.records import Attempt, Delivery, load_deliveries
from sightwire.events.retention import Pruned
from sightwire.events.tables import PENDING, SEVERITY_RANK, deliveries, events
from sightwire.storage.blobs import BlobStore, check_key, open_blob_store
from sightwire.storage.database import Database, open_database

Listener = Callable[[], None]
# Rows of another table written in the events' transaction: (cursor, events, now)
Companion = Callable[[Any, Sequence[Event], float], None]
log = logging.getLogger(__name__)
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
        self._handoff: Handoff | None = None
        self._companions: list[tuple[str, Companion]] = []
        self._insert_event = database.prepare(_INSERT_EVENT).sql
        self._insert_delivery = database.prepare(_INSERT_DELIVERY).sql

    @classmethod
    def open(cls, store: StoreConfig, *, migrate: bool = True) -> EventStore:
        """The store a config names, its schema brought up to date.

        >>> # store = EventStore.open(load_config("site.yaml").store)
        """
        database = open_database(store.database, migrate=migrate, tls=store.tls)
        return cls(database, open_blob_store(store.blobs))

    def on_record(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener()`` after each recorded event (a dispatcher wakes up on it).

        Returns the function that stops the calls.
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def write_along(self, name: str, companion: Companion) -> None:
        """Call ``companion(cursor, events, now)`` in the transaction of every batch of
        recorded events, to write rows that belong with them (the review queue's).

        A transaction costs more than a few rows, and on SQLite writers take turns:
        a second transaction per frame cost the run loop a quarter of its events per
        second. The companion's statements run under a savepoint: if they fail, they
        are undone and logged, and the events are recorded all the same.

        >>> # store.write_along("review", review_queue.write_events)
        """
        self._companions.append((name, companion))

    def hand_over_to(self, handoff: Handoff) -> Callable[[], None] | None:
        """Offer deliveries recorded from now on to ``handoff`` (a dispatcher in this
        process; see :mod:`sightwire.events.handoff`).

        Returns the function that stops the offers, or None when another dispatcher
        takes them already (one per store: it has the room to grant).
        """
        if self._handoff is not None:
            return None
        self._handoff = handoff

        def stop() -> None:
            if self._handoff is handoff:
                self._handoff = None

        return stop

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
        staged, written = self.stage_snapshots(batch)
        try:
            return self.record_staged(staged)
        except BaseException:
            self.discard_snapshots(written)
            raise

    def stage_snapshots(self, batch: Sequence[NewEvent]) -> tuple[list[NewEvent], list[str]]:
        """Store the batch's snapshots; returns the batch with each event naming its
        snapshot's key (and no bytes left to store), and the keys this call wrote.

        This is the slow part of recording (a file each) and needs no database:
        callers that share a transaction (:class:`~sightwire.events.group.GroupWriter`)
        do it on their own threads, at the same time, before joining the group.
        The blobs exist before any transaction names them, so a committed event
        never points at a snapshot that was not written (see :meth:`_store_snapshot`
        for what a power loss can still take).
        """
        staged: list[NewEvent] = []
        written: list[str] = []
        shared: dict[tuple[int, int], str] = {}  # (id(bytes), hour) -> the key they got
        try:
            for item in batch:
                if item.snapshot is None:
                    staged.append(item)
                    continue
                event, key = self._store_snapshot(item.event, item.snapshot, shared)
                written += [key] if key else []
                staged.append(NewEvent(event, item.destinations))
        except BaseException:
            self.discard_snapshots(written)
            raise
        return staged, written

    def discard_snapshots(self, keys: Sequence[str]) -> None:
        """Delete snapshots written for events that were not recorded after all (a
        range of a pack file stays, named by no key, until its pack goes)."""
        if self.blobs is not None:
            for key in keys:
                self.blobs.delete(key)

    def record_staged(self, batch: Sequence[NewEvent]) -> list[Event]:
        """Record events whose snapshots are stored (:meth:`stage_snapshots`) in one
        transaction; their blobs are the caller's to discard if this raises."""
        now = self.clock()
        handoff = self._handoff
        reservation = None
        stored = [item.event for item in batch]
        try:
            if any(item.snapshot is not None for item in batch):
                raise ValueError("record_staged takes events whose snapshots are stored")
            if handoff is not None:
                reservation = handoff.reserve(_wanted(batch), now)
            rows = _Rows(now, reservation)
            for item in batch:
                rows.add(item.event, item.destinations)
            with self.db.cursor() as cursor:  # the DBAPI directly: this is the hot path
                cursor.executemany(self._insert_event, rows.events)
                if rows.deliveries:
                    cursor.executemany(self._insert_delivery, rows.deliveries)
                for name, companion in self._companions:
                    _along(cursor, name, companion, stored, now)
        except BaseException as error:
            if reservation is not None and handoff is not None:
                handoff.cancel(reservation)
            if isinstance(error, self.db.integrity_errors):
                self._raise_if_recorded([e.id for e in stored])
            raise
        if handoff is not None:
            self._hand_over(handoff, reservation, rows)
        for event in stored:
            captured_to_emitted = _emitted_at(event) - event.data.captured_at
            self.metrics.emitted(event.type, event.data.camera, captured_to_emitted)
        for listener in self._listeners:
            listener()
        return stored

    def _hand_over(self, handoff: Handoff, reservation: Reservation | None, rows: _Rows) -> None:
        """Give the committed deliveries to the dispatcher. The events are recorded
        whatever happens here: a failure only delays their claimed deliveries until
        their lease ends (or the dispatcher restarts), so it is logged, not raised."""
        try:
            handoff.recorded(reservation, rows.claimed, rows.due)
        except Exception:
            log.exception("hand-over failed: %d deliveries wait for their lease", len(rows.claimed))

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

    def prune(self, before: float | datetime) -> Pruned:
        """Delete events emitted before ``before`` that owe no delivery, with their
        deliveries, logs and blobs (see :mod:`sightwire.events.retention`).

        >>> # store.prune(time.time() - 30 * 86400)     # keep 30 days
        """
        cutoff = _epoch(before)
        assert cutoff is not None
        return retention.prune(self.db, self.blobs, cutoff, now=self.clock())

    def pending(self, destinations: Sequence[str] | None = None) -> int:
        """How many deliveries are still to be made."""
        return outbox.pending_count(self.db, destinations)

    def pending_by_destination(self) -> dict[str, int]:
        """Deliveries still to be made, per destination."""
        return outbox.pending_by_destination(self.db)

    def _store_snapshot(
        self, event: Event, snapshot: bytes, shared: dict[tuple[int, int], str]
    ) -> tuple[Event, str | None]:
        """The event with its snapshot's key, and the key if this call wrote the blob.

        Events of one batch given the very same bytes object (a frame's events, one
        JPEG) share one blob, stored under the first one's key. They share it only
        within one hour of emit time: the file store packs snapshots by that hour
        (:mod:`sightwire.storage.packs`), and retention looks for the events naming a
        pack among those emitted in its hour.

        Crash guarantee: the blob is written (appended to a pack, or a file; not
        fsynced) before the transaction that names it commits. A killed process
        therefore never leaves an event pointing at a missing snapshot: the bytes are
        in the page cache. After a power
        loss or kernel crash the last snapshots may be missing or empty even where
        their events survived (SQLite's ``synchronous=NORMAL`` may lose the last
        transactions too; neither is fsynced per event); readers answer a missing
        blob as "not stored" (the API: 404). A file (or a pack's tail) left by a
        process killed mid-write is never named by an event.
        """
        if self.blobs is None:
            raise ValueError("this event store has no blob store for snapshots")
        written = None
        emitted = _emitted_at(event)
        shared_as = (id(snapshot), int(emitted // 3600))
        key = shared.get(shared_as)
        if key is None:
            own = snapshot_key(event)
            # None: a retry's blob is under ``own`` already; it keeps its first one
            written = self.blobs.put_snapshot(own, snapshot, emitted)
            key = shared[shared_as] = written or own
        data = event.data.model_copy(update={"snapshot": key})
        return event.model_copy(update={"data": data}), written


def _along(cursor: Any, name: str, companion: Companion, events: list[Event], now: float) -> None:
    """Run a companion under a savepoint: its failure must not cost the events."""
    cursor.execute("SAVEPOINT companion")
    try:
        companion(cursor, events, now)
    except Exception:
        cursor.execute("ROLLBACK TO SAVEPOINT companion")
        log.exception("%s: rows not written with %d events", name, len(events))
    cursor.execute("RELEASE SAVEPOINT companion")


def snapshot_key(event: Event) -> str:
    """``snapshots/CAMERA/YYYY/MM/DD/ID.jpg`` (by emit date)."""
    day = datetime.fromtimestamp(_emitted_at(event), UTC)
    camera = "".join(c if c.isalnum() or c in "-_." else "_" for c in event.data.camera)
    key = f"snapshots/{camera.strip('.') or '_'}/{day:%Y/%m/%d}/{event.id}.jpg"
    check_key(key)
    return key


def _emitted_at(event: Event) -> float:
    return _epoch_of(event.time)


@functools.lru_cache(maxsize=1024)
def _epoch_of(rfc3339: str) -> float:
    """An RFC 3339 time as epoch seconds; recording asks for each event's three or
    four times, and parsing is most of the cost."""
    return datetime.fromisoformat(rfc3339).timestamp()


def _epoch(value: float | datetime | None) -> float | None:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return value


def _event_row(event: Event, now: float) -> dict[str, Any]:
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
    "claim",
    "created_at",
)
_INSERT_DELIVERY = insert(deliveries).values({c: bindparam(c) for c in _DELIVERY_COLUMNS})


def _wanted(batch: Sequence[NewEvent]) -> dict[str, int]:
    """Deliveries per destination in ``batch``."""
    wanted: dict[str, int] = {}
    for item in batch:
        for name in dict.fromkeys(item.destinations):
            wanted[name] = wanted.get(name, 0) + 1
    return wanted


class _Rows:
    """The rows of one transaction: events, and deliveries either due now or already
    claimed for the dispatcher in this process (as many as it has room for)."""

    def __init__(self, now: float, reservation: Reservation | None) -> None:
        self.now = now
        self.reservation = reservation
        self.room = dict(reservation.room) if reservation is not None else {}
        self.events: list[dict[str, Any]] = []
        self.deliveries: list[dict[str, Any]] = []
        self.claimed: list[Claimed] = []
        self.due = 0

    def add(self, event: Event, destinations: Sequence[str]) -> None:
        row = _event_row(event, self.now)
        self.events.append(row)
        for name in dict.fromkeys(destinations):
            delivery = _delivery_row(event.id, name, self.now)
            if self.reservation is not None and self.room.get(name, 0) > 0:
                self.room[name] -= 1
                delivery["claim"] = self.reservation.claim
                delivery["next_attempt_at"] = self.reservation.lease_end
                self.claimed.append(_claimed(delivery, row, event))
            else:
                self.due += 1
            self.deliveries.append(delivery)


def _claimed(delivery: dict[str, Any], row: dict[str, Any], event: Event) -> Claimed:
    return Claimed(
        id=delivery["id"],
        event_id=delivery["event_id"],
        destination=delivery["destination"],
        attempts=0,
        replays=0,
        claim=delivery["claim"],
        captured_at=row["captured_at"],
        cloudevent=row["cloudevent"],
        event=event,
    )


def _delivery_row(event_id: str, destination: str, now: float) -> dict[str, Any]:
    return {
        "id": new_id(now),
        "event_id": event_id,
        "destination": destination,
        "state": PENDING,
        "attempts": 0,
        "replays": 0,
        "next_attempt_at": now,
        "claim": None,
        "created_at": now,
    }
