"""Acknowledging and resolving events: who did it, when, and what they wrote.

Each step is a row of ``event_reviews``; an event's status is its latest step
(``new`` without any). An event is acknowledged once, then resolved once.

>>> status_of([])
'new'
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import Connection, insert, select

from sightwire.core.ids import new_id
from sightwire.events.tables import event_reviews
from sightwire.storage.database import Database

ReviewAction = Literal["acknowledge", "resolve"]
ReviewStatus = Literal["new", "acknowledged", "resolved"]
_AFTER: dict[ReviewAction, ReviewStatus] = {"acknowledge": "acknowledged", "resolve": "resolved"}
_ALLOWED: dict[ReviewAction, tuple[ReviewStatus, ...]] = {
    "acknowledge": ("new",),
    "resolve": ("new", "acknowledged"),
}


class ReviewStep(BaseModel):
    """One acknowledgement or resolution of an event."""

    action: ReviewAction
    comment: str | None = Field(None, description="What the reviewer wrote")
    by: str = Field(description="Who: the caller's subject (``key:<id>`` or the token's sub)")
    at: float = Field(description="When, epoch seconds")


class ReviewConflictError(ValueError):
    """The event's status does not allow that step (e.g. resolving it twice)."""


def status_of(steps: Sequence[ReviewStep]) -> ReviewStatus:
    """The status an event's steps leave it in."""
    return _AFTER[steps[-1].action] if steps else "new"


def reviews_of(db: Database, event_ids: Sequence[str]) -> dict[str, list[ReviewStep]]:
    """Each event's steps, oldest first (events without any are absent)."""
    if not event_ids:
        return {}
    query = (
        select(event_reviews)
        .where(event_reviews.c.event_id.in_(list(event_ids)))
        .order_by(event_reviews.c.at, event_reviews.c.id)
    )
    found: dict[str, list[ReviewStep]] = {}
    with db.read() as conn:
        for row in conn.execute(query):
            step = ReviewStep(action=row.action, comment=row.comment, by=row.actor, at=row.at)
            found.setdefault(row.event_id, []).append(step)
    return found


def add_review(
    db: Database,
    event_id: str,
    action: ReviewAction,
    comment: str | None,
    actor: str,
    *,
    also: Callable[[Connection], object] | None = None,
    clock: Callable[[], float] = time.time,
) -> list[ReviewStep]:
    """Record a step; returns the event's steps. ReviewConflictError when not allowed.

    ``also(conn)`` runs in the same transaction (the audit entry of the step), so the
    step and its record commit together or not at all.
    """
    with db.write() as conn:
        rows = conn.execute(
            select(event_reviews.c.action)
            .where(event_reviews.c.event_id == event_id)
            .order_by(event_reviews.c.at, event_reviews.c.id)
        ).scalars()
        actions = list(rows)
        status: ReviewStatus = _AFTER[actions[-1]] if actions else "new"
        if status not in _ALLOWED[action]:
            raise ReviewConflictError(
                f"event {event_id} is {status}: it cannot be {_AFTER[action]}"
            )
        now = clock()
        conn.execute(
            insert(event_reviews).values(
                id=new_id(now),
                event_id=event_id,
                action=action,
                comment=comment,
                actor=actor,
                at=now,
            )
        )
        if also is not None:
            also(conn)
    return reviews_of(db, [event_id])[event_id]
