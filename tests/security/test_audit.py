"""The audit chain: appends verify; every kind of tampering is found and named by seq."""

from __future__ import annotations

import itertools
import threading

import pytest
from sqlalchemy import delete, insert, select, text, update

from sightwire.security.audit import GENESIS, AuditError, AuditProblem, AuditTrail
from sightwire.security.audit_chain import entry_hash
from sightwire.security.tables import audit_head, audit_log
from sightwire.storage.database import Database


def _filled(db: Database, count: int = 8) -> AuditTrail:
    trail = AuditTrail(db)
    for n in range(1, count + 1):
        trail.record(f"key:k{n % 3}", "event.read", f"event-{n}", {"n": n, "note": "é"})
    return trail


def _kinds(problems: list[AuditProblem]) -> list[tuple[int | None, str]]:
    return [(p.seq, p.kind) for p in problems]


def _set(db: Database, seq: int, **values: object) -> None:
    with db.write() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == seq).values(**values))


def test_an_untouched_chain_verifies(db: Database) -> None:
    trail = _filled(db)
    entries = trail.entries()
    assert [e.seq for e in entries] == list(range(1, 9))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    assert entries[0].detail == {"n": 1, "note": "é"}
    assert trail.head() == (8, entries[-1].hash)
    assert trail.verify() == []
    assert [e.seq for e in trail.entries(after_seq=5, limit=2)] == [6, 7]
    assert [e.seq for e in trail.iter_entries(since=entries[6].at)] == [7, 8]


@pytest.mark.parametrize(
    ("field", "value"),
    [("actor", "key:someone-else"), ("detail", '{"n":4,"note":"x"}'), ("at", 1.0)],
)
def test_an_edited_field_is_named(db: Database, field: str, value: object) -> None:
    trail = _filled(db)
    _set(db, 4, **{field: value})
    problems = trail.verify()
    assert _kinds(problems) == [(4, "edited")]
    assert str(problems[0]).startswith("seq 4: edited")


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(db: Database) -> None:
    trail = _filled(db)
    old = trail.entries(after_seq=3, limit=1)[0]
    forged = entry_hash(4, old.at, "key:k0", old.action, old.target, '{"n":4}', old.prev_hash)
    _set(db, 4, actor="key:k0", detail='{"n":4}', hash=forged)
    assert _kinds(trail.verify()) == [(5, "broken_link")]


def test_a_deleted_middle_entry_is_named(db: Database) -> None:
    trail = _filled(db)
    with db.write() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq.in_([4, 5])))
    problems = trail.verify()
    assert _kinds(problems) == [(4, "missing")]
    assert "4–5" in problems[0].message


def test_swapped_entries_are_named_as_moved(db: Database) -> None:
    trail = _filled(db)
    third, fifth = (trail.entries(after_seq=s - 1, limit=1)[0] for s in (3, 5))
    fields = ("at", "actor", "action", "target", "prev_hash", "hash")
    _set(db, 3, detail='{"n":5,"note":"é"}', **{f: getattr(fifth, f) for f in fields})
    _set(db, 5, detail='{"n":3,"note":"é"}', **{f: getattr(third, f) for f in fields})
    problems = trail.verify()
    assert _kinds(problems) == [(3, "moved"), (5, "moved")]
    assert "written as seq 5" in problems[0].message
    assert "written as seq 3" in problems[1].message


def test_a_truncated_tail_is_named(db: Database) -> None:
    trail = _filled(db)
    with db.write() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq >= 7))
    problems = trail.verify()
    assert _kinds(problems) == [(7, "truncated")]
    assert "7–8" in problems[0].message


def test_a_forged_entry_at_the_end_is_named(db: Database) -> None:
    trail = _filled(db)
    last = trail.entries(after_seq=7)[0]
    at = last.at + 1
    forged = entry_hash(9, at, "cli:root", "key.create", "key:x", "{}", last.hash)
    row = {"seq": 9, "at": at, "actor": "cli:root", "action": "key.create"}
    row |= {"target": "key:x", "detail": "{}", "prev_hash": last.hash, "hash": forged}
    with db.write() as conn:
        conn.execute(insert(audit_log).values(**row))
    assert _kinds(trail.verify()) == [(9, "unanchored")]


def test_a_forged_entry_in_the_middle_is_named(db: Database) -> None:
    trail = _filled(db)
    with db.write() as conn:  # make room at seq 5: renumber 5.. upwards, top first
        for seq in range(8, 4, -1):
            conn.execute(update(audit_log).where(audit_log.c.seq == seq).values(seq=seq + 1))
        fourth = conn.execute(select(audit_log).where(audit_log.c.seq == 4)).one()
        forged = entry_hash(5, fourth.at, "cli:root", "key.create", "k", "{}", fourth.hash)
        row = {"seq": 5, "at": fourth.at, "actor": "cli:root", "action": "key.create"}
        row |= {"target": "k", "detail": "{}", "prev_hash": fourth.hash, "hash": forged}
        conn.execute(insert(audit_log).values(**row))
        conn.execute(update(audit_head).values(seq=9))
    problems = trail.verify()
    moved = [(seq, "moved") for seq in range(6, 10)]  # the old 5..8, pushed along
    assert _kinds(problems) == [(5, "inserted"), *moved]
    assert "written as seq 5" in problems[1].message


def test_a_rewritten_chain_breaks_an_exported_anchor(db: Database) -> None:
    trail = _filled(db, 3)
    anchor = trail.head()
    assert anchor is not None and trail.verify(anchor) == []
    with db.write() as conn:  # rewrite entry 3 and the head consistently
        row = conn.execute(select(audit_log).where(audit_log.c.seq == 3)).one()
        forged = entry_hash(3, row.at, "cli:root", row.action, row.target, "{}", row.prev_hash)
        values = {"actor": "cli:root", "detail": "{}", "hash": forged}
        conn.execute(update(audit_log).where(audit_log.c.seq == 3).values(**values))
        conn.execute(update(audit_head).values(hash=forged))
    assert trail.verify() == []  # what full write access can do ...
    assert _kinds(trail.verify(anchor)) == [(3, "head")]  # ... and what an anchor catches


def test_a_missing_head_is_named_and_stops_appends(db: Database) -> None:
    trail = _filled(db, 2)
    with db.write() as conn:
        conn.execute(delete(audit_head))
    assert _kinds(trail.verify()) == [(None, "head")]
    with pytest.raises(AuditError, match="head"):
        trail.record("cli:ana", "key.create", "k")


def test_bad_entries_are_refused(db: Database) -> None:
    trail = AuditTrail(db)
    for actor, action, target in [("", "event.read", "e"), ("a", "read", "e"), ("a", "x.y", "")]:
        with pytest.raises(AuditError):
            trail.record(actor, action, target)
    with pytest.raises(AuditError, match="JSON"):
        trail.record("a", "x.y", "e", {"cameras": {"belt-1"}})
    with pytest.raises(AuditError, match="JSON"):
        trail.record("a", "x.y", "e", {"score": float("nan")})
    assert trail.entries() == []
    assert trail.head() == (0, GENESIS)


def test_concurrent_writers_keep_one_chain(db: Database) -> None:
    trail = AuditTrail(db)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def write(worker: int) -> None:
        try:
            start.wait()
            for n in range(15):
                trail.record(f"key:w{worker}", "event.read", f"e{worker}-{n}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert [e.seq for e in trail.entries()] == list(range(1, 61))
    assert trail.verify() == []
    with db.read() as conn:
        assert conn.execute(text("SELECT seq FROM audit_head")).scalar() == 60
