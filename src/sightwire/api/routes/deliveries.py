"""``/api/v1/actions`` and ``/api/v1/deliveries``: where events go, and how it went.

>>> # GET  /api/v1/actions                        each action, its config (secrets masked)
>>> # GET  /api/v1/deliveries?state=dead           dead letters the caller may see
>>> # POST /api/v1/deliveries/01J.../retry         send a dead (or waiting) delivery now
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import select, update

from sightwire.api.auth import Operator, Viewer
from sightwire.api.context import ApiContext, context
from sightwire.api.problems import ApiError, errors
from sightwire.api.routes.events import EVENT_ID
from sightwire.api.schemas import DeliveryOut
from sightwire.events.records import load_deliveries
from sightwire.events.tables import DEAD, DELIVERED, PENDING, deliveries, events
from sightwire.security.principal import Principal

router = APIRouter(prefix="/api/v1", tags=["actions and deliveries"])
Ctx = Annotated[ApiContext, Depends(context)]
DeliveryId = Annotated[str, Path(pattern=EVENT_ID, description="The delivery's ULID")]


class ActionOut(BaseModel):
    """An action or webhook: its kind, config (secrets masked) and deliveries waiting."""

    name: str
    type: str
    pending: int = Field(description="Deliveries to it not yet made")
    config: dict[str, Any]


class RetryOut(BaseModel):
    """The delivery after the retry was queued."""

    delivery: DeliveryOut


@router.get("/actions", response_model=list[ActionOut], responses=errors(401, 403))
def list_actions(ctx: Ctx, caller: Viewer) -> list[ActionOut]:
    """Every action and webhook of the config."""
    pending = ctx.store.pending_by_destination()
    found: dict[str, dict[str, Any]] = {}
    for name, action in ctx.config.actions.items():
        found[name] = action.model_dump(mode="json", exclude_none=True)  # SecretStr: masked
    for index, hook in enumerate(ctx.config.webhooks):
        found[hook.name or f"webhook:{index}"] = {
            "type": "webhook",
            **hook.model_dump(mode="json", exclude_none=True),
        }
    return [
        ActionOut(name=n, type=str(c.get("type", "")), pending=pending.get(n, 0), config=c)
        for n, c in found.items()
    ]


@router.get("/deliveries", response_model=list[DeliveryOut], responses=errors(401, 403))
def list_deliveries(
    ctx: Ctx,
    caller: Viewer,
    state: Annotated[Literal["pending", "delivered", "dead"] | None, Query()] = None,
    destination: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[DeliveryOut]:
    """Deliveries of the events the caller may see, newest first."""
    query = select(deliveries.c.event_id).join(events, events.c.id == deliveries.c.event_id)
    if state is not None:
        query = query.where(deliveries.c.state == state)
    if destination is not None:
        query = query.where(deliveries.c.destination == destination)
    if caller.cameras is not None:
        query = query.where(events.c.camera.in_(sorted(caller.cameras)))
    query = query.order_by(deliveries.c.id.desc()).limit(limit)
    with ctx.store.db.read() as conn:
        ids = list(dict.fromkeys(conn.execute(query).scalars()))
        found = [d for event_id in ids for d in load_deliveries(conn, event_id)]
    wanted = [d for d in found if state in (None, d.state) and destination in (None, d.destination)]
    return [DeliveryOut.of(d) for d in wanted[:limit]]


def _visible_delivery(ctx: ApiContext, caller: Principal, delivery_id: str) -> tuple[str, str]:
    query = (
        select(deliveries.c.event_id, deliveries.c.state, events.c.camera)
        .join(events, events.c.id == deliveries.c.event_id)
        .where(deliveries.c.id == delivery_id)
    )
    with ctx.store.db.read() as conn:
        row = conn.execute(query).first()
    if row is None or not caller.sees(row.camera):
        raise ApiError(404, f"no delivery {delivery_id}")
    return str(row.event_id), str(row.state)


@router.post(
    "/deliveries/{delivery_id}/retry",
    response_model=RetryOut,
    responses=errors(401, 403, 404),
)
def retry_delivery(ctx: Ctx, caller: Operator, delivery_id: DeliveryId) -> RetryOut:
    """Queue a dead or delivered delivery again, or make a waiting one due now."""
    event_id, state = _visible_delivery(ctx, caller, delivery_id)
    if state in (DEAD, DELIVERED):
        destination = _destination(ctx, delivery_id)
        ctx.store.replay([event_id], destination=destination)
    else:
        with ctx.store.db.write() as conn:  # only a waiting delivery: never one in flight
            conn.execute(
                update(deliveries)
                .where(deliveries.c.id == delivery_id, deliveries.c.state == PENDING)
                .where(deliveries.c.claim.is_(None))
                .values(next_attempt_at=ctx.store.clock())
            )
    ctx.audit.record(caller.subject, "delivery.retry", delivery_id, {"was": state})
    stored = next(d for d in ctx.store.deliveries(event_id) if d.id == delivery_id)
    return RetryOut(delivery=DeliveryOut.of(stored))


def _destination(ctx: ApiContext, delivery_id: str) -> str:
    with ctx.store.db.read() as conn:
        found = conn.execute(
            select(deliveries.c.destination).where(deliveries.c.id == delivery_id)
        ).scalar()
    return str(found)
