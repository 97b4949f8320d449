"""The audit trail: who read or changed what, append-only and hash-chained.

Each entry carries the SHA-256 of the entry before it (``prev_hash``) and its own
``hash`` over its fields and ``prev_hash``; a head record holds the last seq and hash,
updated in the same transaction. :meth:`AuditTrail.verify` walks the chain and names
every edited, deleted, moved or inserted entry and a truncated tail.

>>> import tempfile
>>> from sightwire.storage.database import open_database
>>> trail = AuditTrail(open_database(f"sqlite:///{tempfile.mkdtemp()}/a.db", migrate=True))
>>> trail.record("key:01J0", "event.read", "01JD5Z3YV8N6Q2W8B1C4F7H9KM").seq
1
>>> trail.verify()
[]
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, insert, select, update

from sightwire.security.audit_chain import AuditProblem, canonical_json, entry_hash, verify_chain
from sightwire.security.tables import GENESIS, audit_head, audit_log
from sightwire.storage.database import Database

__all__ = ["GENESIS", "AuditAction", "AuditEntry", "AuditError", "AuditProblem", "AuditTrail"]

_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_LIMITS = {"actor": 320, "action": 64, "target": 512}


class AuditAction(StrEnum):
    """The actions Sightwire records; any ``area.verb`` name is accepted too."""

    EVENT_READ = "event.read"
    SNAPSHOT_READ = "snapshot.read"
    EVENT_ACKNOWLEDGE = "event.acknowledge"
    EVENT_RESOLVE = "event.resolve"
    CONFIG_CHANGE = "config.change"
    ZONE_CHANGE = "zone.change"
    KEY_CREATE = "key.create"
    KEY_REVOKE = "key.revoke"
    MODEL_PROMOTE = "model.promote"
    MODEL_ROLLBACK = "model.rollback"
    DELIVERY_RETRY = "delivery.retry"


class AuditError(Exception):
    """The trail cannot take an entry (its head record is gone) or was given a bad one."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One recorded action; ``hash`` seals it and, through ``prev_hash``, all before it."""

    seq: int
    at: float
    actor: str
    action: str
    target: str
    detail: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready fields, e.g. one line of an export."""
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "detail": self.detail,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


class AuditTrail:
    """The ``audit_log`` table of one database: append, read, verify.

    Appends are serialised: on SQLite by :meth:`Database.write` (one writer at a time,
    across processes too), on PostgreSQL by locking the head row (``FOR UPDATE``), so
    concurrent writers queue and the chain never forks.
    """

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    def record(
        self, actor: str, action: str, target: str, detail: Mapping[str, Any] | None = None
    ) -> AuditEntry:
        """Append one entry in its own transaction.

        >>> # trail.record("oidc:ana", AuditAction.EVENT_ACKNOWLEDGE, event_id, {"comment": "ok"})
        """
        with self._db.write() as conn:
            return self.append(conn, actor, action, target, detail)

    def append(
        self,
        conn: Connection,
        actor: str,
        action: str,
        target: str,
        detail: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Append within the caller's write transaction (from :meth:`Database.write`),
        so the entry commits or rolls back with the change it records."""
        _check(actor=actor, action=action, target=target)
        try:
            detail_json = canonical_json(dict(detail or {}))
        except (TypeError, ValueError) as exc:  # not JSON: a set, a datetime, NaN...
            raise AuditError(f"audit detail must be plain JSON: {exc}") from None
        query = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()  # writers queue here: one chain, no fork
        head = conn.execute(query).first()
        if head is None:
            raise AuditError(
                "the audit head record is missing: the trail was tampered with "
                "(run `sightwire audit verify`)"
            )
        seq, at = int(head.seq) + 1, float(self._clock())
        sealed = entry_hash(seq, at, actor, str(action), target, detail_json, head.hash)
        row = {
            "seq": seq,
            "at": at,
            "actor": actor,
            "action": str(action),
            "target": target,
            "detail": detail_json,
            "prev_hash": head.hash,
            "hash": sealed,
        }
        conn.execute(insert(audit_log).values(**row))
        conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=sealed))
        return _entry(row)

    def entries(
        self, after_seq: int | None = None, limit: int = 1000, since: float | None = None
    ) -> list[AuditEntry]:
        """Entries in seq order after ``after_seq``, at or after ``since`` (epoch s)."""
        query = select(audit_log).order_by(audit_log.c.seq).limit(limit)
        if after_seq is not None:
            query = query.where(audit_log.c.seq > after_seq)
        if since is not None:
            query = query.where(audit_log.c.at >= since)
        with self._db.read() as conn:
            return [_entry(row._mapping) for row in conn.execute(query)]

    def iter_entries(self, since: float | None = None, page: int = 1000) -> Iterator[AuditEntry]:
        """Every entry (at or after ``since``), read a page at a time."""
        after: int | None = None
        while batch := self.entries(after, page, since):
            yield from batch
            after = batch[-1].seq

    def head(self) -> tuple[int, str] | None:
        """The head record: (last seq, its hash); export it to anchor the trail elsewhere."""
        with self._db.read() as conn:
            row = conn.execute(select(audit_head.c.seq, audit_head.c.hash)).first()
        return None if row is None else (int(row.seq), str(row.hash))

    def verify(self, anchor: tuple[int, str] | None = None) -> list[AuditProblem]:
        """Every problem of the chain, in seq order; an empty list means intact.

        ``anchor`` is a (seq, hash) exported earlier (see :meth:`head`): the entry at
        that seq must still carry that hash, which a rewrite of the whole chain breaks.
        """
        return verify_chain(self._db, self.head(), anchor)


def _check(**fields: str) -> None:
    for name, value in fields.items():
        if not value or len(value) > _LIMITS[name]:
            raise AuditError(f"audit {name} must be 1 to {_LIMITS[name]} characters")
    if not _ACTION.match(fields["action"]):
        raise AuditError(f"audit action {fields['action']!r}: use area.verb, e.g. event.read")


def _entry(values: Mapping[Any, Any]) -> AuditEntry:
    detail = values["detail"]
    return AuditEntry(
        seq=int(values["seq"]),
        at=float(values["at"]),
        actor=values["actor"],
        action=values["action"],
        target=values["target"],
        detail=json.loads(detail) if isinstance(detail, str) else dict(detail),
        prev_hash=values["prev_hash"],
        hash=values["hash"],
    )
