"""Retention: delete old events, their deliveries, attempt logs and blobs.

An event goes once it was emitted before the cutoff and nothing is left to deliver
(no pending delivery: delivered or dead-lettered everywhere), so retention never
drops an event the outbox still owes a receiver. Its deliveries, attempts and
reviews follow through the tables' ``ON DELETE CASCADE``. Its blobs go after the
commit: the snapshot (unless an event that stays shares it: a frame's events share
one JPEG) and the clip. A crash between the commit and the blob deletions leaves
files behind, never an event whose snapshot is missing.

Snapshots in pack files (``.../HH.pack:OFFSET+LENGTH``, see
:mod:`sightwire.storage.packs`) go by the pack: it is deleted once no remaining event
names any range in it, and only when its hour ended at least ``GRACE_S`` ago (nothing
appends to a pack that late, and the transactions naming its last ranges have landed).
The disk cost: a pack lives as long as its newest event, so a snapshot stays up to
an hour past its event's retention, and every snapshot of an hour stays while one
event of that hour is kept (one still owed a delivery). A pack whose last events were
pruned before its hour was ``GRACE_S`` past (a retention under two hours) goes at a
later prune, which sweeps the packs of hours before its cutoff that no event names.

>>> # pruned = prune(store.db, store.blobs, before=time.time() - 30 * 86400)
>>> # pruned.events, pruned.blobs
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, Select, delete, exists, select

from sightwire.events.tables import PENDING, deliveries, events
from sightwire.storage.blobs import BlobStore
from sightwire.storage.database import Database
from sightwire.storage.packs import pack_hour, split_range

BATCH = 500  # events a transaction: short write locks on SQLite
GRACE_S = 3600.0  # a pack goes this long after its hour at the earliest
HOUR_S = 3600.0


@dataclass(frozen=True, slots=True)
class Pruned:
    """What a prune removed."""

    events: int
    blobs: int


def prune(
    db: Database,
    blobs: BlobStore | None,
    before: float,
    batch: int = BATCH,
    now: float | None = None,
) -> Pruned:
    """Delete events emitted before ``before`` (epoch seconds) with nothing pending."""
    now = time.time() if now is None else now
    removed = files = 0
    while True:
        with db.write() as conn:
            rows = conn.execute(_old_and_done(before, batch)).all()
            if not rows:
                break
            ids = [row.id for row in rows]
            conn.execute(delete(events).where(events.c.id.in_(ids)))
            keys = _unshared(conn, rows)
        removed += len(ids)
        if blobs is not None:
            keys = _files(db, keys, now)
            for key in keys:
                blobs.delete(key)
            files += len(keys)
    if blobs is not None:
        files += _sweep_packs(db, blobs, before, now)
    return Pruned(removed, files)


def _sweep_packs(db: Database, blobs: BlobStore, before: float, now: float) -> int:
    """Delete packs of hours before ``before`` that no event names: a pack whose last
    events were pruned while its hour was still within the grace period was kept
    then, and nothing else would ever come back for it."""
    listing = getattr(blobs, "pack_keys", None)  # only the file store packs snapshots
    if listing is None:
        return 0
    old = [pack for pack in listing() if (hour := pack_hour(pack)) and hour + HOUR_S <= before]
    with db.read() as conn:
        orphans = [pack for pack in old if _unnamed(conn, pack, now)]
    for pack in orphans:
        blobs.delete(pack)
    return len(orphans)


def _old_and_done(before: float, batch: int) -> Select[tuple[str, str | None, str]]:
    owed = exists().where(deliveries.c.event_id == events.c.id, deliveries.c.state == PENDING)
    return (
        select(events.c.id, events.c.snapshot, events.c.cloudevent)
        .where(events.c.emitted_at < before, ~owed)
        .order_by(events.c.emitted_at)
        .limit(batch)
    )


def _unshared(conn: Connection, rows: Sequence[Row[Any]]) -> list[str]:
    """Blob keys of the deleted ``rows`` that no remaining event names."""
    snapshots = {row.snapshot for row in rows if row.snapshot}
    kept = set(
        conn.execute(select(events.c.snapshot).where(events.c.snapshot.in_(snapshots))).scalars()
    )
    clips = [clip for row in rows if (clip := _clip(row.cloudevent))]
    return sorted(snapshots - kept) + clips


def _files(db: Database, keys: Iterable[str], now: float) -> list[str]:
    """The blobs to delete for ``keys``: plain keys as they are; for ranges of packs,
    the packs of hours gone by that no remaining event names."""
    plain: list[str] = []
    packs: set[str] = set()
    for key in keys:
        found = split_range(key)
        if found is None:
            plain.append(key)
        else:
            packs.add(found[0])
    if packs:
        with db.read() as conn:
            plain += sorted(pack for pack in packs if _unnamed(conn, pack, now))
    return plain


def _unnamed(conn: Connection, pack: str, now: float) -> bool:
    """Whether ``pack`` is of an hour over ``GRACE_S`` ago and no event names a range
    of it. Only events emitted in its hour can (the event store shares a snapshot
    within one hour of emit time), so the emit-time index finds them."""
    hour = pack_hour(pack)
    if hour is None or hour + HOUR_S + GRACE_S > now:
        return False
    naming = (
        select(events.c.id)
        .where(events.c.emitted_at >= hour, events.c.emitted_at < hour + HOUR_S)
        .where(events.c.snapshot.startswith(pack + ":", autoescape=True))
        .limit(1)
    )
    return conn.execute(naming).first() is None


def _clip(cloudevent: str) -> str | None:
    data = json.loads(cloudevent).get("data") or {}
    clip = data.get("clip")
    return clip if isinstance(clip, str) else None
