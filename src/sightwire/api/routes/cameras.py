"""``/api/v1/cameras``: state and counters, the latest frame, a live MJPEG stream.

>>> # GET /api/v1/cameras
>>> # GET /api/v1/cameras/belt-1/frame?overlays=true          (JPEG)
>>> # GET /api/v1/cameras/belt-1/stream?fps=5                  (multipart/x-mixed-replace)
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from sightwire.api.auth import Viewer, check_camera
from sightwire.api.context import ApiContext, context
from sightwire.api.drawing import draw_overlays, encode_jpeg
from sightwire.api.problems import ApiError, errors
from sightwire.api.routes.snapshots import JpegResponse
from sightwire.config.models import CameraConfig
from sightwire.runtime.pipeline import FrameResult
from sightwire.security.principal import Principal
from sightwire.sources.registry import KINDS

router = APIRouter(prefix="/api/v1/cameras", tags=["cameras"])
Ctx = Annotated[ApiContext, Depends(context)]
CameraName = Annotated[
    str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64, description="Camera name")
]
Overlays = Annotated[bool, Query(description="Draw boxes, track ids, zones and lines")]
BOUNDARY = "frame"


class CameraOut(BaseModel):
    """A camera: where it reads from (credentials hidden), its state and counters."""

    name: str
    source: str = Field(description="The source, without user, password or query string")
    kind: str = Field(
        description="Which source reads it: upload, stream, webcam, folder, image or video"
    )
    state: str | None = Field(description="connecting, streaming, ended, failed...; null: not run")
    detail: str = ""
    processed: int = 0
    with_motion: int = 0
    skipped_idle: int = 0
    objects: int = 0
    events: int = 0
    fps: float = Field(0.0, description="Frames processed per second lately")
    frames_shown: int = Field(0, description="Frames the API has seen from the pipeline")
    zones: list[str]
    lines: list[str]


def public_source(uri: str) -> str:
    """``uri`` without credentials or query string (tokens often ride there).

    >>> public_source("rtsp://admin:secret@10.0.0.5/stream1?token=x")
    'rtsp://***@10.0.0.5/stream1'
    """
    without_query = uri.split("?", 1)[0].split("#", 1)[0]
    return re.sub(r"^([a-zA-Z][a-zA-Z0-9+.\-]*://)[^/@]*@", r"\1***@", without_query)


def _kind(uri: str) -> str:
    for kind in KINDS:
        try:
            if kind.matches(uri):
                return kind.name
        except (OSError, ValueError):
            continue
    return "unknown"


def _camera(ctx: ApiContext, name: str, config: CameraConfig) -> CameraOut:
    live = ctx.live
    state = live.state(name) if live is not None else None
    latest = live.latest(name) if live is not None else None
    counters: dict[str, Any] = {}
    if state is not None:
        counters = {k: getattr(state, k) for k in state.__slots__}
    return CameraOut(
        name=name,
        source=public_source(config.source),
        kind=_kind(config.source),
        state=counters.pop("state", None),
        **counters,
        frames_shown=latest[0] if latest is not None else 0,
        zones=sorted(config.zones),
        lines=sorted(config.lines),
    )


def _config_of(ctx: ApiContext, caller: Principal, camera: str) -> CameraConfig:
    check_camera(caller, camera)
    config = ctx.config.cameras.get(camera)
    if config is None:
        raise ApiError(404, f"no camera {camera!r}")
    return config


@router.get("", response_model=list[CameraOut], responses=errors(401, 403))
def list_cameras(ctx: Ctx, caller: Viewer) -> list[CameraOut]:
    """The cameras the caller may see."""
    cameras = ctx.config.cameras.items()
    return [_camera(ctx, name, c) for name, c in cameras if caller.sees(name)]


@router.get("/{camera}", response_model=CameraOut, responses=errors(401, 403, 404))
def get_camera(ctx: Ctx, caller: Viewer, camera: CameraName) -> CameraOut:
    """One camera."""
    return _camera(ctx, camera, _config_of(ctx, caller, camera))


def _render(result: FrameResult, config: CameraConfig, overlays: bool) -> bytes:
    image = result.frame.image
    if overlays:
        image = draw_overlays(image, result.detections, config.zones, config.lines)
    return encode_jpeg(image)


@router.get(
    "/{camera}/frame",
    response_class=JpegResponse,
    responses={
        200: {"description": "The JPEG", "content": {"image/jpeg": {}}},
        **errors(401, 403, 404),
    },
)
def latest_frame(
    ctx: Ctx, caller: Viewer, camera: CameraName, overlays: Overlays = True
) -> Response:
    """The camera's newest processed (redacted) frame; 404 until there is one."""
    config = _config_of(ctx, caller, camera)
    latest = ctx.live.latest(camera) if ctx.live is not None else None
    if latest is None:
        raise ApiError(404, f"camera {camera!r} has no frame yet")
    ctx.audit.record(caller.subject, "camera.frame", camera)
    return JpegResponse(_render(latest[1], config, overlays))


@router.get(
    "/{camera}/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "JPEG frames, each replacing the last",
            "content": {f"multipart/x-mixed-replace; boundary={BOUNDARY}": {}},
        },
        **errors(401, 403, 404),
    },
)
async def live_stream(
    ctx: Ctx,
    caller: Viewer,
    camera: CameraName,
    overlays: Overlays = True,
    fps: Annotated[float, Query(gt=0, le=30, description="Most frames per second sent")] = 5.0,
) -> StreamingResponse:
    """The camera's processed frames as they come (MJPEG), at most ``fps`` a second."""
    config = _config_of(ctx, caller, camera)
    await run_in_threadpool(ctx.audit.record, caller.subject, "camera.stream", camera)
    return StreamingResponse(
        _mjpeg(ctx, camera, config, overlays, 1.0 / fps),
        media_type=f"multipart/x-mixed-replace; boundary={BOUNDARY}",
    )


async def _mjpeg(
    ctx: ApiContext, camera: str, config: CameraConfig, overlays: bool, interval: float
) -> AsyncIterator[bytes]:
    shown = -1
    while True:
        latest = ctx.live.latest(camera) if ctx.live is not None else None
        if latest is not None and latest[0] != shown:
            shown = latest[0]
            jpeg = await run_in_threadpool(_render, latest[1], config, overlays)
            head = (
                f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
            )
            yield head.encode() + jpeg + b"\r\n"
        await asyncio.sleep(interval)  # the frame rate cap; new frames are polled, not pushed
