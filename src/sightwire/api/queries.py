"""Event queries as the API asks them: the store's filters, plus rule and the caller's
cameras, so a camera-scoped caller never sees another camera's events.

>>> EventFilters(rule="parcel.seen").rule
'parcel.seen'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sightwire.api.problems import ApiError
from sightwire.core.event import Event, Severity
from sightwire.events.query import EventPage, InvalidCursorError, Window, page_query, read_page
from sightwire.events.store import EventStore
from sightwire.events.tables import SEVERITY_RANK, events
from sightwire.security.principal import Principal


@dataclass(frozen=True, slots=True)
class EventFilters:
    """What a caller asked for; None means any."""

    type: str | None = None
    camera: str | None = None
    rule: str | None = None
    min_severity: Severity | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    cursor: str | None = None
    oldest_first: bool = False


def event_page(store: EventStore, filters: EventFilters, caller: Principal) -> EventPage:
    """The page of events ``caller`` may see; 400 for a cursor or type it cannot use."""
    scope = caller.cameras
    if scope is not None and filters.camera is not None and filters.camera not in scope:
        return EventPage()
    window = Window(
        type=filters.type,
        camera=filters.camera,
        min_rank=SEVERITY_RANK[filters.min_severity] if filters.min_severity else None,
        since=_epoch(filters.since),
        until=_epoch(filters.until),
    )
    try:
        statement = page_query(window, filters.limit, filters.cursor, filters.oldest_first)
    except InvalidCursorError as exc:
        raise ApiError(400, str(exc)) from None
    except ValueError as exc:  # a type pattern with a * inside
        raise ApiError(400, str(exc)) from None
    if filters.rule is not None:
        statement = statement.where(events.c.rule == filters.rule)
    if scope is not None:
        statement = statement.where(events.c.camera.in_(sorted(scope)))
    with store.db.read() as conn:
        return read_page(conn, statement, filters.limit, filters.oldest_first)


def visible_event(store: EventStore, event_id: str, caller: Principal) -> Event:
    """The event, if ``caller`` may see it; 404 otherwise (whether or not it exists)."""
    event = store.get(event_id)
    if event is None or not caller.sees(event.data.camera):
        raise ApiError(404, f"no event {event_id}")
    return event


def _epoch(value: datetime | None) -> float | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
