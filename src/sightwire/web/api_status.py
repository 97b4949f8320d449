"""``/api/v1/me`` (who the caller is) and ``/api/v1/status`` (what the Health page shows).

>>> percentile([10.0, 20.0, 30.0, 40.0], 0.5)
20.0
>>> percentile([], 0.95) is None
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from sightwire.api.auth import Viewer
from sightwire.api.context import ApiContext, context
from sightwire.api.problems import errors
from sightwire.api.queries import EventFilters, event_page
from sightwire.review.store import ReviewQueue
from sightwire.runtime.live import LiveView
from sightwire.security.principal import Principal

router = APIRouter(prefix="/api/v1", tags=["status"])
Ctx = Annotated[ApiContext, Depends(context)]
LATENCY_SAMPLE = 200  # recent events the latency figures come from


class Me(BaseModel):
    """The signed-in caller, so a page can show it and offer only what it may do."""

    subject: str = Field(description="key:<id> for an API key, the token's sub for OIDC")
    role: str = Field(description="viewer, operator or admin")
    cameras: list[str] | None = Field(description="The cameras it may see; null: every one")
    method: str = Field(description="api_key or oidc")


class SourceStatus(BaseModel):
    """One camera's source and processing counters."""

    camera: str
    state: str
    detail: str
    frames: int = Field(description="Frames read from the source")
    fps: float = Field(description="Frames processed per second lately")
    dropped: int = Field(description="Frames dropped because processing fell behind")
    reconnects: int
    processed: int
    events: int


class Latency(BaseModel):
    """Capture-to-emit latency of recent events, milliseconds."""

    events: int = Field(description="How many recent events the figures come from")
    p50_ms: float | None
    p95_ms: float | None


class Status(BaseModel):
    """Sources, queue depths, latency and delivery backlog."""

    pipelines: bool = Field(description="Whether pipelines run in this process")
    sources: list[SourceStatus]
    latency: Latency
    backlog: dict[str, int] = Field(description="Deliveries still to make, per destination")
    review_pending: int = Field(description="Items waiting in the review queue")


@router.get("/me", response_model=Me, responses=errors(401))
def me(caller: Viewer) -> Me:
    """Who the credentials belong to."""
    cameras = sorted(caller.cameras) if caller.cameras is not None else None
    return Me(subject=caller.subject, role=caller.role.value, cameras=cameras, method=caller.method)


@router.get("/status", response_model=Status, responses=errors(401, 403))
def status(ctx: Ctx, caller: Viewer) -> Status:
    """What the Health page shows (the caller's cameras only)."""
    runner = ctx.live.runner if ctx.live is not None else None
    sources = _sources(ctx.live, ctx.config.cameras, caller) if ctx.live is not None else []
    recent = event_page(ctx.store, EventFilters(limit=LATENCY_SAMPLE), caller).events
    latencies = sorted(e.data.latency_ms for e in recent if e.data.latency_ms is not None)
    latency = Latency(
        events=len(latencies), p50_ms=percentile(latencies, 0.5), p95_ms=percentile(latencies, 0.95)
    )
    pending = ReviewQueue(ctx.store.db).pending_count(cameras=caller.cameras)
    return Status(
        pipelines=runner is not None,
        sources=sources,
        latency=latency,
        backlog=ctx.store.pending_by_destination(),
        review_pending=pending,
    )


def _sources(live: LiveView, cameras: Iterable[str], caller: Principal) -> list[SourceStatus]:
    """Each visible camera's state (from the live view) and reader counters."""
    runner = live.runner
    if runner is None:
        return []
    # Reader counters (frames read, dropped, reconnects) come from the runner's summary;
    # a stand-in runner without one still gets the states.
    summary = getattr(runner, "summary", None)
    rows: list[dict[str, Any]] = summary() if callable(summary) else []
    counters = {row["camera"]: row for row in rows}
    found = []
    for camera in cameras:
        state = live.state(camera)
        if state is None or not caller.sees(camera):
            continue
        row = counters.get(camera, {})
        found.append(
            SourceStatus(
                camera=camera,
                state=state.state,
                detail=state.detail,
                fps=state.fps,
                frames=row.get("frames", 0),
                dropped=row.get("dropped", 0),
                reconnects=row.get("reconnects", 0),
                processed=state.processed,
                events=state.events,
            )
        )
    return found


def percentile(ordered: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile of sorted values; None for none."""
    if not ordered:
        return None
    rank = max(1, math.ceil(share * len(ordered)))
    return round(float(ordered[rank - 1]), 1)
