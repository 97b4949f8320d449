"""``/healthz`` (alive), ``/readyz`` (database answers, pipelines started) and
``/metrics`` (Prometheus text).

The health checks need no sign-in; ``/metrics`` needs a viewer's credentials or the
scrape token of ``api.metrics_token`` (``Authorization: Bearer <token>``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import text

from sightwire.api.auth import scrape_allowed
from sightwire.api.context import ApiContext, context
from sightwire.api.problems import errors
from sightwire.events.metrics import sightwire_registry

router = APIRouter(tags=["health"])
Ctx = Annotated[ApiContext, Depends(context)]


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Whether this server can do its work, and what is missing when it cannot."""

    ready: bool
    database: bool = Field(description="The event database answers")
    pipelines: Literal["running", "off", "failed"] = Field(
        description="off: serving without pipelines (--no-pipelines)"
    )
    failed_cameras: list[str] = Field(description="Cameras whose source failed")


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is alive."""
    return Health()


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"description": "Not ready", "model": Readiness}},
)
def readyz(ctx: Ctx) -> JSONResponse:
    """Ready when the database answers and, with pipelines, they have started."""
    try:
        with ctx.store.db.read() as conn:
            conn.execute(text("SELECT 1"))
        database = True
    except ctx.store.db.errors:
        database = False
    live = ctx.live
    runner = live.runner if live is not None else None
    failed = sorted(runner.failed) if runner is not None else []
    pipelines: Literal["running", "off", "failed"] = "off" if runner is None else "running"
    if runner is not None and failed and len(failed) == len(ctx.config.cameras):
        pipelines = "failed"
    ready = database and pipelines != "failed"
    body = Readiness(ready=ready, database=database, pipelines=pipelines, failed_cameras=failed)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/metrics",
    response_class=Response,
    dependencies=[Depends(scrape_allowed)],
    responses={
        200: {"description": "Prometheus text format", "content": {CONTENT_TYPE_LATEST: {}}},
        **errors(401, 403),
    },
)
def metrics() -> Response:
    """Sightwire's Prometheus metrics: events, deliveries, latencies, breakers."""
    return Response(generate_latest(sightwire_registry()), media_type=CONTENT_TYPE_LATEST)
