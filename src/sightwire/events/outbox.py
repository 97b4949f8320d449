"""The outbox in SQL: claim due deliveries, record attempts, release and replay.

A dispatcher calls these from its one database thread, on a DBAPI cursor (the
statements are SQLAlchemy Core, compiled once per database by
:meth:`~sightwire.storage.database.Database.prepare`). A claim is a single
``UPDATE ... WHERE id IN (SELECT ... LIMIT n [FOR UPDATE SKIP LOCKED]) RETURNING``
per destination, the event's JSON included: it writes a claim token and moves
``next_attempt_at`` to the end of the lease. Several dispatchers on PostgreSQL
skip each other's locked rows; a dispatcher that dies leaves rows that fall due
again when their lease ends. An
outcome only updates a delivery that still carries the claim it was made under,
so a dispatcher that lost its claim cannot overwrite a newer one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, bindparam, func, insert, select, update

from sightwire.core.event import Event
from sightwire.core.ids import new_id
from sightwire.events.tables import DEAD, DELIVERED, PENDING, deliveries, delivery_attempts, events
from sightwire.storage.database import Database


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery this dispatcher may attempt now."""

    id: str
    event_id: str
    destination: str
    attempts: int
    replays: int
    claim: str
    captured_at: float
    cloudevent: str
    event: Event | None = None  # parsed already (handed over by the store): no re-parse


@dataclass(frozen=True, slots=True)
class Outcome:
    """One finished attempt and what it makes of its delivery."""

    delivery_id: str
    claim: str
    attempt: int
    at: float
    ok: bool
    status_code: int | None
    latency_ms: float
    error: str | None
    state: str
    next_attempt_at: float
    dispatcher: str


def _event_column(column: ColumnElement[Any]) -> ScalarSelect[Any]:
    return select(column).where(events.c.id == deliveries.c.event_id).scalar_subquery()


_DUE = (
    select(deliveries.c.id)
    .where(
        deliveries.c.state == PENDING,
        deliveries.c.destination == bindparam("destination"),
        deliveries.c.next_attempt_at <= bindparam("now"),
    )
    .order_by(deliveries.c.next_attempt_at)
    .limit(bindparam("want"))
    .with_for_update(skip_locked=True)
)
_CLAIM = (
    update(deliveries)
    .where(deliveries.c.id.in_(_DUE.scalar_subquery()))
    .values(claim=bindparam("claim"), next_attempt_at=bindparam("lease_end"))
    .returning(
        deliveries.c.id,
        deliveries.c.event_id,
        deliveries.c.destination,
        deliveries.c.attempts,
        deliveries.c.replays,
        _event_column(events.c.captured_at),
        _event_column(events.c.cloudevent),
    )
)
_LOG_ATTEMPT = insert(delivery_attempts).values(
    {c.name: bindparam(c.name) for c in delivery_attempts.c}
)
_FINISH = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("b_id"), deliveries.c.claim == bindparam("b_claim"))
    .values(
        state=bindparam("b_state"),
        attempts=bindparam("b_attempt"),
        next_attempt_at=bindparam("b_next"),
        delivered_at=bindparam("b_delivered_at"),
        last_status_code=bindparam("b_status"),
        last_error=bindparam("b_error"),
        claim=None,
    )
)
_RELEASE = (
    update(deliveries)
    .where(deliveries.c.id == bindparam("b_id"), deliveries.c.claim == bindparam("b_claim"))
    .values(claim=None, next_attempt_at=bindparam("b_now"))
)
_NEXT_DUE = select(func.min(deliveries.c.next_attempt_at)).where(
    deliveries.c.state == PENDING, deliveries.c.destination == bindparam("destination")
)


def claim_due(
    db: Database, cursor: Any, wants: Mapping[str, int], now: float, lease_s: float
) -> list[Claimed]:
    """Claim up to ``wants[destination]`` due deliveries of each destination."""
    token = new_id(now)
    claim = db.prepare(_CLAIM)
    claimed: list[Claimed] = []
    for destination, want in wants.items():
        if want <= 0:
            continue
        params = claim.params(
            destination=destination, now=now, want=want, claim=token, lease_end=now + lease_s
        )
        cursor.execute(claim.sql, params)
        for id_, event_id, dest, attempts, replays, captured_at, text in cursor.fetchall():
            claimed.append(
                Claimed(id_, event_id, dest, attempts, replays, token, captured_at, text)
            )
    return claimed


