"""The audit chain's hashing and its verification, apart from the trail's writes.

An entry's hash is SHA-256 over the canonical JSON of its fields (seq, at, actor,
action, target, detail text) and ``prev_hash``. :func:`verify_chain` walks the table
in seq order once, a page at a time, and names what it finds:

- ``edited``: an entry's fields no longer give its hash;
- ``moved``: they give it for another seq (entries swapped or renumbered);
- ``missing``: seq numbers skipped (entries deleted);
- ``broken_link``: an entry that does not follow the one before it (an entry rewritten
  with a fresh hash, or one inserted);
- ``inserted``: an entry with a seq below 1;
- ``truncated`` / ``unanchored`` / ``head``: the table's tail disagrees with the head
  record (entries deleted from the end, or appended around the trail).

>>> entry_hash(1, 0.0, "cli:ana", "key.create", "01J0", "{}", GENESIS)[:16]
'ea6e5bab5b379ce3'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import select

from sightwire.security.tables import GENESIS, audit_log
from sightwire.storage.database import Database

_PAGE = 1000
_MOVED_LOOKUPS = 50  # past this many damaged rows, stop looking for where each came from
_NEARBY = 64  # how far from its seq a damaged entry is looked for


ProblemKind = Literal[
    "edited", "moved", "missing", "broken_link", "inserted", "truncated", "unanchored", "head"
]


@dataclass(frozen=True, slots=True)
class AuditProblem:
    """Something :meth:`AuditTrail.verify` found; ``seq`` is the first entry concerned."""

    seq: int | None
    kind: ProblemKind
    message: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "head"
        return f"{where}: {self.kind}: {self.message}"


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is: one text per value, so hashes repeat.

    >>> canonical_json({"b": 1, "a": [1.5, "é"]})
    '{"a":[1.5,"é"],"b":1}'
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def entry_hash(
    seq: int, at: float, actor: str, action: str, target: str, detail: str, prev_hash: str
) -> str:
    """SHA-256 (hex) over an entry's fields; ``detail`` is its canonical JSON text."""
    fields = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "target": target,
        "detail": detail,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(canonical_json(fields).encode()).hexdigest()


def row_hash(row: Mapping[str, Any], seq: int | None = None) -> str:
    """The hash ``row``'s fields give, as if it were at ``seq`` (default: its own)."""
    return entry_hash(
        int(row["seq"] if seq is None else seq),
        float(row["at"]),
        row["actor"],
        row["action"],
        row["target"],
        row["detail"],
        row["prev_hash"],
    )


@dataclass
class _Walk:
    """Where the walk is: the last entry seen and whether it was damaged."""

    seq: int = 0
    hash: str = GENESIS
    damaged: bool = False
    lookups: int = 0


def verify_chain(
    db: Database, head: tuple[int, str] | None, anchor: tuple[int, str] | None = None
) -> list[AuditProblem]:
    """Every problem of the chain in ``db`` against its ``head`` record, in seq order."""
    problems: list[AuditProblem] = []
    walk = _Walk()
    for row in _rows(db):
        problems.extend(_check_row(db, row, walk))
    problems.extend(_check_head(head, walk))
    if anchor is not None:
        problems.extend(_check_anchor(db, anchor))
    return problems


def _check_row(db: Database, row: Mapping[str, Any], walk: _Walk) -> list[AuditProblem]:
    seq = int(row["seq"])
    if seq <= walk.seq:  # only a forged seq of 0 or below comes before the first
        return [AuditProblem(seq, "inserted", "seq numbers start at 1: a forged entry")]
    found: list[AuditProblem] = []
    gap = seq > walk.seq + 1
    if gap:
        last = f"–{seq - 1}" if seq - 1 > walk.seq + 1 else ""
        found.append(AuditProblem(walk.seq + 1, "missing", f"entries {walk.seq + 1}{last} deleted"))
    if row_hash(row) != row["hash"]:
        origin = _origin(db, row, walk)
        if origin is None:
            found.append(AuditProblem(seq, "edited", "its fields no longer match its hash"))
        else:
            if origin == seq - 1 and not gap and not walk.damaged:
                # The entry before looked sound, yet this one was written in its place.
                message = "not in the chain as written: the entries after it were renumbered"
                found.append(AuditProblem(seq - 1, "inserted", message))
            found.append(AuditProblem(seq, "moved", f"holds the entry written as seq {origin}"))
    elif row["prev_hash"] != walk.hash and not gap and not walk.damaged:
        message = f"does not follow seq {walk.seq}: one of them was forged"
        found.append(AuditProblem(seq, "broken_link", message))
    walk.seq, walk.hash = seq, row["hash"]
    walk.damaged = bool(found) and found[-1].kind == "moved"  # its successor: no news
    return found


def _origin(db: Database, row: Mapping[str, Any], walk: _Walk) -> int | None:
    """The seq a damaged entry was written at, when it is intact there; else None.

    Tried: the seq after the entry its link names (swapped entries), then nearby seqs
    (entries renumbered around an insertion or deletion).
    """
    if walk.lookups >= _MOVED_LOOKUPS:
        return None
    walk.lookups += 1
    seq = int(row["seq"])
    nearby = [s for d in range(1, _NEARBY + 1) for s in (seq - d, seq + d) if s >= 1]
    for candidate in [_seq_after(db, row["prev_hash"]), *nearby]:
        if candidate is not None and candidate != seq and row_hash(row, candidate) == row["hash"]:
            return candidate
    return None


def _seq_after(db: Database, prev_hash: str) -> int | None:
    if prev_hash == GENESIS:
        return 1
    query = select(audit_log.c.seq).where(audit_log.c.hash == prev_hash).limit(1)
    with db.read() as conn:
        before = conn.execute(query).scalar()
    return None if before is None else int(before) + 1


def _check_head(head: tuple[int, str] | None, walk: _Walk) -> list[AuditProblem]:
    if head is None:
        return [AuditProblem(None, "head", "the head record is missing")]
    head_seq, head_hash = head
    if head_seq > walk.seq:
        span = f"{walk.seq + 1}–{head_seq}" if head_seq > walk.seq + 1 else str(head_seq)
        message = f"entries {span} deleted from the end (the head records seq {head_seq})"
        return [AuditProblem(walk.seq + 1, "truncated", message)]
    if head_seq < walk.seq:
        message = f"entries after seq {head_seq} were not written through the trail"
        return [AuditProblem(head_seq + 1, "unanchored", message)]
    if head_hash != walk.hash:
        return [AuditProblem(head_seq, "head", "the last entry's hash differs from the head's")]
    return []


def _check_anchor(db: Database, anchor: tuple[int, str]) -> list[AuditProblem]:
    seq, expected = anchor
    with db.read() as conn:
        stored = conn.execute(select(audit_log.c.hash).where(audit_log.c.seq == seq)).scalar()
    if stored == expected:
        return []
    return [AuditProblem(seq, "head", "differs from the anchor exported earlier: rewritten")]


def _rows(db: Database) -> Iterator[Mapping[str, Any]]:
    after = -(2**62)  # seq numbers start at 1; a forged 0 or negative one is still seen
    while True:
        query = (
            select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq).limit(_PAGE)
        )
        with db.read() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        if not rows:
            return
        yield from rows
        after = int(rows[-1]["seq"])
