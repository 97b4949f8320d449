"""``/api/v1/review``: the review queue, decisions, their pictures and rule precision.

The UI's Review and Rules pages use these; so may any client. Reading needs the
viewer role, deciding the operator role; a camera-scoped caller sees and decides
only its cameras' items. Every decision is stored with who and when, and audited.

>>> # GET  /api/v1/review/items?state=pending
>>> # POST /api/v1/review/items/01J.../decisions  {"action": "confirm"}
>>> # GET  /api/v1/review/precision
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from sightwire.api.auth import Operator, Viewer
from sightwire.api.context import ApiContext, context
from sightwire.api.problems import ApiError, errors
from sightwire.review.labels import Decision, InvalidDecisionError, ItemKind, ItemState
from sightwire.review.query import InvalidCursorError
from sightwire.review.records import DecisionRecord, ReviewItem, ReviewPage, RulePrecision
from sightwire.review.store import ReviewItemNotFoundError, ReviewQueue
from sightwire.security.principal import Principal
from sightwire.storage.blobs import BlobKeyError, BlobNotFoundError

router = APIRouter(prefix="/api/v1/review", tags=["review"])
Ctx = Annotated[ApiContext, Depends(context)]
ItemId = Annotated[str, Path(pattern=r"^[0-9A-Za-z]{1,64}$", description="The item's id")]
NameQuery = Annotated[str | None, Query(max_length=128)]


class ReviewItemOut(BaseModel):
    """An item with every decision taken on it, oldest first."""

    item: ReviewItem
    decisions: list[DecisionRecord]


class ReviewSummary(BaseModel):
    """How much awaits review."""

    pending: int = Field(description="Items awaiting a decision")
    pending_events: int
    pending_frames: int


def queue_of(ctx: ApiContext) -> ReviewQueue:
    """The review queue in the store's database."""
    return ReviewQueue(ctx.store.db)


def _item(ctx: ApiContext, caller: Principal, item_id: str) -> ReviewItem:
    try:
        return queue_of(ctx).get(item_id, cameras=caller.cameras)
    except ReviewItemNotFoundError:
        raise ApiError(404, f"no review item {item_id!r}") from None


@router.get("/items", response_model=ReviewPage, responses=errors(400, 401, 403))
def list_items(
    ctx: Ctx,
    caller: Viewer,
    camera: NameQuery = None,
    rule: NameQuery = None,
    kind: ItemKind | None = None,
    state: ItemState | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ReviewPage:
    """The queue: pending items first, oldest first; the caller's cameras only."""
    try:
        return queue_of(ctx).page(
            cameras=caller.cameras,
            camera=camera,
            rule=rule,
            kind=kind,
            state=state,
            limit=limit,
            cursor=cursor,
        )
    except InvalidCursorError as exc:
        raise ApiError(400, str(exc)) from None


@router.get("/summary", response_model=ReviewSummary, responses=errors(401, 403))
def summary(ctx: Ctx, caller: Viewer) -> ReviewSummary:
    """Pending items, in all and by kind."""
    queue = queue_of(ctx)
    events = queue.pending_count(cameras=caller.cameras, kind="event")
    frames = queue.pending_count(cameras=caller.cameras, kind="frame")
    return ReviewSummary(pending=events + frames, pending_events=events, pending_frames=frames)


@router.get("/items/{item_id}", response_model=ReviewItemOut, responses=errors(401, 403, 404))
def get_item(ctx: Ctx, caller: Viewer, item_id: ItemId) -> ReviewItemOut:
    """One item and its decisions."""
    item = _item(ctx, caller, item_id)
    return ReviewItemOut(item=item, decisions=queue_of(ctx).history(item_id))


@router.get(
    "/items/{item_id}/image",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, **errors(401, 403, 404)},
)
def item_image(ctx: Ctx, caller: Viewer, item_id: ItemId) -> Response:
    """The item's redacted picture (JPEG), without boxes: the page draws them."""
    item = _item(ctx, caller, item_id)
    if item.snapshot is None or ctx.store.blobs is None:
        raise ApiError(404, f"review item {item_id} has no picture")
    try:
        data = ctx.store.blobs.get(item.snapshot)
    except (BlobKeyError, BlobNotFoundError):
        raise ApiError(404, f"the picture of review item {item_id} is not stored") from None
    ctx.audit.record(caller.subject, "snapshot.read", item_id, {"key": item.snapshot})
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})


@router.post(
    "/items/{item_id}/decisions",
    response_model=ReviewItem,
    responses=errors(401, 403, 404, 422),
)
def decide(ctx: Ctx, caller: Operator, item_id: ItemId, body: Decision) -> ReviewItem:
    """Confirm, reject, relabel, add or remove a box; stored with who and when, audited."""

    def audit(conn: Connection, item: ReviewItem) -> None:  # one transaction with the decision
        detail = body.model_dump(mode="json", exclude_none=True) | {"state": item.state}
        ctx.audit.append(conn, caller.subject, "review.decide", item_id, detail)

    try:
        return queue_of(ctx).decide(
            item_id, body, actor=caller.subject, cameras=caller.cameras, also=audit
        )
    except ReviewItemNotFoundError:
        raise ApiError(404, f"no review item {item_id!r}") from None
    except InvalidDecisionError as exc:
        raise ApiError(422, str(exc)) from None


@router.get("/precision", response_model=list[RulePrecision], responses=errors(401, 403))
def precision(
    ctx: Ctx,
    caller: Viewer,
    since: Annotated[float | None, Query(description="Captured at or after, epoch s")] = None,
) -> list[RulePrecision]:
    """Each rule's precision from its reviewed events (the caller's cameras only)."""
    return queue_of(ctx).precision_by_rule(cameras=caller.cameras, since=since)