def record_outcomes(db: Database, cursor: Any, outcomes: Sequence[Outcome]) -> None:
    """Log every attempt and move each delivery to its new state."""
    if not outcomes:
        return
    log, finish = db.prepare(_LOG_ATTEMPT), db.prepare(_FINISH)
    cursor.executemany(
        log.sql,
        [
            log.params(
                id=new_id(o.at),
                delivery_id=o.delivery_id,
                attempt=o.attempt,
                at=o.at,
                ok=o.ok,
                status_code=o.status_code,
                latency_ms=o.latency_ms,
                error=o.error,
                dispatcher=o.dispatcher,
            )
            for o in outcomes
        ],
    )
    cursor.executemany(
        finish.sql,
        [
            finish.params(
                b_id=o.delivery_id,
                b_claim=o.claim,
                b_state=o.state,
                b_attempt=o.attempt,
                b_next=o.next_attempt_at,
                b_delivered_at=o.at + o.latency_ms / 1000 if o.state == DELIVERED else None,
                b_status=o.status_code,
                b_error=o.error,
            )
            for o in outcomes
        ],
    )


def next_due(db: Database, cursor: Any, destinations: Iterable[str]) -> float | None:
    """When the earliest pending delivery to one of ``destinations`` falls due."""
    query = db.prepare(_NEXT_DUE)
    earliest = None
    for destination in destinations:
        cursor.execute(query.sql, query.params(destination=destination))
        (value,) = cursor.fetchone()
        if value is not None and (earliest is None or value < earliest):
            earliest = float(value)
    return earliest


def release(db: Database, cursor: Any, claims: Iterable[Claimed], now: float) -> None:
    """Make claimed deliveries due again at once (a dispatcher giving them back)."""
    statement = db.prepare(_RELEASE)
    params = [statement.params(b_id=c.id, b_claim=c.claim, b_now=now) for c in claims]
    if params:
        cursor.executemany(statement.sql, params)


def release_all(db: Database, now: float) -> int:
    """Make every claimed pending delivery due again (a lone dispatcher starting)."""
    stmt = (
        update(deliveries)
        .where(deliveries.c.state == PENDING, deliveries.c.claim.is_not(None))
        .values(claim=None, next_attempt_at=now)
    )
    with db.write() as conn:
        return conn.execute(stmt).rowcount


def replay(
    db: Database,
    now: float,
    *,
    event_ids: Sequence[str] = (),
    dead: bool = False,
    since: float | None = None,
    until: float | None = None,
    destination: str | None = None,
) -> int:
    """Queue finished deliveries (dead, or delivered too) again; returns how many.

    The selectors combine: ``dead`` with ``since`` re-queues the dead letters of
    events emitted since then. At least one of ``event_ids``, ``dead``, ``since``,
    ``until`` must be given, so that nothing replays everything by accident.
    """
    if not event_ids and not dead and since is None and until is None:
        raise ValueError("say what to replay: event ids, dead letters or a time range")
    where: list[ColumnElement[bool]] = [
        deliveries.c.state.in_([DEAD] if dead else [DEAD, DELIVERED])
    ]
    if event_ids:
        where.append(deliveries.c.event_id.in_(list(event_ids)))
    if destination is not None:
        where.append(deliveries.c.destination == destination)
    if since is not None or until is not None:
        emitted = select(events.c.id)
        if since is not None:
            emitted = emitted.where(events.c.emitted_at >= since)
        if until is not None:
            emitted = emitted.where(events.c.emitted_at < until)
        where.append(deliveries.c.event_id.in_(emitted.scalar_subquery()))
    stmt = (
        update(deliveries)
        .where(*where)
        .values(
            state=PENDING,
            attempts=0,
            replays=deliveries.c.replays + 1,
            next_attempt_at=now,
            claim=None,
            delivered_at=None,
        )
    )
    with db.write() as conn:
        return conn.execute(stmt).rowcount


def pending_count(db: Database, destinations: Iterable[str] | None = None) -> int:
    """Deliveries not yet delivered nor dead (to ``destinations``, or to any)."""
    query = select(func.count()).select_from(deliveries).where(deliveries.c.state == PENDING)
    if destinations is not None:
        query = query.where(deliveries.c.destination.in_(list(destinations)))
    with db.read() as conn:
        return int(conn.execute(query).scalar() or 0)


def pending_by_destination(db: Database) -> dict[str, int]:
    """Deliveries not yet delivered nor dead, per destination."""
    query = (
        select(deliveries.c.destination, func.count())
        .where(deliveries.c.state == PENDING)
        .group_by(deliveries.c.destination)
    )
    with db.read() as conn:
        return {name: int(count) for name, count in conn.execute(query)}
