"""What the store answers about deliveries: each one's state and attempt log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, select

from sightwire.events.tables import deliveries, delivery_attempts


@dataclass(frozen=True, slots=True)
class Attempt:
    """One delivery attempt, as logged."""

    attempt: int
    at: float
    ok: bool
    status_code: int | None
    latency_ms: float
    error: str | None
    dispatcher: str


@dataclass(frozen=True, slots=True)
class Delivery:
    """An event's delivery to one destination, with its attempt log (oldest first)."""

    id: str
    event_id: str
    destination: str
    state: str
    attempts: int
    replays: int
    next_attempt_at: float
    created_at: float
    delivered_at: float | None
    last_status_code: int | None
    last_error: str | None
    log: tuple[Attempt, ...] = ()


def load_deliveries(conn: Connection, event_id: str) -> list[Delivery]:
    """An event's deliveries by destination, each with its attempts, oldest first."""
    rows = conn.execute(
        select(deliveries)
        .where(deliveries.c.event_id == event_id)
        .order_by(deliveries.c.destination)
    ).all()
    logged = conn.execute(
        select(delivery_attempts)
        .where(delivery_attempts.c.delivery_id.in_([r.id for r in rows]))
        .order_by(delivery_attempts.c.at, delivery_attempts.c.id)
    ).all()
    log: dict[str, list[Attempt]] = {}
    for a in logged:
        log.setdefault(a.delivery_id, []).append(
            Attempt(a.attempt, a.at, bool(a.ok), a.status_code, a.latency_ms, a.error, a.dispatcher)
        )
    return [_delivery(r, tuple(log.get(r.id, ()))) for r in rows]


def _delivery(row: Row[Any], log: tuple[Attempt, ...]) -> Delivery:
    values = dict(row._mapping)
    values.pop("claim", None)
    return Delivery(**values, log=log)
