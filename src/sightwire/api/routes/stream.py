"""``GET /api/v1/events/stream``: new events as server-sent events, as they are recorded.

Each message is ``id: <event id>``, ``event: <type>``, ``data: <CloudEvent JSON>``. A
client that reconnects with ``Last-Event-ID`` gets what it missed. The first line,
``: subscribed``, says the stream is live; ``: keepalive`` lines keep proxies from
closing a quiet one. When the server stops, the stream ends after its last message.

>>> # curl -N -H "Authorization: Bearer $KEY" \\
>>> #      "http://localhost:8080/api/v1/events/stream?min_severity=warning"
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from sightwire.api.auth import Viewer
from sightwire.api.context import ApiContext, context
from sightwire.api.problems import ApiError, errors
from sightwire.api.queries import EventFilters, event_page
from sightwire.api.routes.events import EVENT_ID
from sightwire.core.event import Severity
from sightwire.events.query import encode_cursor
from sightwire.events.tables import events
from sightwire.security.principal import Principal

router = APIRouter(prefix="/api/v1/events", tags=["events"])
Ctx = Annotated[ApiContext, Depends(context)]
BATCH = 100


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={
        200: {"description": "Server-sent events", "content": {"text/event-stream": {}}},
        **errors(400, 401, 403),
    },
)
async def event_stream(
    ctx: Ctx,
    caller: Viewer,
    type: Annotated[str | None, Query(max_length=255, description="Type, or prefix with *")] = None,
    camera: Annotated[str | None, Query(max_length=64)] = None,
    rule: Annotated[str | None, Query(max_length=128)] = None,
    min_severity: Annotated[Severity | None, Query()] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=26)] = None,
) -> StreamingResponse:
    """Events recorded from now on (or after ``Last-Event-ID``) that the caller may see."""
    if last_event_id is not None and not re.match(EVENT_ID, last_event_id):
        raise ApiError(400, "Last-Event-ID is not an event id")
    if type is not None:  # 400 on a bad pattern now, not in the middle of the stream
        await run_in_threadpool(event_page, ctx.store, EventFilters(type=type, limit=1), caller)
    await run_in_threadpool(ctx.audit.record, caller.subject, "event.stream", "events")
    filters = EventFilters(type, camera, rule, min_severity, limit=BATCH, oldest_first=True)
    return StreamingResponse(
        _messages(ctx, caller, filters, last_event_id),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},
    )


def _newest_id(ctx: ApiContext) -> str:
    with ctx.store.db.read() as conn:
        newest = conn.execute(select(func.max(events.c.id))).scalar()
    return str(newest) if newest else "0"  # every ULID sorts after "0"


async def _messages(
    ctx: ApiContext, caller: Principal, filters: EventFilters, last: str | None
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def on_record() -> None:  # called on the recording thread
        loop.call_soon_threadsafe(wake.set)

    stop = ctx.store.on_record(on_record)
    leave = ctx.streams.join(wake)  # a stopping server wakes the stream to end it
    try:
        if last is None:
            last = await run_in_threadpool(_newest_id, ctx)
        yield ": subscribed\n\n"
        keepalive = ctx.config.api.sse_keepalive_s
        while not ctx.streams.closing:
            try:
                await asyncio.wait_for(wake.wait(), keepalive)
            except TimeoutError:  # quiet, or events from another process: look anyway
                yield ": keepalive\n\n"
            if ctx.streams.closing:
                return
            wake.clear()
            cursor = encode_cursor(last, oldest_first=True)
            page = await run_in_threadpool(event_page, ctx.store, _after(filters, cursor), caller)
            for event in page.events:
                last = event.id
                yield f"id: {event.id}\nevent: {event.type}\ndata: {event.model_dump_json()}\n\n"
            if page.next_cursor is not None:
                wake.set()  # more than one batch waiting
    finally:
        leave()
        stop()


def _after(filters: EventFilters, cursor: str) -> EventFilters:
    return EventFilters(
        filters.type,
        filters.camera,
        filters.rule,
        filters.min_severity,
        limit=filters.limit,
        cursor=cursor,
        oldest_first=True,
    )
