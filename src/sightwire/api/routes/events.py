"""``/api/v1/events``: list and read events, their deliveries, acknowledge and resolve.

>>> # GET  /api/v1/events?type=com.sightwire.parcel.*&min_severity=warning&limit=20
>>> # GET  /api/v1/events/01J.../deliveries
>>> # POST /api/v1/events/01J.../acknowledge   {"comment": "seen, QC informed"}
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import Connection

from sightwire.api.auth import Operator, Viewer
from sightwire.api.context import ApiContext, context
from sightwire.api.problems import ApiError, errors
from sightwire.api.queries import EventFilters, event_page, visible_event
from sightwire.api.review import (
    ReviewAction,
    ReviewConflictError,
    ReviewStep,
    add_review,
    reviews_of,
    status_of,
)
from sightwire.api.schemas import DeliveryOut, EventItem, EventPageOut, ReviewRequest
from sightwire.core.event import Event, Severity
from sightwire.security.principal import Principal

router = APIRouter(prefix="/api/v1/events", tags=["events"])
Ctx = Annotated[ApiContext, Depends(context)]
EVENT_ID = r"^[0-9A-HJKMNP-TV-Z]{26}$"
EventId = Annotated[str, Path(pattern=EVENT_ID, description="The event's ULID")]


def item(event: Event, steps: Sequence[ReviewStep]) -> EventItem:
    """The answer for one event and its review steps."""
    return EventItem(event=event, status=status_of(steps), reviews=list(steps))


@router.get("", response_model=EventPageOut, responses=errors(400, 401, 403))
def list_events(
    ctx: Ctx,
    caller: Viewer,
    type: Annotated[
        str | None, Query(max_length=255, description="CloudEvent type, or a prefix ending in *")
    ] = None,
    camera: Annotated[str | None, Query(max_length=64)] = None,
    rule: Annotated[str | None, Query(max_length=128)] = None,
    min_severity: Annotated[Severity | None, Query(description="This severity and above")] = None,
    since: Annotated[datetime | None, Query(description="Emitted at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="Emitted before (ISO 8601)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[str | None, Query(max_length=200, description="From next_cursor")] = None,
    order: Annotated[Literal["newest", "oldest"], Query()] = "newest",
) -> EventPageOut:
    """Events the caller may see, newest first, filtered; pages follow ``next_cursor``."""
    filters = EventFilters(
        type, camera, rule, min_severity, since, until, limit, cursor, order == "oldest"
    )
    page = event_page(ctx.store, filters, caller)
    steps = reviews_of(ctx.store.db, [e.id for e in page.events])
    ctx.audit.record(
        caller.subject, "event.list", "events", {"count": len(page.events), **_shown(filters)}
    )
    items = [item(e, steps.get(e.id, [])) for e in page.events]
    return EventPageOut(items=items, next_cursor=page.next_cursor)


def _shown(filters: EventFilters) -> dict[str, str]:
    asked = {
        "type": filters.type,
        "camera": filters.camera,
        "rule": filters.rule,
        "min_severity": filters.min_severity,
    }
    return {k: str(v) for k, v in asked.items() if v is not None}


@router.get("/{event_id}", response_model=EventItem, responses=errors(401, 403, 404))
def get_event(ctx: Ctx, caller: Viewer, event_id: EventId) -> EventItem:
    """One event with its review status."""
    event = visible_event(ctx.store, event_id, caller)
    ctx.audit.record(caller.subject, "event.read", event_id)
    return item(event, reviews_of(ctx.store.db, [event_id]).get(event_id, []))


@router.get(
    "/{event_id}/deliveries", response_model=list[DeliveryOut], responses=errors(401, 403, 404)
)
def event_deliveries(ctx: Ctx, caller: Viewer, event_id: EventId) -> list[DeliveryOut]:
    """Where the event went: one delivery per destination, with every attempt."""
    visible_event(ctx.store, event_id, caller)
    return [DeliveryOut.of(d) for d in ctx.store.deliveries(event_id)]


def _review(
    ctx: ApiContext, caller: Principal, event_id: str, action: ReviewAction, body: ReviewRequest
) -> EventItem:
    event = visible_event(ctx.store, event_id, caller)
    detail = {"comment": body.comment} if body.comment else {}

    def audit(conn: Connection) -> None:
        ctx.audit.append(conn, caller.subject, f"event.{action}", event_id, detail)

    try:
        steps = add_review(ctx.store.db, event_id, action, body.comment, caller.subject, also=audit)
    except ReviewConflictError as exc:
        raise ApiError(409, str(exc)) from None
    return item(event, steps)


@router.post(
    "/{event_id}/acknowledge", response_model=EventItem, responses=errors(401, 403, 404, 409)
)
def acknowledge(ctx: Ctx, caller: Operator, event_id: EventId, body: ReviewRequest) -> EventItem:
    """Mark a new event as seen; who, when and the comment are stored and audited."""
    return _review(ctx, caller, event_id, "acknowledge", body)


@router.post("/{event_id}/resolve", response_model=EventItem, responses=errors(401, 403, 404, 409))
def resolve(ctx: Ctx, caller: Operator, event_id: EventId, body: ReviewRequest) -> EventItem:
    """Close an event (new or acknowledged); who, when and the comment are stored and audited."""
    return _review(ctx, caller, event_id, "resolve", body)
