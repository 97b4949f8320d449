"""Event snapshots (JPEG), optionally with the event's objects boxed.

>>> # GET /api/v1/events/01J.../snapshot?boxes=true
>>> # GET /api/v1/snapshots/snapshots/belt-1/2026/11/27/01J....jpg   (an event's data.snapshot)

A key is only served when an event names it, and only to callers who may see that
event's camera; keys that could leave the blob store (``..``, absolute, encoded
variants) are refused before anything is read.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from sqlalchemy import select

from sightwire.api.auth import Viewer
from sightwire.api.context import ApiContext, context
from sightwire.api.drawing import UnreadableImageError, decode_jpeg, draw_objects, encode_jpeg
from sightwire.api.problems import ApiError, errors
from sightwire.api.queries import visible_event
from sightwire.api.routes.events import EventId
from sightwire.core.event import Event
from sightwire.events.tables import events
from sightwire.security.principal import Principal
from sightwire.storage.blobs import BlobKeyError, BlobNotFoundError, check_key

router = APIRouter(prefix="/api/v1", tags=["events"])
Ctx = Annotated[ApiContext, Depends(context)]
Boxes = Annotated[bool, Query(description="Draw the event's objects: class, track id, confidence")]


class JpegResponse(Response):
    media_type = "image/jpeg"


_JPEG: dict[int | str, dict[str, Any]] = {
    200: {"description": "The JPEG", "content": {"image/jpeg": {}}}
}


@router.get(
    "/events/{event_id}/snapshot",
    response_class=JpegResponse,
    responses={**_JPEG, **errors(401, 403, 404)},
)
def event_snapshot(ctx: Ctx, caller: Viewer, event_id: EventId, boxes: Boxes = False) -> Response:
    """The event's redacted snapshot."""
    event = visible_event(ctx.store, event_id, caller)
    if event.data.snapshot is None:
        raise ApiError(404, f"event {event_id} has no snapshot")
    return _serve(ctx, caller, event, event.data.snapshot, boxes)


@router.get(
    "/snapshots/{key:path}",
    response_class=JpegResponse,
    responses={**_JPEG, **errors(400, 401, 403, 404)},
)
def snapshot_by_key(
    ctx: Ctx,
    caller: Viewer,
    key: Annotated[str, Path(max_length=512, description="An event's data.snapshot")],
    boxes: Boxes = False,
) -> Response:
    """A snapshot by its blob key, as an event's ``data.snapshot`` names it."""
    try:
        check_key(key)
    except BlobKeyError as exc:
        raise ApiError(400, str(exc)) from None
    with ctx.store.db.read() as conn:
        event_id = conn.execute(select(events.c.id).where(events.c.snapshot == key)).scalar()
    if event_id is None:
        raise ApiError(404, "no event has that snapshot")
    event = visible_event(ctx.store, str(event_id), caller)
    return _serve(ctx, caller, event, key, boxes)


def _serve(ctx: ApiContext, caller: Principal, event: Event, key: str, boxes: bool) -> Response:
    if ctx.store.blobs is None:
        raise ApiError(404, "this server has no blob store")
    try:
        data = ctx.store.blobs.get(key)
    except (BlobKeyError, BlobNotFoundError):
        raise ApiError(404, f"the snapshot of event {event.id} is not stored") from None
    ctx.audit.record(caller.subject, "snapshot.read", event.id, {"key": key, "boxes": boxes})
    if boxes:
        try:
            data = encode_jpeg(draw_objects(decode_jpeg(data), event.data.objects))
        except UnreadableImageError:
            raise ApiError(404, f"the snapshot of event {event.id} is unreadable") from None
    return JpegResponse(data)
