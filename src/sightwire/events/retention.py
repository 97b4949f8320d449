"""Retention: delete old events, their deliveries, attempt logs and blobs.

An event goes once it was emitted before the cutoff and nothing is left to deliver
(no pending delivery: delivered or dead-lettered everywhere), so retention never
drops an event the outbox still owes a receiver. Its deliveries, attempts and
reviews follow through the tables' ``ON DELETE CASCADE``. Its blobs go after the
commit: the snapshot (unless an event that stays shares it: a frame's events share
one JPEG) and the clip. A crash between the commit and the blob deletions leaves
files behind, never an event whose snapshot is missing.

>>> # pruned = prune(store.db, store.blobs, before=time.time() - 30 * 86400)
>>> # pruned.events, pruned.blobs
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, Select, delete, exists, select

from sightwire.events.tables import PENDING, deliveries, events
from sightwire.storage.blobs import BlobStore
from sightwire.storage.database import Database

BATCH = 500  # events a transaction: short write locks on SQLite


@dataclass(frozen=True, slots=True)
class Pruned:
    """What a prune removed."""

    events: int
    blobs: int


def prune(db: Database, blobs: BlobStore | None, before: float, batch: int = BATCH) -> Pruned:
    """Delete events emitted before ``before`` (epoch seconds) with nothing pending."""
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
            for key in keys:
                blobs.delete(key)
            files += len(keys)
    return Pruned(removed, files)


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


def _clip(cloudevent: str) -> str | None:
    data = json.loads(cloudevent).get("data") or {}
    clip = data.get("clip")
    return clip if isinstance(clip, str) else None
